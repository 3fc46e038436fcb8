/** The reads a provider makes of the directory: objects by id, pages in key order, memberships. */
import type { DirectoryGroup, DirectoryUser, UserType } from '../core/domain.js'
import type { Executor } from './database.js'
import { toDirectoryGroup, toDirectoryUser } from './directory.js'

// The directory's own lookups, under the names the provider's code reads them by.
export {
  findGroupById as findGroup,
  findUserByPk,
  findUsersByPks as usersByPks,
} from './directory.js'

export async function findUserByUuid(
  db: Executor,
  uuid: string,
): Promise<DirectoryUser | undefined> {
  const row = await db.selectFrom('users').selectAll().where('uuid', '=', uuid).executeTakeFirst()
  return row && toDirectoryUser(row)
}

/** The users with the given uuids (those that exist): what decides their scope, no more. */
export async function usersByUuids(
  db: Executor,
  uuids: readonly string[],
): Promise<Array<{ pk: number; uuid: string; type: UserType }>> {
  const users: Array<{ pk: number; uuid: string; type: UserType }> = []
  for (let i = 0; i < uuids.length; i += 500) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'uuid', 'type'])
      .where('uuid', 'in', uuids.slice(i, i + 500))
      .execute()
    for (const r of rows) users.push({ pk: Number(r.id), uuid: r.uuid, type: r.type as UserType })
  }
  return users
}

/** Which of the given group ids exist. */
export async function existingGroupIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  const result = new Set<string>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('groups')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
    for (const r of rows) result.add(r.id)
  }
  return result
}

/** Users in pk order after `afterPk`: a full sync pages through the directory, never loads it. */
export async function pageUsers(
  db: Executor,
  afterPk: number,
  limit: number,
): Promise<DirectoryUser[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('id', '>', afterPk)
    .orderBy('id')
    .limit(limit)
    .execute()
  return rows.map(toDirectoryUser)
}

export async function pageGroups(
  db: Executor,
  afterId: string,
  limit: number,
): Promise<DirectoryGroup[]> {
  const rows = await db
    .selectFrom('groups')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute()
  return rows.map(toDirectoryGroup)
}

/** Which of the given users are direct members of the group. */
export async function membersAmong(
  db: Executor,
  groupId: string,
  userPks: readonly number[],
): Promise<Set<number>> {
  const result = new Set<number>()
  for (let i = 0; i < userPks.length; i += 500) {
    const rows = await db
      .selectFrom('group_members')
      .select('user_id')
      .where('group_id', '=', groupId)
      .where('user_id', 'in', userPks.slice(i, i + 500))
      .execute()
    for (const r of rows) result.add(Number(r.user_id))
  }
  return result
}

/** A group member as a provider's member reconciliation needs it: no attributes parsed. */
export interface MemberLink {
  pk: number
  uuid: string
  type: UserType
  /** The member's remote id on the provider; null when it was not pushed (yet). */
  remoteId: string | null
}

/**
 * The group's direct user members with their remote ids on one provider, one page in pk
 * order after `afterPk`: one query a page where the reconciliation made two and parsed every
 * member's attributes. Ordered by the membership key, so the page is a range of its index.
 */
export async function pageGroupMemberLinks(
  db: Executor,
  providerId: number,
  groupId: string,
  afterPk: number,
  limit: number,
): Promise<MemberLink[]> {
  const rows = await db
    .selectFrom('group_members as gm')
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .leftJoin('provider_users as pu', (join) =>
      join.onRef('pu.user_id', '=', 'u.uuid').on('pu.provider_id', '=', providerId),
    )
    .select(['gm.user_id', 'u.uuid', 'u.type', 'pu.remote_id'])
    .where('gm.group_id', '=', groupId)
    .where('gm.user_id', '>', afterPk)
    .orderBy('gm.user_id')
    .limit(limit)
    .execute()
  return rows.map((r) => ({
    pk: Number(r.user_id),
    uuid: r.uuid,
    type: r.type as UserType,
    remoteId: r.remote_id ?? null,
  }))
}

export async function isMember(db: Executor, groupId: string, userPk: number): Promise<boolean> {
  const row = await db
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userPk)
    .executeTakeFirst()
  return row !== undefined
}
