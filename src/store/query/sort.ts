/**
 * sortBy / sortOrder (RFC 7644 §3.4.2.3) as an SQL sort key over the connection table
 * aliased `r`: any attribute a filter can name, sub-attributes included; multi-valued ones
 * sort by their primary (else first) value. Resources without a value sort last in
 * ascending order and first in descending order (absent is greater than every value).
 */
import type { Expression } from 'kysely'
import { attributeSortKey, type FilterContext } from '../../scim/filter.js'

export interface SortSpec {
  expression: Expression<unknown>
  descending: boolean
  /** False when every resource has a value, so no NULLS FIRST/LAST clause is needed. */
  nullable: boolean
}

export function sortExpression(
  sortBy: string,
  sortOrder: 'ascending' | 'descending',
  ctx: FilterContext,
): SortSpec {
  const key = attributeSortKey(sortBy, ctx)
  return {
    expression: key.expression,
    descending: sortOrder === 'descending',
    nullable: key.nullable,
  }
}
