/** sortBy (RFC 7644 §3.4.2.3) as an SQL expression over the connection table aliased `r`. */
import { type Expression, sql } from 'kysely'
import type { Dialect } from '../store/database.js'
import { ScimError } from './errors.js'
import { type ResourceSchema, resolveAttributePath } from './schemas.js'

const SORT_COLUMNS: Record<'User' | 'Group', Record<string, string>> = {
  User: {
    id: 'r.id',
    externalid: 'r.external_id',
    username: 'r.user_name_key',
    'meta.created': 'r.created',
    'meta.lastmodified': 'r.last_modified',
  },
  Group: {
    id: 'r.id',
    externalid: 'r.external_id',
    displayname: 'r.display_name_key',
    'meta.created': 'r.created',
    'meta.lastmodified': 'r.last_modified',
  },
}

export function sortExpression(
  sortBy: string,
  sortOrder: 'ascending' | 'descending',
  ctx: { resource: ResourceSchema; dialect: Dialect },
): { expression: Expression<unknown>; descending: boolean } {
  const resolved = resolveAttributePath(ctx.resource, sortBy)
  if (!resolved) throw ScimError.invalidValue(`Cannot sort by unknown attribute '${sortBy}'`)
  const column = SORT_COLUMNS[ctx.resource.name][resolved.canonicalPath.toLowerCase()]
  if (!column) throw ScimError.invalidValue(`Sorting by '${sortBy}' is not supported`)
  return { expression: sql.ref(column), descending: sortOrder === 'descending' }
}
