/** Pieces every admin list shares: pages, ordering by allow-listed columns, and escaped text search. */
import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'

/** One page of an admin list: zero-based offset and a limit. */
export interface Page {
  offset: number
  limit: number
}

/** An allow-listed ordering field (the map from field to column lives beside each list). */
export interface OrderBy<F extends string> {
  field: F
  descending: boolean
}

/** Escapes `\`, `%` and `_` for a LIKE pattern whose escape character is `\`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`)
}

/**
 * `column` contains `term`, ignoring case on both dialects: the column is lower-cased in SQL
 * and compared with an escaped LIKE pattern (SQLite's LIKE ignores ASCII case, PostgreSQL's
 * does not, so neither default is relied on).
 */
export function containsIgnoringCase(column: string, term: string): RawBuilder<SqlBool> {
  const pattern = `%${escapeLike(term.toLowerCase())}%`
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`
}

/** `column` starts with `prefix`, case-sensitively on both dialects (substr, not LIKE). */
export function startsWith(column: string, prefix: string): RawBuilder<SqlBool> {
  // Both dialects count substr in characters (code points), not UTF-16 units.
  return sql<SqlBool>`substr(${sql.ref(column)}, 1, ${[...prefix].length}) = ${prefix}`
}

/** Any of the columns contains the term (authentik's `search`); undefined when there is no term. */
export function searchAny(
  columns: readonly string[],
  term: string | undefined,
): Expression<SqlBool> | undefined {
  if (term === undefined || term === '') return undefined
  const [first, ...rest] = columns.map((c) => containsIgnoringCase(c, term))
  if (!first) return undefined
  return rest.reduce<RawBuilder<SqlBool>>((acc, e) => sql<SqlBool>`(${acc} or ${e})`, first)
}

/** A count from COUNT(*), which PostgreSQL returns as a bigint string. */
export function toCount(n: number | string | bigint): number {
  return Number(n)
}

/**
 * The expression to order by first so that NULLs sort as PostgreSQL sorts them on both
 * dialects (last when ascending, first when descending; SQLite puts them first ascending).
 */
export function nullsLast(column: string): RawBuilder<number> {
  return sql<number>`(case when ${sql.ref(column)} is null then 1 else 0 end)`
}
