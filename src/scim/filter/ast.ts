/** The filter tree (RFC 7644 §3.4.2.2) as scim2-parse-filter builds it, and what a comparison node carries. */
import type { Filter } from 'scim2-parse-filter'

export type { Filter } from 'scim2-parse-filter'

/** A leaf of the tree: `attr pr` or `attr op value`. */
export type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>
/** A comparison value: parseFilter() gives unquoted numbers as strings of their text. */
export type Value = boolean | null | number | string
