/** The filter tree (RFC 7644 §3.4.2.2) as scim2-parse-filter builds it, and what a comparison node carries. */
import type { Filter } from 'scim2-parse-filter'

export type { Filter } from 'scim2-parse-filter'

/** A leaf of the tree: `attr pr` or `attr op value`. */
export type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>
/** A comparison value: parseFilter() gives unquoted numbers as strings of their text. */
export type Value = boolean | null | number | string

/** Which operators compare one attribute; typed over every op, so a new one must be sorted here. */
const COMPARES: Record<Filter['op'], boolean> = {
  and: false,
  or: false,
  not: false,
  '[]': false,
  pr: true,
  eq: true,
  ne: true,
  co: true,
  sw: true,
  ew: true,
  gt: true,
  ge: true,
  lt: true,
  le: true,
}

/**
 * Whether a node is a leaf comparison rather than `and`/`or`/`not`/a value path: the walkers
 * (evaluator, SQL compiler, PATCH path renaming) treat the ten leaf operators alike.
 */
export function isComparison(filter: Filter): filter is Comparison {
  return COMPARES[filter.op]
}
