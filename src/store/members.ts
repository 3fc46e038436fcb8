/**
 * Group membership in SQL: users in group_members, nested groups in group_parents. Every
 * change touches only the rows it names, so its cost does not depend on the group's size.
 */
import { type RawBuilder, sql } from 'kysely'
import { type ResourceRef, type UserGroupRef, userDisplay } from '../core/domain.js'
import type { Dialect, Executor } from './database.js'
import { betweenChunks, preparedListQuery, preparedQuery } from './prepared.js'
import { type GroupWalkRow, groupWalk } from './query/group-walk.js'

const userPkById = preparedQuery((db, sourceId: string, id: string) =>
  db
    .selectFrom('scim_source_users')
    .select(['id', 'user_id'])
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .compile(),
)

const groupIdById = preparedQuery((db, sourceId: string, id: string) =>
  db
    .selectFrom('scim_source_groups')
    .select('id')
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .compile(),
)

const userPksByIds = preparedListQuery((db, [sourceId]: [string], ids: string[]) =>
  db
    .selectFrom('scim_source_users')
    .select(['id', 'user_id'])
    .where('source_id', '=', sourceId)
    .where('id', 'in', ids)
    .compile(),
)

const groupIdsByIds = preparedListQuery((db, [sourceId]: [string], ids: string[]) =>
  db
    .selectFrom('scim_source_groups')
    .select('id')
    .where('source_id', '=', sourceId)
    .where('id', 'in', ids)
    .compile(),
)

/**
 * Looks up which of the given SCIM ids are users or groups of this source. One id (what
 * Entra and Okta send per PATCH) takes prepared lookups; more take prepared `in` lists.
 */
export async function resolveMemberIds(
  db: Executor,
  sourceId: string,
  ids: readonly string[],
): Promise<{ users: Map<string, number>; groups: Set<string> }> {
  const users = new Map<string, number>()
  const groups = new Set<string>()
  const unique = [...new Set(ids)]
  if (unique.length === 1) {
    const id = unique[0] as string
    const [user] = await userPkById(db, sourceId, id)
    if (user) users.set(user.id, user.user_id)
    else if ((await groupIdById(db, sourceId, id)).length > 0) groups.add(id)
    return { users, groups }
  }
  for (const r of await userPksByIds(db, [sourceId], unique)) users.set(r.id, r.user_id)
  const missing = unique.filter((id) => !users.has(id))
  if (missing.length > 0) {
    for (const r of await groupIdsByIds(db, [sourceId], missing)) groups.add(r.id)
  }
  return { users, groups }
}

const addUserMember = preparedQuery((db, groupId: string, userPk: number) =>
  db
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: userPk })
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .compile(),
)

/*
 * The membership writers below return how many rows they changed: adding a member who is
 * one already, or removing one who is not, changes nothing (and the group keeps its version).
 */

export async function addUserMembers(
  db: Executor,
  groupId: string,
  userPks: readonly number[],
): Promise<number> {
  if (userPks.length === 1) return (await addUserMember(db, groupId, userPks[0] as number)).length
  if (userPks.length === 0) return 0
  return (await addUserMemberList(db, [groupId], userPks)).length
}

const addUserMemberList = preparedListQuery((db, [groupId]: [string], userPks: number[]) =>
  db
    .insertInto('group_members')
    .values(userPks.map((user_id) => ({ group_id: groupId, user_id })))
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .compile(),
)

export async function addGroupMembers(
  db: Executor,
  parentId: string,
  childIds: readonly string[],
): Promise<number> {
  let added = 0
  for (let i = 0; i < childIds.length; i += 500) {
    await betweenChunks(i)
    const values = childIds.slice(i, i + 500).map((group_id) => ({ parent_id: parentId, group_id }))
    const result = await db
      .insertInto('group_parents')
      .values(values)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirstOrThrow()
    added += Number(result.numInsertedOrUpdatedRows ?? 0)
  }
  return added
}

const removeUserMember = preparedQuery((db, groupId: string, userPk: number) =>
  db
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userPk)
    .returning('user_id')
    .compile(),
)

export async function removeUserMembers(
  db: Executor,
  groupId: string,
  userPks: readonly number[],
): Promise<number> {
  if (userPks.length === 1)
    return (await removeUserMember(db, groupId, userPks[0] as number)).length
  let removed = 0
  for (let i = 0; i < userPks.length; i += 500) {
    await betweenChunks(i)
    const result = await db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('user_id', 'in', userPks.slice(i, i + 500))
      .executeTakeFirstOrThrow()
    removed += Number(result.numDeletedRows)
  }
  return removed
}

export async function removeGroupMembers(
  db: Executor,
  parentId: string,
  childIds: readonly string[],
): Promise<number> {
  let removed = 0
  for (let i = 0; i < childIds.length; i += 500) {
    await betweenChunks(i)
    const result = await db
      .deleteFrom('group_parents')
      .where('parent_id', '=', parentId)
      .where('group_id', 'in', childIds.slice(i, i + 500))
      .executeTakeFirstOrThrow()
    removed += Number(result.numDeletedRows)
  }
  return removed
}

export async function removeAllMembers(db: Executor, groupId: string): Promise<number> {
  const users = await db
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .executeTakeFirstOrThrow()
  const groups = await db
    .deleteFrom('group_parents')
    .where('parent_id', '=', groupId)
    .executeTakeFirstOrThrow()
  return Number(users.numDeletedRows) + Number(groups.numDeletedRows)
}

/*
 * A group's `members` carry each member's display name, so a member that is deleted or
 * renamed changes every group that lists it: those groups get a new version and
 * lastModified (RFC 7644 §3.14), or a client's If-None-Match would keep a stale copy.
 * Call it before deleting the member: on PostgreSQL, a group PATCH holds its group's row
 * and then checks the member's row, so the other order could deadlock with it.
 */
const touchGroupsOfUser = preparedQuery((db, userPk: number, now: string) =>
  db
    .updateTable('scim_source_groups')
    .set({ last_modified: now, version: sql<number>`version + 1` })
    .where('id', 'in', (eb) =>
      eb.selectFrom('group_members').select('group_id').where('user_id', '=', userPk),
    )
    .compile(),
)

const touchParentsOfGroup = preparedQuery((db, groupId: string, now: string) =>
  db
    .updateTable('scim_source_groups')
    .set({ last_modified: now, version: sql<number>`version + 1` })
    .where('id', 'in', (eb) =>
      eb.selectFrom('group_parents').select('parent_id').where('group_id', '=', groupId),
    )
    .compile(),
)

/** Moves the version of the groups whose `members` list this user or group. */
export async function touchGroupsListing(
  db: Executor,
  member: { userPk: number } | { groupId: string },
  now: string,
): Promise<void> {
  if ('userPk' in member) await touchGroupsOfUser(db, member.userPk, now)
  else await touchParentsOfGroup(db, member.groupId, now)
}

/**
 * Takes a user out of every group of one source (a source letting go of a user that another
 * source still holds), moving those groups' versions; other groups keep the user.
 */
export async function removeUserFromSourceGroups(
  db: Executor,
  sourceId: string,
  userPk: number,
  now: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('group_members as gm')
    .innerJoin('scim_source_groups as sg', 'sg.group_id', 'gm.group_id')
    .select('gm.group_id')
    .where('gm.user_id', '=', userPk)
    .where('sg.source_id', '=', sourceId)
    .execute()
  const groupIds = rows.map((r) => r.group_id)
  if (groupIds.length === 0) return []
  await db
    .updateTable('scim_source_groups')
    .set({ last_modified: now, version: sql<number>`version + 1` })
    .where('source_id', '=', sourceId)
    .where('group_id', 'in', groupIds)
    .execute()
  await db
    .deleteFrom('group_members')
    .where('user_id', '=', userPk)
    .where('group_id', 'in', groupIds)
    .execute()
  return groupIds
}

/** A group's members as SCIM references, users first, each in id order. */
export async function listMembers(
  db: Executor,
  sourceId: string,
  groupId: string,
): Promise<ResourceRef[]> {
  const users = await db
    .selectFrom('group_members as gm')
    .innerJoin('scim_source_users as su', 'su.user_id', 'gm.user_id')
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .select(['su.id as value', 'u.username', 'u.name'])
    .where('gm.group_id', '=', groupId)
    .where('su.source_id', '=', sourceId)
    // Ordered by the membership key, so the plan walks this group's rows of group_members
    // (its primary key) instead of every user of the source.
    .orderBy('gm.user_id')
    .execute()
  const groups = await db
    .selectFrom('group_parents as gp')
    .innerJoin('scim_source_groups as sg', 'sg.group_id', 'gp.group_id')
    .innerJoin('groups as g', 'g.id', 'gp.group_id')
    .select(['sg.id as value', 'g.name'])
    .where('gp.parent_id', '=', groupId)
    .where('sg.source_id', '=', sourceId)
    .orderBy('gp.group_id')
    .execute()
  return [
    ...users.map((u) => ({ value: u.value, display: userDisplay(u), type: 'User' as const })),
    ...groups.map((g) => ({ value: g.value, display: g.name, type: 'Group' as const })),
  ]
}

/**
 * The groups of users within a source (RFC 7643 §4.1.2): `direct` memberships and the
 * `indirect` ones reached through nested groups. One query for a whole page of users, and
 * the recursive walk only when one of their groups is itself a member of another: Entra,
 * Okta and Google push flat groups, and the walk cost more than the rest of a GET.
 */
export async function listGroupsOfUsers(
  db: Executor,
  sourceId: string,
  userPks: readonly number[],
): Promise<Map<number, UserGroupRef[]>> {
  if (userPks.length === 0) return new Map()
  const direct =
    userPks.length === 1
      ? await directGroupsOfOneUser(db, sourceId, userPks[0] as number)
      : (await directGroupsOfUsers(sql`in (${sql.join(userPks)})`, sourceId).execute(db)).rows
  return groupsFromDirect(db, sourceId, userPks, direct)
}

/**
 * The groups of users from their direct memberships: those as they are when no group is
 * nested in another (what identity providers push), else the recursive walk.
 */
async function groupsFromDirect(
  db: Executor,
  sourceId: string,
  userPks: readonly number[],
  direct: readonly DirectGroupRow[],
): Promise<Map<number, UserGroupRef[]>> {
  const byUser = new Map<number, UserGroupRef[]>(userPks.map((pk) => [pk, []]))
  const rows = direct.some((r) => Number(r.nested) !== 0)
    ? (await groupsOfUsers(sql`in (${sql.join(userPks)})`, sourceId).execute(db)).rows
    : direct.filter((r) => r.in_source !== null)
  for (const r of rows) {
    byUser.get(Number(r.user_id))?.push({
      value: r.id,
      display: r.name,
      type: Number(r.depth) === 0 ? 'direct' : 'indirect',
    })
  }
  return byUser
}

/**
 * The groups of one user, given their direct memberships as `directGroupsJson` lists them
 * (read with the user, in the same query).
 */
export async function groupsOfUserFromJson(
  db: Executor,
  sourceId: string,
  userPk: number,
  json: string,
): Promise<UserGroupRef[]> {
  const tuples = JSON.parse(json) as DirectGroupTuple[]
  // Ordered by group id here: an aggregate's ORDER BY cost SQLite a sorter per user read.
  // UTF-16 order, which is the databases' order for the ids scimd gives groups (ASCII
  // UUIDs); the list readers' ORDER BY uses the database's collation.
  if (tuples.length > 1) tuples.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const direct = tuples.map(
    ([id, name, inSource, nested]): DirectGroupRow => ({
      user_id: userPk,
      id,
      name,
      depth: 0,
      in_source: inSource ? id : null,
      nested,
    }),
  )
  return (await groupsFromDirect(db, sourceId, [userPk], direct)).get(userPk) ?? []
}

/** A direct membership in directGroupsJson: group id, name, in the source, nested. */
type DirectGroupTuple = [string, string, number | boolean, number | boolean]

/**
 * A scalar subquery: the direct memberships of the user whose pk is `userPk` (an SQL
 * expression of the outer query) as a JSON array of DirectGroupTuple in no particular
 * order (groupsOfUserFromJson orders them), as text; `[]` when there are none. What
 * directGroupsOfUsers returns, for one user.
 */
export function directGroupsJson(
  dialect: Dialect,
  userPk: RawBuilder<unknown>,
  sourceId: RawBuilder<unknown>,
): RawBuilder<string> {
  const tuple = sql`g.id, g.name, sg.id is not null, ${IS_NESTED}`
  const list =
    dialect === 'postgres'
      ? sql`coalesce(json_agg(json_build_array(${tuple}))::text, '[]')`
      : sql`json_group_array(json_array(${tuple}))`
  return sql<string>`(select ${list} from ${directMemberships(sql`= ${userPk}`, sourceId)})`
}

/** One user's direct groups (a GET of one user): the same query, compiled once. */
const directGroupsOfOneUser = preparedQuery((db, sourceId: string, userPk: number) =>
  directGroupsOfUsers(sql`= ${userPk}`, sourceId).compile(db),
)

type GroupOfUserRow = GroupWalkRow

type DirectGroupRow = GroupOfUserRow & { nested: number | boolean; in_source: string | null }

/**
 * Direct memberships, each with whether its group is nested in another (then the caller
 * walks the nesting) and whether it is a group of this source (`in_source` not null). All
 * direct groups count for the nesting: a group outside the source can be a member of one
 * inside it. `users` is the condition on group_members.user_id.
 */
function directGroupsOfUsers(users: RawBuilder<unknown>, sourceId: string) {
  return sql<DirectGroupRow>`
    select gm.user_id, g.id, g.name, 0 as depth, sg.id as in_source, ${IS_NESTED} as nested
    from ${directMemberships(users, sourceId)}
    order by gm.user_id, gm.group_id`
}

/**
 * The direct memberships of users: group_members `gm` with its group `g` and, if that is a
 * group of the source, the source's row `sg`; `users` is the condition on gm.user_id.
 */
function directMemberships(users: RawBuilder<unknown>, sourceId: unknown) {
  return sql`group_members gm
    join groups g on g.id = gm.group_id
    left join scim_source_groups sg on sg.group_id = gm.group_id and sg.source_id = ${sourceId}
    where gm.user_id ${users}`
}

/** Whether the membership's group is itself a member of another group. */
/** userDisplay() (core/domain.ts) in SQL, over `users u`: for filters on `members.display`. */
export const USER_DISPLAY_SQL = sql`(case when u.name <> '' then u.name else u.username end)`

const IS_NESTED = sql`exists(select 1 from group_parents gp where gp.group_id = gm.group_id)`

/** Direct and indirect memberships; `users` is the condition on group_members.user_id. */
function groupsOfUsers(users: RawBuilder<unknown>, sourceId: string) {
  return sql<GroupOfUserRow>`${groupWalk(users, sourceId)} order by g.id`
}

/** True when making `childId` a member of `parentId` would create a cycle. */
export async function wouldCreateCycle(
  db: Executor,
  parentId: string,
  childId: string,
): Promise<boolean> {
  if (parentId === childId) return true
  const result = await sql<{ id: string }>`
    with recursive ancestors(id) as (
      select ${parentId}
      union
      select gp.parent_id from group_parents gp join ancestors a on gp.group_id = a.id
    )
    select id from ancestors where id = ${childId} limit 1`.execute(db)
  return result.rows.length > 0
}
