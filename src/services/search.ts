/**
 * The context filters and sort keys compile in, and the search across Users and Groups at a
 * source's root (RFC 7644 §3.4.2.1, §3.4.3): one filter, one sort order, one page over both.
 */
import type {
  ResourceRef,
  ScimGroupRecord,
  ScimUserRecord,
  Source,
  UserGroupRef,
} from '../core/domain.js'
import { parseFilter } from '../scim/filter/parse.js'
import type { ListParams } from '../scim/list.js'
import {
  GROUP_RESOURCE,
  type ResourceSchema,
  USER_RESOURCE,
} from '../scim/schema/resource-types.js'
import { listGroupsOfUsers, listMembers } from '../store/members.js'
import { compileFilter } from '../store/query/compile.js'
import type { FilterContext } from '../store/query/context.js'
import { sortExpression } from '../store/query/sort-keys.js'
import { countScimGroups } from '../store/scim-resources/groups.js'
import { listScimResources } from '../store/scim-resources/pages.js'
import { countScimUsers } from '../store/scim-resources/users.js'
import type { Deps } from './deps.js'
import type { ListResult } from './resource-common.js'

/**
 * What a filter on one of the source's resource types compiles against. `meta.location` and
 * `$ref` are built from SCIMD_BASE_URL, the only base URL a service knows.
 */
export function queryContext(
  deps: Deps,
  source: Source,
  resource: ResourceSchema,
  alsoSearching?: readonly ResourceSchema[],
): FilterContext {
  const origin = deps.config.baseUrl
  return {
    resource,
    dialect: deps.dialect,
    sourceId: source.id,
    baseUrl:
      origin === undefined
        ? undefined
        : `${origin}/source/scim/${encodeURIComponent(source.slug)}/v2`,
    ...(alsoSearching ? { alsoSearching } : {}),
  }
}

export type SearchItem =
  | { resourceType: 'User'; record: ScimUserRecord; groups?: UserGroupRef[] }
  | { resourceType: 'Group'; record: ScimGroupRecord; members?: ResourceRef[] }

export interface SearchReadOptions {
  withGroups: boolean
  withMembers: boolean
}

/**
 * Searches the source's Users and Groups together. An attribute that only one of the two
 * types has counts as "no value" for the other (RFC 7644 §3.4.2.1); one no type has is 400.
 */
export async function searchResources(
  deps: Deps,
  source: Source,
  params: ListParams,
  opts: SearchReadOptions,
): Promise<ListResult<SearchItem>> {
  const userCtx = queryContext(deps, source, USER_RESOURCE, [GROUP_RESOURCE])
  const groupCtx = queryContext(deps, source, GROUP_RESOURCE, [USER_RESOURCE])
  const filter = params.filter ? parseFilter(params.filter) : undefined
  const users = filter ? compileFilter(filter, userCtx) : undefined
  const groups = filter ? compileFilter(filter, groupCtx) : undefined
  const sort = params.sortBy
    ? {
        users: sortExpression(params.sortBy, params.sortOrder, userCtx),
        groups: sortExpression(params.sortBy, params.sortOrder, groupCtx),
      }
    : undefined
  const totalResults =
    (await countScimUsers(deps.reader, source.id, users)) +
    (await countScimGroups(deps.reader, source.id, groups))
  if (params.count === 0 || params.startIndex > totalResults) return { items: [], totalResults }
  const records = await listScimResources(deps.reader, source.id, {
    users,
    groups,
    offset: params.startIndex - 1,
    limit: params.count,
    sort: sort && {
      users: sort.users.expression,
      groups: sort.groups.expression,
      descending: sort.users.descending,
      nullable: true,
    },
  })
  const userPks = records.flatMap((item) =>
    item.resourceType === 'User' ? [item.record.userId] : [],
  )
  const groupsOfUsers = opts.withGroups
    ? await listGroupsOfUsers(deps.reader, source.id, userPks)
    : undefined
  const items: SearchItem[] = []
  for (const item of records) {
    if (item.resourceType === 'User') {
      const groupRefs = groupsOfUsers?.get(item.record.userId)
      items.push({ ...item, ...(groupRefs ? { groups: groupRefs } : {}) })
    } else {
      const memberRefs = opts.withMembers
        ? await listMembers(deps.reader, source.id, item.record.id)
        : undefined
      items.push({ ...item, ...(memberRefs ? { members: memberRefs } : {}) })
    }
  }
  return { items, totalResults }
}
