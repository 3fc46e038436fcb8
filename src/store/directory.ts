/** Core directory rows: users, groups and their memberships (what the admin API shows). */
import type { DirectoryGroup, DirectoryUser, UserType } from '../domain.js'
import type {
  Executor,
  GroupRow,
  InsertableUserRow,
  UpdateableUserRow,
  UserRow,
} from './database.js'

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

export async function insertUser(db: Executor, row: InsertableUserRow): Promise<number> {
  const { id } = await db.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow()
  return id
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
  group: { id: string; name: string; isSuperuser?: boolean; now: string },
): Promise<void> {
  await db
    .insertInto('groups')
    .values({
      id: group.id,
      name: group.name,
      is_superuser: group.isSuperuser ? 1 : 0,
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
