/**
 * Browsing a large directory page by page (the admin UI): a source's users and groups, a
 * group's members, the directory's users, each list an index walk whose cost follows the
 * page, not the size of the directory (store/browse.ts says what a search term matches).
 */
import type {
  DirectoryGroup,
  DirectoryUser,
  ScimGroupRecord,
  ScimUserRecord,
} from '../core/domain.js'
import { ScimError } from '../scim/errors.js'
import type { Page } from '../store/admin-query.js'
import * as browse from '../store/browse.js'
import * as directory from '../store/directory.js'
import * as sources from '../store/sources.js'
import { type ListPage, listPage } from './admin-list.js'
import type { Deps } from './deps.js'

export interface BrowseQuery {
  /** A search term; empty or undefined lists everything. */
  term?: string | undefined
  /** One-based. */
  page: number
  pageSize: number
}

async function sourceIdOf(deps: Deps, slug: string): Promise<string> {
  const source = await sources.findSourceBySlug(deps.db, slug)
  if (!source) throw ScimError.notFound('Source not found')
  return source.id
}

/**
 * A source's users in userName order, each with its directory user; with a term, the users
 * whose userName starts with it (any case), after those whose SCIM id, externalId or email
 * it is.
 */
export async function listSourceUsers(
  deps: Deps,
  slug: string,
  query: BrowseQuery,
): Promise<ListPage<{ record: ScimUserRecord; user: DirectoryUser }>> {
  const sourceId = await sourceIdOf(deps, slug)
  const found = await browse.searchSourceUsers(
    deps.db,
    sourceId,
    query.term || undefined,
    window(query),
  )
  const users = await directory.findUsersByPks(
    deps.db,
    found.items.map((r) => r.userId),
  )
  const items = found.items.flatMap((record) => {
    const user = users.get(record.userId)
    return user ? [{ record, user }] : []
  })
  return { items, count: found.count }
}

/** A source's groups in displayName order (a term: as listSourceUsers, without emails). */
export async function listSourceGroups(
  deps: Deps,
  slug: string,
  query: BrowseQuery,
): Promise<ListPage<{ record: ScimGroupRecord; group: DirectoryGroup }>> {
  const sourceId = await sourceIdOf(deps, slug)
  const found = await browse.searchSourceGroups(
    deps.db,
    sourceId,
    query.term || undefined,
    window(query),
  )
  const groups = await directory.findGroupsByIds(
    deps.db,
    found.items.map((r) => r.groupId),
  )
  const items = found.items.flatMap(({ record, groupId }) => {
    const group = groups.get(groupId)
    return group ? [{ record, group }] : []
  })
  return { items, count: found.count }
}

/** The rows of a one-based page; a page number too large to compute is an empty page. */
function window(query: BrowseQuery): Page {
  const offset = (query.page - 1) * query.pageSize
  return Number.isSafeInteger(offset) ? { offset, limit: query.pageSize } : { offset: 0, limit: 0 }
}

/** A group's direct members in username order; the term is searched within the group. */
export async function listGroupMembers(
  deps: Deps,
  groupId: string,
  query: BrowseQuery,
): Promise<ListPage<DirectoryUser>> {
  const term = query.term || undefined
  return listPage(
    query,
    () => browse.countMembers(deps.db, groupId, term),
    (page) => browse.listMembers(deps.db, groupId, term, page),
  )
}

/** The directory's users in username order; the term is a username prefix or a UUID. */
export async function listDirectoryUsers(
  deps: Deps,
  query: BrowseQuery,
): Promise<ListPage<DirectoryUser>> {
  const term = query.term || undefined
  return listPage(
    query,
    () => browse.countDirectoryUsers(deps.db, term),
    (page) => browse.listDirectoryUsers(deps.db, term, page),
  )
}
