/**
 * What a filter comparison means, independent of where it is evaluated: booleans, dateTimes,
 * code-point order and the text comparisons.
 *
 * Semantics, identical on SQLite and PostgreSQL:
 * - A comparison on a multi-valued attribute matches when any value matches; `ne` is the
 *   complement of `eq` (`emails.type ne "work"`: no work email), so an absent attribute is
 *   `ne` anything. `eq null` means "not present", `ne null` means `pr`. `pr` is false for
 *   absent values, empty strings and empty arrays (RFC 7643 §2.5).
 * - Strings follow the attribute's caseExact. userName, the Group displayName and (as an
 *   index) emails.value have lower-cased key columns: those compare with full Unicode
 *   lower-casing (JavaScript toLowerCase, the same key their uniqueness uses). Other
 *   case-insensitive strings live in the JSON document and fold ASCII letters only, because
 *   that is what SQLite's lower() does; PostgreSQL uses translate() to match it.
 * - Ordering (`gt ge lt le`) compares strings by code point (SQLite BINARY, PostgreSQL
 *   COLLATE "C") and dateTimes as instants; on booleans and binary it is 400.
 * - `co sw ew` never treat `%` and `_` as wildcards; on dateTimes they test the stored
 *   ISO-8601 text (SCIMMY's `date co "2021-09"`).
 * - A boolean compared with anything but true/false (or "True"/"False", as Entra sends)
 *   matches nothing; a string attribute compared with a number compares with its text.
 * - `attr op value` on a complex attribute with a `value` sub-attribute means
 *   `attr.value op value` (Entra's `manager eq 2819…`); enterprise attributes may be named
 *   without their URN where no core attribute has the name.
 */
import { assertNever } from '../errors.js'
import type { Comparison, Value } from './ast.js'

/** A boolean filter value: true/false, or the strings "true"/"false" in any case (Entra). */
export function toBoolean(value: Value): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
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

/** The same comparisons in JavaScript, for constant operands (`meta.resourceType`). */
export function compareText(
  actual: string | undefined,
  op: Exclude<Comparison['op'], 'pr' | 'ne'>,
  wanted: string,
): boolean {
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
