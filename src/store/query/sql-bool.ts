/** Small SQL building blocks the filter compiler shares: boolean constants, LIKE, concatenation. */
import { type RawBuilder, type SqlBool, sql } from 'kysely'

export type Compiled = RawBuilder<SqlBool>

export const TRUE = sql<SqlBool>`1 = 1`
export const FALSE = sql<SqlBool>`1 = 0`
export const constant = (value: boolean): Compiled => (value ? TRUE : FALSE)
export const not = (condition: Compiled): Compiled => sql<SqlBool>`(not ${condition})`

export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}

export function like(expr: RawBuilder<unknown>, pattern: string): Compiled {
  return sql<SqlBool>`${expr} like ${pattern} escape '\\'`
}

export function concat(...parts: Array<RawBuilder<unknown> | string>): RawBuilder<unknown> {
  return sql`(${sql.join(
    parts.map((p) => (typeof p === 'string' ? sql`${sql.lit(p)}` : p)),
    sql` || `,
  )})`
}
