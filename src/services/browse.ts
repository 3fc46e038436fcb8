/**
 * Browsing a large directory page by page (the admin UI): a source's users and groups, a
 * group's members, the directory's users, each list an index walk whose cost follows the
 * page, not the size of the directory (store/browse.ts says what a search term matches).
 */
import type { DirectoryGroup, DirectoryUser, ScimGroupRecord, ScimUserRecord } from '../domain.js'
import { ScimError } from '../scim/errors.js'
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

/** A source's users in userName order, each with its directory user. */
export async function listSourceUsers(
  deps: Deps,
  slug: string,
  query: BrowseQuery,
): Promise<ListPage<{ record: ScimUserRecord; user: DirectoryUser }>> {
  const sourceId = await sourceIdOf(deps, slug)
  const term = query.term || undefined
  return listPage(
    query,
    () => browse.countSourceUsers(deps.db, sourceId, term),
    async (page) => {
      const records = await browse.listSourceUsers(deps.db, sourceId, term, page)
      const users = await directory.findUsersByPks(
        deps.db,
        records.map((r) => r.userId),
      )
      return records.flatMap((record) => {
        const user = users.get(record.userId)
        return user ? [{ record, user }] : []
      })
    },
  )
}

/** A source's groups in displayName order, each with its directory group. */
export async function listSourceGroups(
  deps: Deps,
  slug: string,
  query: BrowseQuery,
): Promise<ListPage<{ record: ScimGroupRecord; group: DirectoryGroup }>> {
  const sourceId = await sourceIdOf(deps, slug)
  const term = query.term || undefined
  return listPage(
    query,
    () => browse.countSourceGroups(deps.db, sourceId, term),
    async (page) => {
      const rows = await browse.listSourceGroups(deps.db, sourceId, term, page)
      const groups = await directory.findGroupsByIds(
        deps.db,
        rows.map((r) => r.groupId),
      )
      return rows.flatMap(({ record, groupId }) => {
        const group = groups.get(groupId)
        return group ? [{ record, group }] : []
      })
    },
  )
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
