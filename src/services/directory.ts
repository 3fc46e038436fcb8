/** The core directory as admins read it: users with their groups, groups with their nesting and members. */
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import { ScimError } from '../scim/errors.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import type { Deps } from './deps.js'

export {
  GROUP_ORDER_FIELDS,
  type GroupFilter,
  type GroupOrderField,
  USER_ORDER_FIELDS,
  type UserFilter,
  type UserOrderField,
} from '../store/directory.js'

/** The largest integer primary key either database stores (PostgreSQL `integer`). */
const MAX_USER_PK = 2_147_483_647

/** A user with the groups it is a direct member of; superuser through any of them. */
export interface UserDetail {
  user: DirectoryUser
  groups: DirectoryGroup[]
  isSuperuser: boolean
}

/** A group with the groups it belongs to (parents) and the groups that belong to it. */
export interface GroupDetail {
  group: DirectoryGroup
  parents: string[]
  children: string[]
}

export type UserListQuery = ListQuery<directory.UserFilter, directory.UserOrderField>
export type GroupListQuery = ListQuery<directory.GroupFilter, directory.GroupOrderField>

/** Adds each user's direct groups (one batched query). */
export async function userDetails(db: Executor, users: DirectoryUser[]): Promise<UserDetail[]> {
  const groups = await directory.groupsOfUsers(
    db,
    users.map((u) => u.pk),
  )
  return users.map((user) => {
    const own = groups.get(user.pk) ?? []
    return { user, groups: own, isSuperuser: own.some((g) => g.isSuperuser) }
  })
}

async function groupDetails(db: Executor, groups: DirectoryGroup[]): Promise<GroupDetail[]> {
  const hierarchy = await directory.groupHierarchy(
    db,
    groups.map((g) => g.id),
  )
  return groups.map((group) => ({
    group,
    parents: hierarchy.get(group.id)?.parents ?? [],
    children: hierarchy.get(group.id)?.children ?? [],
  }))
}

/** A user pk from a URL or filter: a positive integer the database can hold, else undefined. */
export function parseUserPk(text: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined
  const pk = Number(text)
  return pk >= 1 && pk <= MAX_USER_PK ? pk : undefined
}

export async function listUsers(deps: Deps, query: UserListQuery): Promise<ListPage<UserDetail>> {
  return listPage(
    query,
    () => directory.countUsers(deps.db, query.filter),
    async (page) =>
      userDetails(deps.db, await directory.listUsers(deps.db, query.filter, query.order, page)),
  )
}

export async function getUser(deps: Deps, pkText: string): Promise<UserDetail> {
  const pk = parseUserPk(pkText)
  const user = pk === undefined ? undefined : await directory.findUserByPk(deps.db, pk)
  if (!user) throw ScimError.notFound('User not found')
  const [detail] = await userDetails(deps.db, [user])
  return detail as UserDetail
}

export async function listGroups(
  deps: Deps,
  query: GroupListQuery,
): Promise<ListPage<GroupDetail>> {
  return listPage(
    query,
    () => directory.countGroups(deps.db, query.filter),
    async (page) =>
      groupDetails(deps.db, await directory.listGroups(deps.db, query.filter, query.order, page)),
  )
}

export async function getGroup(deps: Deps, id: string): Promise<GroupDetail> {
  const group = await directory.findGroupById(deps.db, id)
  if (!group) throw ScimError.notFound('Group not found')
  const [detail] = await groupDetails(deps.db, [group])
  return detail as GroupDetail
}

/**
 * The direct members of a group, one page at a time: a group may have a million members,
 * so they are never embedded in the group itself (authentik's `users` list is).
 */
export async function listGroupMembers(
  deps: Deps,
  id: string,
  query: UserListQuery,
): Promise<ListPage<UserDetail>> {
  const group = await directory.findGroupById(deps.db, id)
  if (!group) throw ScimError.notFound('Group not found')
  return listUsers(deps, { ...query, filter: { ...query.filter, groupsByPk: [id] } })
}

/** The users with exactly this username (an index probe): a few, as sources may share one. */
export async function findUsersByUsername(
  deps: Deps,
  username: string,
  limit = 5,
): Promise<DirectoryUser[]> {
  return directory.listUsers(deps.db, { username }, [], { offset: 0, limit })
}

/** The group with exactly this name (an index probe), if any. */
export async function findGroupByName(
  deps: Deps,
  name: string,
): Promise<DirectoryGroup | undefined> {
  return directory.findGroupByName(deps.db, name)
}
