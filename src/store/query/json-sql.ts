/**
 * The one place where SQLite and PostgreSQL SQL differ for filters and sorting: JSON access to
 * the `resource` text column (SQLite JSON1, PostgreSQL jsonb), case folding, byte-order
 * collation and substring tests. Every function returns a Kysely `sql` fragment; nothing here
 * runs a query. Both dialects give identical results for every fragment.
 */
import { type RawBuilder, type SqlBool, sql } from 'kysely'
import type { Dialect } from '../database.js'

/** A place in a JSON document: an SQL expression holding JSON, and object keys below it. */
export interface JsonPlace {
  dialect: Dialect
  /** SQLite: JSON text. PostgreSQL: jsonb. */
  base: RawBuilder<unknown>
  path: readonly string[]
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The JSON document stored in a text column (`r.resource`). */
export function jsonColumn(dialect: Dialect, column: string): JsonPlace {
  const ref = sql.ref(column)
  return { dialect, base: dialect === 'postgres' ? sql`(${ref}::jsonb)` : ref, path: [] }
}

/** The place of `key` inside an object place. */
export function jsonChild(place: JsonPlace, key: string): JsonPlace {
  return { ...place, path: [...place.path, key] }
}

/**
 * SQLite's JSON path for keys: `$.displayName`, `$."urn:…:User".manager`. Schema keys never
 * hold a double quote; the path is a literal (not a parameter) so that expression indexes
 * (`lower(json_extract(resource, '$.displayName'))`) match the query's expression.
 */
function sqlitePath(path: readonly string[]): string {
  let out = '$'
  for (const key of path) {
    if (key.includes('"')) throw new Error(`unsupported JSON key ${key}`)
    out += SIMPLE_KEY.test(key) ? `.${key}` : `."${key}"`
  }
  return out
}

/** PostgreSQL `base -> 'a' -> 'b'` (jsonb), with the last step `->>` when `asText`. */
function pgAccess(place: JsonPlace, asText: boolean): RawBuilder<unknown> {
  if (place.path.length === 0) return asText ? sql`(${place.base} #>> '{}')` : place.base
  let out: RawBuilder<unknown> = place.base
  place.path.forEach((key, i) => {
    const last = i === place.path.length - 1
    out = last && asText ? sql`${out} ->> ${sql.lit(key)}` : sql`${out} -> ${sql.lit(key)}`
  })
  return sql`(${out})`
}

/** The value at a place as SQL text (strings unquoted); NULL when absent. */
export function jsonText(place: JsonPlace): RawBuilder<unknown> {
  if (place.dialect === 'postgres') return pgAccess(place, true)
  if (place.path.length === 0) return place.base
  return sql`json_extract(${place.base}, ${sql.lit(sqlitePath(place.path))})`
}

/** The JSON type at a place: true when it is the JSON literal `true` / `false` / an object. */
export function jsonIs(
  place: JsonPlace,
  what: 'true' | 'false' | 'boolean' | 'object',
): RawBuilder<SqlBool> {
  if (place.dialect === 'postgres') {
    const value = pgAccess(place, false)
    switch (what) {
      case 'true':
        return sql<SqlBool>`coalesce(${value} = 'true'::jsonb, false)`
      case 'false':
        return sql<SqlBool>`coalesce(${value} = 'false'::jsonb, false)`
      case 'boolean':
        return sql<SqlBool>`coalesce(jsonb_typeof(${value}) = 'boolean', false)`
      case 'object':
        return sql<SqlBool>`coalesce(jsonb_typeof(${value}) = 'object', false)`
    }
  }
  const type =
    place.path.length === 0
      ? sql`json_type(${place.base})`
      : sql`json_type(${place.base}, ${sql.lit(sqlitePath(place.path))})`
  switch (what) {
    case 'true':
    case 'false':
    case 'object':
      return sql<SqlBool>`coalesce(${type} = ${sql.lit(what)}, false)`
    case 'boolean':
      return sql<SqlBool>`coalesce(${type} in ('true', 'false'), false)`
  }
}

/** A sort key for a JSON boolean: false before true on both dialects, NULL when absent. */
export function jsonBooleanSortKey(place: JsonPlace): RawBuilder<unknown> {
  if (place.dialect === 'postgres') {
    const value = pgAccess(place, false)
    return sql`(case when jsonb_typeof(${value}) = 'boolean' then ${pgAccess(place, true)} end)`
  }
  const path = sql.lit(sqlitePath(place.path))
  return sql`(case json_type(${place.base}, ${path}) when 'false' then 'false' when 'true' then 'true' end)`
}

/** The elements of a JSON array, as a FROM item with an alias: one row per element. */
export interface JsonElements {
  from: RawBuilder<unknown>
  element: JsonPlace
  /** The element's 0- or 1-based position: orders elements as stored. */
  position: RawBuilder<unknown>
}

/** `alias` must be an internal identifier (`j0`, `j1`, …), never client text. */
export function jsonArrayElements(place: JsonPlace, alias: string): JsonElements {
  if (!/^[a-z][a-z0-9_]*$/.test(alias)) throw new Error(`bad alias ${alias}`)
  const name = sql.raw(alias)
  if (place.dialect === 'postgres') {
    const value = pgAccess(place, false)
    return {
      // A non-array (never stored, but never an error either) yields no rows.
      from: sql`jsonb_array_elements(case when jsonb_typeof(${value}) = 'array' then ${value} end) with ordinality as ${name}(elem, ord)`,
      element: { dialect: 'postgres', base: sql`${name}.elem`, path: [] },
      position: sql`${name}.ord`,
    }
  }
  return {
    from: sql`json_each(${place.base}, ${sql.lit(sqlitePath(place.path))}) as ${name}`,
    element: { dialect: 'sqlite', base: sql`${name}.value`, path: [] },
    position: sql`${name}.key`,
  }
}

/**
 * ASCII-only lower-casing: SQLite's built-in lower() folds ASCII letters only, so PostgreSQL
 * uses translate() rather than its locale-dependent lower() to give the same answer.
 */
export function foldAscii(dialect: Dialect, expr: RawBuilder<unknown>): RawBuilder<unknown> {
  if (dialect === 'postgres') return sql`translate(${expr}, ${sql.lit(UPPER)}, ${sql.lit(LOWER)})`
  return sql`lower(${expr})`
}

/** The same ASCII-only lower-casing in JavaScript, for the values compared with foldAscii(). */
export function foldAsciiValue(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/**
 * Byte-order (code point) comparison: SQLite's default BINARY collation; PostgreSQL's "C"
 * collation, whatever the database's default collation is.
 */
export function binaryOrder(dialect: Dialect, expr: RawBuilder<unknown>): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`(${expr} collate "C")` : expr
}

/** A string parameter typed as text (PostgreSQL cannot pick length(unknown) otherwise). */
export function textValue(value: string): RawBuilder<unknown> {
  return sql`cast(${value} as text)`
}

/** Case-exact "contains": instr() in SQLite, strpos() in PostgreSQL (LIKE ignores ASCII case in SQLite). */
export function containsExact(
  dialect: Dialect,
  haystack: RawBuilder<unknown>,
  needle: string,
): RawBuilder<SqlBool> {
  const fn = dialect === 'postgres' ? sql`strpos` : sql`instr`
  return sql<SqlBool>`${fn}(${haystack}, ${textValue(needle)}) > 0`
}

/** Case-exact "starts with" on both dialects (substr and length count characters in both). */
export function startsWithExact(
  haystack: RawBuilder<unknown>,
  prefix: string,
): RawBuilder<SqlBool> {
  const p = textValue(prefix)
  return sql<SqlBool>`substr(${haystack}, 1, length(${p})) = ${p}`
}

/** Case-exact "ends with"; the length test keeps SQLite's negative substr() start away. */
export function endsWithExact(haystack: RawBuilder<unknown>, suffix: string): RawBuilder<SqlBool> {
  const s = textValue(suffix)
  return sql<SqlBool>`(length(${haystack}) >= length(${s}) and substr(${haystack}, length(${haystack}) - length(${s}) + 1) = ${s})`
}

/** Text of an integer expression (`W/"3"` versions). */
export function integerText(expr: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`cast(${expr} as text)`
}
