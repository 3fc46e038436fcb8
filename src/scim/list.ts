/** Query parameters of SCIM list and search requests (RFC 7644 §3.4.2, §3.4.3). */
import { ScimError } from './errors.js'

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ScimError }

export interface ListParams {
  filter: string | undefined
  /** 1-based (RFC 7644 §3.4.2.4); values below 1 are read as 1. */
  startIndex: number
  count: number
  sortBy: string | undefined
  sortOrder: 'ascending' | 'descending'
  attributes: string | undefined
  excludedAttributes: string | undefined
}

function parseInteger(name: string, raw: string | number | undefined): Parsed<number | undefined> {
  if (raw === undefined || raw === '') return { ok: true, value: undefined }
  // In a query string, decimal digits only: Number() would also read '0x10', '1e3' and a
  // blank (as 0).
  if (typeof raw === 'string' && !/^\s*[+-]?\d+\s*$/.test(raw)) {
    return { ok: false, error: ScimError.invalidValue(`'${name}' must be an integer`) }
  }
  const n = typeof raw === 'number' ? raw : Number(raw.trim())
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    return { ok: false, error: ScimError.invalidValue(`'${name}' must be an integer`) }
  }
  return { ok: true, value: n }
}

/** Parses list parameters from a query string or a SearchRequest body alike. */
export function parseListParams(
  get: (name: string) => string | number | undefined,
  maxResults: number,
): Parsed<ListParams> {
  const start = parseInteger('startIndex', get('startIndex'))
  if (!start.ok) return start
  const count = parseInteger('count', get('count'))
  if (!count.ok) return count
  const order = get('sortOrder')
  const sortOrder = order === undefined ? 'ascending' : String(order).toLowerCase()
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') {
    return {
      ok: false,
      error: ScimError.invalidValue("'sortOrder' must be 'ascending' or 'descending'"),
    }
  }
  const str = (name: string) => {
    const v = get(name)
    return v === undefined || v === '' ? undefined : String(v)
  }
  return {
    ok: true,
    value: {
      filter: str('filter'),
      // A start past the last resource is an empty page, however far past: clamped to where
      // numbers are still exact (SQLite refuses an OFFSET from 2^63 on, a 500 before).
      startIndex: Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, start.value ?? 1)),
      count: Math.min(maxResults, Math.max(0, count.value ?? maxResults)),
      sortBy: str('sortBy'),
      sortOrder,
      attributes: str('attributes'),
      excludedAttributes: str('excludedAttributes'),
    },
  }
}
