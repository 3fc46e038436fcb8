/** A SCIM list or search request's filter and sortBy, compiled once for one resource type of one source. */
import type { Expression, SqlBool } from 'kysely'
import type { Filter } from '../../scim/filter/ast.js'
import type { ResourceSchema } from '../../scim/schema/resource-types.js'
import type { Dialect } from '../database.js'
import { compileFilter } from './compile.js'
import type { FilterContext } from './context.js'
import { isIndexNarrowed } from './index-hints.js'
import { type SortSpec, sortExpression } from './sort-keys.js'

/** What a list request asks of one resource type; the filter already parsed (scim/filter). */
export interface ResourceRequest {
  filter: Filter | undefined
  sortBy: string | undefined
  sortOrder: 'ascending' | 'descending'
}

/** Where a source's resources are, for filters that name `meta.location` or `$ref`. */
export interface SourceScope {
  dialect: Dialect
  sourceId: string
  /** The source's SCIM base URL (`…/v2`), when SCIMD_BASE_URL is configured. */
  baseUrl: string | undefined
}

/** The request as SQL: a WHERE expression, a sort key and whether an index narrows it. */
export interface ResourceQuery {
  where: Expression<SqlBool> | undefined
  sort: SortSpec | undefined
  /** An index narrows the filter (index-hints.ts): read the few rows, then sort them. */
  narrowed: boolean
}

/**
 * Compiles a request for `resource` (RFC 7644 §3.4.2); `alsoSearching` are the other types
 * of a search across types (§3.4.2.1), whose attributes have no value on this one.
 */
export function compileResourceQuery(
  request: ResourceRequest,
  scope: SourceScope,
  resource: ResourceSchema,
  alsoSearching?: readonly ResourceSchema[],
): ResourceQuery {
  const ctx: FilterContext = {
    resource,
    dialect: scope.dialect,
    sourceId: scope.sourceId,
    baseUrl: scope.baseUrl,
    ...(alsoSearching ? { alsoSearching } : {}),
  }
  const { filter, sortBy } = request
  return {
    where: filter ? compileFilter(filter, ctx) : undefined,
    sort: sortBy ? sortExpression(sortBy, request.sortOrder, ctx) : undefined,
    narrowed: filter !== undefined && isIndexNarrowed(filter, ctx),
  }
}
