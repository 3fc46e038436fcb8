/** The filter tree (RFC 7644 §3.4.2.2) as scim2-parse-filter builds it, and what a comparison node carries. */
import type { Filter } from 'scim2-parse-filter'

export type { Filter } from 'scim2-parse-filter'

/** A leaf of the tree: `attr pr` or `attr op value`. */
export type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>
/** A comparison value as the parser reads it. */
export type Value = boolean | null | number | string

/** The text of number literals, kept so that `employeeNumber eq 007` compares with "007". */
export const NUMBER_TEXT = new WeakMap<object, string>()
