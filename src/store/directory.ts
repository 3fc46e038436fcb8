/** Core directory rows: users, groups and their memberships (what the admin API shows). */
import { type Expression, type SqlBool, sql } from 'kysely'
import type { DirectoryGroup, DirectoryUser, UserType } from '../core/domain.js'
import { foldCase as foldText } from '../scim/filter/semantics.js'
import {
  nullsLast,
  type OrderBy,
  type Page,
  searchAny,
  startsWith,
  toCount,
} from './admin-query.js'
import {
  dialectOf,
  type Executor,
  type GroupRow,
  type InsertableUserRow,
  type UpdateableUserRow,
  type UserRow,
} from './database.js'
import { preparedRowQuery } from './prepared.js'
import { foldCase } from './query/json-sql.js'

/** Ordering fields whose column may be NULL (ordered alike on both dialects). */
const NULLABLE_ORDER_FIELDS = new Set<string>(['last_login'])

export function toDirectoryUser(row: UserRow): DirectoryUser {
  return {
    pk: row.id,
    uuid: row.uuid,
    username: row.username,
    name: row.name,
    email: row.email,
    isActive: row.is_active === 1,
    type: row.type as UserType,
    path: row.path,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    dateJoined: row.date_joined,
    lastLogin: row.last_login,
    lastUpdated: row.last_updated,
  }
}

export function toDirectoryGroup(row: GroupRow): DirectoryGroup {
  return {
    id: row.id,
    name: row.name,
    isSuperuser: row.is_superuser === 1,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
  }
}

const insertUserRow = preparedRowQuery((db, row: InsertableUserRow) =>
  db.insertInto('users').values(row).returning('id').compile(),
)

export async function insertUser(db: Executor, row: InsertableUserRow): Promise<number> {
  const [inserted] = await insertUserRow(db, row)
  if (!inserted) throw new Error('insert into users returned no id')
  return inserted.id
}

export async function updateUser(db: Executor, pk: number, row: UpdateableUserRow): Promise<void> {
  await db.updateTable('users').set(row).where('id', '=', pk).execute()
}

export async function deleteUser(db: Executor, pk: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', pk).execute()
}

export async function findUserByPk(db: Executor, pk: number): Promise<DirectoryUser | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', pk).executeTakeFirst()
  return row && toDirectoryUser(row)
}

export async function findUserByUsername(
  db: Executor,
  username: string,
): Promise<DirectoryUser | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('username', '=', username)
    .orderBy('id')
    .executeTakeFirst()
  return row && toDirectoryUser(row)
}

/** Whether the user belongs to any superuser group (authentik's `is_superuser`). */
export async function isSuperuser(db: Executor, pk: number): Promise<boolean> {
  const row = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select('groups.id')
    .where('group_members.user_id', '=', pk)
    .where('groups.is_superuser', '=', 1)
    .executeTakeFirst()
  return row !== undefined
}

export async function insertGroup(
  db: Executor,
  group: {
    id: string
    name: string
    isSuperuser?: boolean
    attributes?: Record<string, unknown>
    now: string
  },
): Promise<void> {
  await db
    .insertInto('groups')
    .values({
      id: group.id,
      name: group.name,
      is_superuser: group.isSuperuser ? 1 : 0,
      ...(group.attributes ? { attributes: JSON.stringify(group.attributes) } : {}),
      created_at: group.now,
      last_updated: group.now,
    })
    .execute()
}

export async function findGroupByName(
  db: Executor,
  name: string,
): Promise<DirectoryGroup | undefined> {
  const row = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst()
  return row && toDirectoryGroup(row)
}

export async function addGroupMember(db: Executor, groupId: string, userPk: number): Promise<void> {
  await db
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: userPk })
    .onConflict((oc) => oc.doNothing())
    .execute()
}

export async function findUsersByPks(
  db: Executor,
  pks: readonly number[],
): Promise<Map<number, DirectoryUser>> {
  const users = new Map<number, DirectoryUser>()
  for (let i = 0; i < pks.length; i += 500) {
    const rows = await db
      .selectFrom('users')
      .selectAll()
      .where('id', 'in', pks.slice(i, i + 500))
      .execute()
    for (const row of rows) users.set(row.id, toDirectoryUser(row))
  }
  return users
}

export async function findGroupById(db: Executor, id: string): Promise<DirectoryGroup | undefined> {
  const row = await db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toDirectoryGroup(row)
}

/** The groups each of the given users is a direct member of, in name order. */
export async function groupsOfUsers(
  db: Executor,
  pks: readonly number[],
): Promise<Map<number, DirectoryGroup[]>> {
  const result = new Map<number, DirectoryGroup[]>(pks.map((pk) => [pk, []]))
  for (let i = 0; i < pks.length; i += 500) {
    const rows = await db
      .selectFrom('group_members as gm')
      .innerJoin('groups as g', 'g.id', 'gm.group_id')
      .selectAll('g')
      .select('gm.user_id')
      .where('gm.user_id', 'in', pks.slice(i, i + 500))
      .orderBy('g.name')
      .orderBy('g.id')
      .execute()
    for (const { user_id, ...group } of rows) result.get(user_id)?.push(toDirectoryGroup(group))
  }
  return result
}

/** For each group, the ids of the groups it is a member of (parents) and of its member groups. */
export async function groupHierarchy(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, { parents: string[]; children: string[] }>> {
  const result = new Map(
    ids.map((id) => [id, { parents: [] as string[], children: [] as string[] }]),
  )
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    const asChild = await db
      .selectFrom('group_parents')
      .selectAll()
      .where('group_id', 'in', chunk)
      .orderBy('parent_id')
      .execute()
    for (const r of asChild) result.get(r.group_id)?.parents.push(r.parent_id)
    const asParent = await db
      .selectFrom('group_parents')
      .selectAll()
      .where('parent_id', 'in', chunk)
      .orderBy('group_id')
      .execute()
    for (const r of asParent) result.get(r.parent_id)?.children.push(r.group_id)
  }
  return result
}

const USER_ORDER_COLUMNS = {
  pk: 'u.id',
  username: 'u.username',
  name: 'u.name',
  email: 'u.email',
  is_active: 'u.is_active',
  type: 'u.type',
  path: 'u.path',
  date_joined: 'u.date_joined',
  last_login: 'u.last_login',
  last_updated: 'u.last_updated',
} as const
export type UserOrderField = keyof typeof USER_ORDER_COLUMNS
export const USER_ORDER_FIELDS = Object.keys(USER_ORDER_COLUMNS) as UserOrderField[]

/** authentik's user filters (exact unless named otherwise) and `search`. */
export interface UserFilter {
  username?: string | undefined
  name?: string | undefined
  email?: string | undefined
  uuid?: string | undefined
  path?: string | undefined
  pathStartswith?: string | undefined
  isActive?: boolean | undefined
  isSuperuser?: boolean | undefined
  types?: readonly UserType[] | undefined
  /** Direct members of any of these groups. */
  groupsByPk?: readonly string[] | undefined
  groupsByName?: readonly string[] | undefined
  search?: string | undefined
}

function filteredUsers(db: Executor, filter: UserFilter) {
  let query = db.selectFrom('users as u')
  if (filter.username !== undefined) query = query.where('u.username', '=', filter.username)
  if (filter.name !== undefined) query = query.where('u.name', '=', filter.name)
  if (filter.email !== undefined) query = query.where('u.email', '=', filter.email)
  if (filter.uuid !== undefined) query = query.where('u.uuid', '=', filter.uuid)
  if (filter.path !== undefined) query = query.where('u.path', '=', filter.path)
  if (filter.pathStartswith !== undefined)
    query = query.where(startsWith('u.path', filter.pathStartswith))
  if (filter.isActive !== undefined)
    query = query.where('u.is_active', '=', filter.isActive ? 1 : 0)
  if (filter.types !== undefined && filter.types.length > 0)
    query = query.where('u.type', 'in', filter.types)
  if (filter.isSuperuser !== undefined) {
    const superuser = sql<SqlBool>`exists (select 1 from group_members gm
      join groups g on g.id = gm.group_id
      where gm.user_id = u.id and g.is_superuser = 1)`
    query = query.where(filter.isSuperuser ? superuser : sql<SqlBool>`not ${superuser}`)
  }
  if (filter.groupsByPk !== undefined && filter.groupsByPk.length > 0) {
    const ids = filter.groupsByPk
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members as gm')
          .select('gm.user_id')
          .whereRef('gm.user_id', '=', 'u.id')
          .where('gm.group_id', 'in', ids),
      ),
    )
  }
  if (filter.groupsByName !== undefined && filter.groupsByName.length > 0) {
    const names = filter.groupsByName
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members as gm')
          .innerJoin('groups as g', 'g.id', 'gm.group_id')
          .select('gm.user_id')
          .whereRef('gm.user_id', '=', 'u.id')
          .where('g.name', 'in', names),
      ),
    )
  }
  const search = searchAny(['u.username', 'u.name', 'u.email', 'u.uuid'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countUsers(db: Executor, filter: UserFilter): Promise<number> {
  const { n } = await filteredUsers(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of users, default order by username; the pk breaks ties. */
export async function listUsers(
  db: Executor,
  filter: UserFilter,
  order: ReadonlyArray<OrderBy<UserOrderField>>,
  page: Page,
): Promise<DirectoryUser[]> {
  let query = filteredUsers(db, filter).selectAll('u')
  const orders = order.length > 0 ? order : [{ field: 'username' as const, descending: false }]
  for (const o of orders) {
    if (NULLABLE_ORDER_FIELDS.has(o.field))
      query = query.orderBy(nullsLast(USER_ORDER_COLUMNS[o.field]), o.descending ? 'desc' : 'asc')
    query = query.orderBy(USER_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('u.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(toDirectoryUser)
}

const GROUP_ORDER_COLUMNS = {
  pk: 'g.id',
  name: 'g.name',
  is_superuser: 'g.is_superuser',
} as const
export type GroupOrderField = keyof typeof GROUP_ORDER_COLUMNS
export const GROUP_ORDER_FIELDS = Object.keys(GROUP_ORDER_COLUMNS) as GroupOrderField[]

/** authentik's group filters and `search` over the name. */
export interface GroupFilter {
  name?: string | undefined
  isSuperuser?: boolean | undefined
  /** Groups with any of these users as direct members. */
  membersByPk?: readonly number[] | undefined
  membersByUsername?: readonly string[] | undefined
  search?: string | undefined
}

function filteredGroups(db: Executor, filter: GroupFilter) {
  let query = db.selectFrom('groups as g')
  if (filter.name !== undefined) query = query.where('g.name', '=', filter.name)
  if (filter.isSuperuser !== undefined)
    query = query.where('g.is_superuser', '=', filter.isSuperuser ? 1 : 0)
  if (filter.membersByPk !== undefined && filter.membersByPk.length > 0) {
    const pks = filter.membersByPk
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members as gm')
          .select('gm.group_id')
          .whereRef('gm.group_id', '=', 'g.id')
          .where('gm.user_id', 'in', pks),
      ),
    )
  }
  if (filter.membersByUsername !== undefined && filter.membersByUsername.length > 0) {
    const usernames = filter.membersByUsername
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members as gm')
          .innerJoin('users as mu', 'mu.id', 'gm.user_id')
          .select('gm.group_id')
          .whereRef('gm.group_id', '=', 'g.id')
          .where('mu.username', 'in', usernames),
      ),
    )
  }
  const search: Expression<SqlBool> | undefined = searchAny(['g.name'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countGroups(db: Executor, filter: GroupFilter): Promise<number> {
  const { n } = await filteredGroups(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of groups, default order by name; the id breaks ties. */
export async function listGroups(
  db: Executor,
  filter: GroupFilter,
  order: ReadonlyArray<OrderBy<GroupOrderField>>,
  page: Page,
): Promise<DirectoryGroup[]> {
  let query = filteredGroups(db, filter).selectAll('g')
  const orders = order.length > 0 ? order : [{ field: 'name' as const, descending: false }]
  for (const o of orders) {
    if (NULLABLE_ORDER_FIELDS.has(o.field))
      query = query.orderBy(nullsLast(GROUP_ORDER_COLUMNS[o.field]), o.descending ? 'desc' : 'asc')
    query = query.orderBy(GROUP_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('g.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(toDirectoryGroup)
}

/** Renames a group (its SCIM displayName changed). */
export async function updateGroupName(
  db: Executor,
  id: string,
  name: string,
  now: string,
): Promise<void> {
  await db.updateTable('groups').set({ name, last_updated: now }).where('id', '=', id).execute()
}

/** Deletes a group; its memberships, nesting and connection row cascade. */
export async function deleteGroup(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('groups').where('id', '=', id).execute()
}

export async function findGroupsByIds(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, DirectoryGroup>> {
  const groups = new Map<string, DirectoryGroup>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('groups')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const row of rows) groups.set(row.id, toDirectoryGroup(row))
  }
  return groups
}

/**
 * Up to `limit` users whose email equals `email` regardless of case, folded as SCIM folds
 * (the index on the folded email); an empty email matches no one.
 */
export async function findUsersByEmail(
  db: Executor,
  email: string,
  limit: number,
): Promise<DirectoryUser[]> {
  if (email === '') return []
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where(foldCase(dialectOf(db), sql.ref('email')), '=', foldText(email))
    .orderBy('id')
    .limit(limit)
    .execute()
  return rows.map(toDirectoryUser)
}

/** Up to `limit` users whose username equals `username` regardless of case (as findUsersByEmail). */
export async function findUsersByUsernameKey(
  db: Executor,
  username: string,
  limit: number,
): Promise<DirectoryUser[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where(foldCase(dialectOf(db), sql.ref('username')), '=', foldText(username))
    .orderBy('id')
    .limit(limit)
    .execute()
  return rows.map(toDirectoryUser)
}

export async function updateGroup(
  db: Executor,
  id: string,
  row: { name?: string; is_superuser?: number; attributes?: string; last_updated: string },
): Promise<void> {
  await db.updateTable('groups').set(row).where('id', '=', id).execute()
}

/**
 * The slugs of the sources that provisioned this user: those holding a connection to it,
 * and the source whose service account it is. None for a local user.
 */
export async function userProvisioners(db: Executor, pk: number): Promise<string[]> {
  const rows = await db
    .selectFrom('sources as s')
    .select('s.slug')
    .where((eb) =>
      eb.or([
        eb('s.service_account_id', '=', pk),
        eb.exists(
          eb
            .selectFrom('scim_source_users as su')
            .select('su.id')
            .whereRef('su.source_id', '=', 's.id')
            .where('su.user_id', '=', pk),
        ),
      ]),
    )
    .orderBy('s.slug')
    .execute()
  return rows.map((r) => r.slug)
}

/** The slug of the source that provisioned this group, if one did. */
export async function groupProvisioner(db: Executor, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('scim_source_groups as sg')
    .innerJoin('sources as s', 's.id', 'sg.source_id')
    .select('s.slug')
    .where('sg.group_id', '=', id)
    .executeTakeFirst()
  return row?.slug
}

/** Of these groups, those provisioned by a source (id → the source's slug). */
export async function provisionedGroups(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('scim_source_groups as sg')
      .innerJoin('sources as s', 's.id', 'sg.source_id')
      .select(['sg.group_id', 's.slug'])
      .where('sg.group_id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const r of rows) found.set(r.group_id, r.slug)
  }
  return found
}

/** Makes `groupIds` exactly the groups `pk` is a direct member of. */
export async function setUserGroups(
  db: Executor,
  pk: number,
  groupIds: readonly string[],
): Promise<void> {
  let stale = db.deleteFrom('group_members').where('user_id', '=', pk)
  if (groupIds.length > 0) stale = stale.where('group_id', 'not in', groupIds)
  await stale.execute()
  if (groupIds.length === 0) return
  await db
    .insertInto('group_members')
    .values(groupIds.map((group_id) => ({ group_id, user_id: pk })))
    .onConflict((oc) => oc.doNothing())
    .execute()
}

/** Makes `userPks` exactly the users that are direct members of group `id`. */
export async function setGroupUsers(
  db: Executor,
  id: string,
  userPks: readonly number[],
): Promise<void> {
  const keep = new Set(userPks)
  const current = await db
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', id)
    .execute()
  const gone = current.map((r) => r.user_id).filter((pk) => !keep.has(pk))
  for (let i = 0; i < gone.length; i += 500) {
    await db
      .deleteFrom('group_members')
      .where('group_id', '=', id)
      .where('user_id', 'in', gone.slice(i, i + 500))
      .execute()
  }
  const pks = [...keep]
  for (let i = 0; i < pks.length; i += 500) {
    await db
      .insertInto('group_members')
      .values(pks.slice(i, i + 500).map((user_id) => ({ group_id: id, user_id })))
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}

/** Makes `parentIds` exactly the groups group `id` is a member of. */
export async function setGroupParents(
  db: Executor,
  id: string,
  parentIds: readonly string[],
): Promise<void> {
  let stale = db.deleteFrom('group_parents').where('group_id', '=', id)
  if (parentIds.length > 0) stale = stale.where('parent_id', 'not in', parentIds)
  await stale.execute()
  if (parentIds.length === 0) return
  await db
    .insertInto('group_parents')
    .values(parentIds.map((parent_id) => ({ parent_id, group_id: id })))
    .onConflict((oc) => oc.doNothing())
    .execute()
}
