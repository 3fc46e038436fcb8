/**
 * What a filter comparison means (RFC 7644 §3.4.2.2), decided once here and carried out by
 * both executors: the SQL compiler (store/query/compile.ts) and the in-memory evaluator
 * (evaluate.ts, which PATCH value filters use). A property test checks that they agree.
 *
 * - A comparison on a multi-valued attribute matches when any value matches; `ne` is the
 *   complement of `eq` (`emails.type ne "work"`: no work email), so an absent attribute is
 *   `ne` anything. `eq null` means "not present", `ne null` means `pr`. `pr` is false for
 *   absent values, empty strings and empty arrays (RFC 7643 §2.5).
 * - Strings follow the attribute's caseExact. Case-insensitive ones compare after foldCase()
 *   on both sides: full Unicode lower-casing (`"élodie"` finds "Élodie"), the same key the
 *   `*_key` columns and their uniqueness use.
 * - Ordering (`gt ge lt le`) compares strings by code point (SQLite BINARY, PostgreSQL
 *   COLLATE "C") and dateTimes as instants (parseDateTime); on booleans and binary it is 400.
 * - `co sw ew` test text; on dateTimes they test the stored ISO-8601 text (SCIMMY's
 *   `date co "2021-09"`).
 * - A boolean compared with anything but true/false (or "True"/"False", as Entra sends)
 *   matches nothing; a string attribute compared with a number compares with its text.
 */
import { assertNever, ScimError } from '../errors.js'
import { readBoolean } from '../normalize.js'
import type { AttributeDefinition } from '../schema/resource-types.js'
import type { Comparison, Value } from './ast.js'

/** The one case folding of case-insensitive strings (RFC 7643 §2.3.1 caseExact false). */
export function foldCase(text: string): string {
  return text.toLowerCase()
}

/** A boolean filter value: true/false, or "true"/"false" in any case (normalize.ts readBoolean). */
export function toBoolean(value: Value): boolean | undefined {
  return readBoolean(value)
}

/**
 * An ISO-8601 dateTime (RFC 7643 §2.3.5) as the stored form (`toISOString()`), or
 * undefined. Dates and year-months (`2021-09`) mean their first instant; a missing offset
 * means UTC; fractions of any length (Microsoft sends 7 digits) are cut to milliseconds.
 */
export function parseDateTime(text: string): string | undefined {
  const m =
    /^(\d{4})-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?$/.exec(
      text.trim(),
    )
  if (!m) return undefined
  const [, y, mo, d = '01', h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'))
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const check = new Date(0)
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  check.setUTCHours(Number(h), Number(mi), Number(s), ms)
  let time = check.getTime()
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined
  }
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const [offsetHours, offsetMinutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))]
    // RFC 3339 §5.6: an offset is hours 00-23 and minutes 00-59 (+25:00 is no offset).
    if (offsetHours > 23 || offsetMinutes > 59) return undefined
    time -= sign * (offsetHours * 60 + offsetMinutes) * 60_000
  }
  if (Number(y) < 1) return undefined
  const iso = new Date(time).toISOString()
  // Years beyond 9999 print as +010000-…, which would not compare as text.
  return /^\d{4}-/.test(iso) ? iso : undefined
}

/** Compares code point by code point, as SQLite's BINARY and PostgreSQL's "C" collations do. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) as number) - (y[i]?.codePointAt(0) as number)
    if (d !== 0) return d
  }
  return x.length - y.length
}

/** The text comparisons, in JavaScript: code point order, plain substring tests. */
export function compareText(actual: string | undefined, op: TextOp, wanted: string): boolean {
  if (actual === undefined) return false
  switch (op) {
    case 'eq':
      return actual === wanted
    case 'gt':
      return compareCodePoints(actual, wanted) > 0
    case 'ge':
      return compareCodePoints(actual, wanted) >= 0
    case 'lt':
      return compareCodePoints(actual, wanted) < 0
    case 'le':
      return compareCodePoints(actual, wanted) <= 0
    case 'co':
      return actual.includes(wanted)
    case 'sw':
      return actual.startsWith(wanted)
    case 'ew':
      return actual.endsWith(wanted)
    default:
      return assertNever(op)
  }
}

/** The operators that compare text once null, `ne` and booleans are decided. */
export type TextOp = 'eq' | 'gt' | 'ge' | 'lt' | 'le' | 'co' | 'sw' | 'ew'

/**
 * What one comparison of an attribute value asks, with `negate` for `ne` and `eq null`:
 * - `present`: the value is there (not null, not "", for booleans a JSON boolean);
 * - `boolean`: the value is this boolean (`wanted` undefined: matches nothing);
 * - `text`: the value's text, folded with foldCase() when `fold`, compares with `wanted`
 *   (already folded, or the dateTime's stored ISO form);
 * - `constant`: decided without looking at the value.
 */
export type ComparisonPlan =
  | { kind: 'present'; negate: boolean }
  | { kind: 'boolean'; wanted: boolean | undefined; negate: boolean }
  | { kind: 'text'; op: TextOp; wanted: string; fold: boolean; negate: boolean }
  | { kind: 'constant'; value: boolean }

/** The text of a comparison value; numbers as the parser kept them, else as JavaScript prints them. */
export function valueText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value
}

/**
 * Decides one comparison of an attribute (or sub-attribute) with its definition; a
 * comparison the attribute's type does not allow is 400 invalidFilter.
 */
export function planComparison(definition: AttributeDefinition, node: Comparison): ComparisonPlan {
  if (definition.type === 'complex') {
    throw ScimError.invalidFilter(`'${node.attrPath}' is complex: name one of its sub-attributes`)
  }
  if (node.op === 'pr') return { kind: 'present', negate: false }
  const value = node.compValue
  if (value === null) {
    if (node.op === 'eq') return { kind: 'present', negate: true }
    if (node.op === 'ne') return { kind: 'present', negate: false }
    throw ScimError.invalidFilter(`'${node.op}' cannot compare with null`)
  }
  if (node.op === 'ne') {
    const eq = planComparison(definition, { op: 'eq', attrPath: node.attrPath, compValue: value })
    return eq.kind === 'constant' ? { kind: 'constant', value: !eq.value } : { ...eq, negate: true }
  }
  const op = node.op
  const isOrdering = op === 'gt' || op === 'ge' || op === 'lt' || op === 'le'
  if (definition.type === 'boolean' || (definition.type === 'binary' && isOrdering)) {
    if (op !== 'eq') {
      throw ScimError.invalidFilter(
        `'${op}' is not allowed on ${definition.type} attribute '${node.attrPath}'`,
      )
    }
  }
  if (definition.type === 'boolean') {
    return { kind: 'boolean', wanted: toBoolean(value), negate: false }
  }
  if (typeof value === 'boolean') {
    if (op === 'eq') return { kind: 'constant', value: false }
    throw ScimError.invalidFilter(`'${node.attrPath}' cannot be compared with a boolean`)
  }
  const raw = valueText(value)
  if (definition.type === 'dateTime' && (op === 'eq' || isOrdering)) {
    const iso = parseDateTime(raw)
    if (iso === undefined) throw ScimError.invalidFilter(`Invalid dateTime '${raw}' in filter`)
    return { kind: 'text', op, wanted: iso, fold: false, negate: false }
  }
  const fold = !definition.caseExact && definition.type !== 'dateTime'
  return { kind: 'text', op, wanted: fold ? foldCase(raw) : raw, fold, negate: false }
}
