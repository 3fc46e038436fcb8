/**
 * What admins change in the directory: local users and groups (created here, not by a
 * source), and the membership of local groups, which may include users a source provisioned.
 */

import type { DirectoryUser, UserType } from '../core/domain.js'
import { FieldErrors } from '../core/field-errors.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { lockExclusive } from '../store/locks.js'
import { removeUserMembers, wouldCreateCycle } from '../store/members.js'
import { enqueueChange } from '../store/outbox.js'
import { type Deps, inTransaction } from './deps.js'
import { type GroupDetail, getGroup, getUser, parseUserPk, type UserDetail } from './directory.js'

/** The path of users an admin creates without one (authentik's default). */
export const LOCAL_USER_PATH = 'users'

export interface UserInput {
  username?: string | undefined
  name?: string | undefined
  isActive?: boolean | undefined
  lastLogin?: string | null | undefined
  email?: string | undefined
  attributes?: Record<string, unknown> | undefined
  path?: string | undefined
  type?: Exclude<UserType, 'internal_service_account'> | undefined
  /** Local group ids: the user's direct groups, all of them. */
  groups?: readonly string[] | undefined
}

export interface GroupInput {
  name?: string | undefined
  isSuperuser?: boolean | undefined
  attributes?: Record<string, unknown> | undefined
  /** Local group ids this group is a member of, all of them. */
  parents?: readonly string[] | undefined
  /** User pks of the direct members, all of them. */
  users?: readonly number[] | undefined
}

function providedBy(kind: 'User' | 'Group', name: string, slugs: readonly string[]): ScimError {
  const sources = slugs.map((s) => `'${s}'`).join(', ')
  return ScimError.forbidden(
    `${kind} '${name}' is provisioned by SCIM source ${sources} and changes only through it: ` +
      "the identity provider's next sync would undo an admin's edit.",
  )
}

/** A local user for a change, or 403 if a source provisioned it. */
async function localUser(tx: Executor, pkText: string): Promise<DirectoryUser> {
  const pk = parseUserPk(pkText)
  const user = pk === undefined ? undefined : await directory.findUserByPk(tx, pk)
  if (!user) throw ScimError.notFound('User not found')
  const provisioners = await directory.userProvisioners(tx, user.pk)
  if (provisioners.length > 0) throw providedBy('User', user.username, provisioners)
  return user
}

/** A local group for a change, or 403 if a source provisioned it. */
async function localGroup(tx: Executor, id: string) {
  const group = await directory.findGroupById(tx, id)
  if (!group) throw ScimError.notFound('Group not found')
  const provisioner = await directory.groupProvisioner(tx, id)
  if (provisioner) throw providedBy('Group', group.name, [provisioner])
  return group
}

/** Every id names a group, and none was provisioned by a source (its members are its own). */
async function localGroupIds(tx: Executor, field: string, ids: readonly string[]) {
  const unique = [...new Set(ids)]
  const found = await directory.findGroupsByIds(tx, unique)
  const missing = unique.find((id) => !found.has(id))
  if (missing)
    throw new FieldErrors({ [field]: [`Invalid pk "${missing}" - object does not exist.`] })
  const provisioned = await directory.provisionedGroups(tx, unique)
  for (const [id, slug] of provisioned) {
    throw providedBy('Group', found.get(id)?.name ?? id, [slug])
  }
  return unique
}

/** Usernames are unique in the directory, as authentik's are. */
async function usernameMustBeFree(tx: Executor, username: string, self?: number): Promise<void> {
  // No unique index can say this (sources may provision equal usernames): one check at a time.
  await lockExclusive(tx, 'directory-username')
  const taken = await directory.findUserByUsername(tx, username)
  if (taken && taken.pk !== self) {
    throw new FieldErrors({ username: ['A user with that username already exists.'] })
  }
}

export async function createUser(deps: Deps, input: UserInput): Promise<UserDetail> {
  const pk = await inTransaction(deps, async (tx) => {
    const username = input.username as string
    await usernameMustBeFree(tx, username)
    const groups = input.groups ? await localGroupIds(tx, 'groups', input.groups) : []
    const now = nowIso()
    const pk = await directory.insertUser(tx, {
      uuid: uuidv7(),
      username,
      name: input.name ?? '',
      email: input.email ?? '',
      is_active: input.isActive === false ? 0 : 1,
      type: input.type ?? 'internal',
      path: input.path ?? LOCAL_USER_PATH,
      attributes: JSON.stringify(input.attributes ?? {}),
      password_hash: null,
      date_joined: now,
      last_login: input.lastLogin ?? null,
      last_updated: now,
    })
    if (groups.length > 0) await directory.setUserGroups(tx, pk, groups)
    await enqueueChange(tx, { kind: 'user', userPk: pk })
    for (const groupId of groups) await enqueueChange(tx, { kind: 'members', groupId })
    return pk
  })
  return getUser(deps, String(pk))
}

/** PUT and PATCH of a local user: the fields given change, the others stay. */
export async function updateUser(
  deps: Deps,
  pkText: string,
  input: UserInput,
): Promise<UserDetail> {
  const pk = await inTransaction(deps, async (tx) => {
    const user = await localUser(tx, pkText)
    if (input.username !== undefined && input.username !== user.username) {
      await usernameMustBeFree(tx, input.username, user.pk)
    }
    const groups = input.groups ? await localGroupIds(tx, 'groups', input.groups) : undefined
    await directory.updateUser(tx, user.pk, {
      ...(input.username !== undefined ? { username: input.username } : {}),
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(input.isActive !== undefined ? { is_active: input.isActive ? 1 : 0 } : {}),
      ...(input.type !== undefined ? { type: input.type } : {}),
      ...(input.path !== undefined ? { path: input.path } : {}),
      ...(input.lastLogin !== undefined ? { last_login: input.lastLogin } : {}),
      ...(input.attributes !== undefined ? { attributes: JSON.stringify(input.attributes) } : {}),
      last_updated: nowIso(),
    })
    const before = groups ? await directory.groupsOfUsers(tx, [user.pk]) : undefined
    if (groups) await directory.setUserGroups(tx, user.pk, groups)
    await enqueueChange(tx, { kind: 'user', userPk: user.pk })
    // Every group the user joined or left reconciles its members.
    const touched = new Set([...(before?.get(user.pk) ?? []).map((g) => g.id), ...(groups ?? [])])
    for (const groupId of touched) await enqueueChange(tx, { kind: 'members', groupId })
    return user.pk
  })
  return getUser(deps, String(pk))
}

export async function deleteUser(deps: Deps, pkText: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const user = await localUser(tx, pkText)
    // Before the row goes: the outbox names the user by uuid, read from it.
    await enqueueChange(tx, { kind: 'user', userPk: user.pk })
    // Its memberships and tokens cascade.
    await directory.deleteUser(tx, user.pk)
  })
}

/** Every pk names a user (any user: adding one a source provisioned changes the group only). */
async function existingUserPks(tx: Executor, pks: readonly number[]): Promise<number[]> {
  const unique = [...new Set(pks)]
  const found = await directory.findUsersByPks(tx, unique)
  const missing = unique.find((pk) => !found.has(pk))
  if (missing !== undefined) {
    throw new FieldErrors({ users: [`Invalid pk "${missing}" - object does not exist.`] })
  }
  return unique
}

async function checkParents(tx: Executor, id: string, parents: readonly string[]) {
  const ids = await localGroupIds(tx, 'parents', parents)
  for (const parent of ids) {
    if (await wouldCreateCycle(tx, parent, id)) {
      throw new FieldErrors({ parents: [`Group "${parent}" would make a cycle.`] })
    }
  }
  return ids
}

async function groupNameMustBeFree(tx: Executor, name: string, self?: string): Promise<void> {
  await lockExclusive(tx, 'directory-group-name')
  const taken = await directory.findGroupByName(tx, name)
  if (taken && taken.id !== self) {
    throw new FieldErrors({ name: ['group with this name already exists.'] })
  }
}

export async function createGroup(deps: Deps, input: GroupInput): Promise<GroupDetail> {
  const id = await inTransaction(deps, async (tx) => {
    const name = input.name as string
    await groupNameMustBeFree(tx, name)
    const id = uuidv7()
    const parents = input.parents ? await checkParents(tx, id, input.parents) : []
    const users = input.users ? await existingUserPks(tx, input.users) : []
    await directory.insertGroup(tx, {
      id,
      name,
      isSuperuser: input.isSuperuser ?? false,
      attributes: input.attributes ?? {},
      now: nowIso(),
    })
    if (parents.length > 0) await directory.setGroupParents(tx, id, parents)
    if (users.length > 0) await directory.setGroupUsers(tx, id, users)
    await enqueueChange(tx, { kind: 'group', groupId: id })
    if (users.length > 0) await enqueueChange(tx, { kind: 'members', groupId: id })
    return id
  })
  return getGroup(deps, id)
}

/** PUT and PATCH of a local group: the fields given change, the others stay. */
export async function updateGroup(deps: Deps, id: string, input: GroupInput): Promise<GroupDetail> {
  await inTransaction(deps, async (tx) => {
    const group = await localGroup(tx, id)
    if (input.name !== undefined && input.name !== group.name) {
      await groupNameMustBeFree(tx, input.name, id)
    }
    const parents = input.parents ? await checkParents(tx, id, input.parents) : undefined
    const users = input.users ? await existingUserPks(tx, input.users) : undefined
    await directory.updateGroup(tx, id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.isSuperuser !== undefined ? { is_superuser: input.isSuperuser ? 1 : 0 } : {}),
      ...(input.attributes !== undefined ? { attributes: JSON.stringify(input.attributes) } : {}),
      last_updated: nowIso(),
    })
    if (parents) await directory.setGroupParents(tx, id, parents)
    if (users) await directory.setGroupUsers(tx, id, users)
    await enqueueChange(tx, { kind: 'group', groupId: id })
    if (users) await enqueueChange(tx, { kind: 'members', groupId: id })
  })
  return getGroup(deps, id)
}

export async function deleteGroup(deps: Deps, id: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    await localGroup(tx, id)
    // Before the row goes: providers delete their remote copy.
    await enqueueChange(tx, { kind: 'group', groupId: id })
    // Its memberships and nesting cascade.
    await directory.deleteGroup(tx, id)
  })
}

/**
 * authentik's add_user / remove_user on a local group. The user may be one a source
 * provisioned: this changes the local group, not the user (how an admin builds a provider's
 * filter group from users an identity provider pushed). 404 if the user does not exist.
 */
export async function changeGroupMember(
  deps: Deps,
  id: string,
  userPk: number,
  change: 'add' | 'remove',
): Promise<void> {
  await inTransaction(deps, async (tx) => {
    await localGroup(tx, id)
    const pk = parseUserPk(String(userPk))
    const user = pk === undefined ? undefined : await directory.findUserByPk(tx, pk)
    if (!user) throw ScimError.notFound('User not found')
    if (change === 'add') await directory.addGroupMember(tx, id, user.pk)
    else await removeUserMembers(tx, id, [user.pk])
    await enqueueChange(tx, { kind: 'member', groupId: id, userPks: [user.pk] })
  })
}

/**
 * Why a user cannot be changed by an admin (the admin API's 403 detail: a source provisioned
 * it), or undefined for a local user. 404 if there is no such user.
 */
export async function userReadOnlyReason(deps: Deps, pkText: string): Promise<string | undefined> {
  const pk = parseUserPk(pkText)
  const user = pk === undefined ? undefined : await directory.findUserByPk(deps.db, pk)
  if (!user) throw ScimError.notFound('User not found')
  const provisioners = await directory.userProvisioners(deps.db, user.pk)
  return provisioners.length > 0
    ? providedBy('User', user.username, provisioners).detail
    : undefined
}

/** As userReadOnlyReason, for a group. */
export async function groupReadOnlyReason(deps: Deps, id: string): Promise<string | undefined> {
  const group = await directory.findGroupById(deps.db, id)
  if (!group) throw ScimError.notFound('Group not found')
  const provisioner = await directory.groupProvisioner(deps.db, id)
  return provisioner ? providedBy('Group', group.name, [provisioner]).detail : undefined
}
