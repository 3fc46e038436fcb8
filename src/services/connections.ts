/**
 * SCIM connection objects as admins see them: which source provisioned which directory user
 * or group, with the SCIM document it sent. Deleting one deprovisions what it links.
 */

import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import { groupModel, userModel } from '../core/events.js'
import { nowIso } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import * as connections from '../store/connections.js'
import * as directory from '../store/directory.js'
import { touchGroupsListing } from '../store/members.js'
import { enqueueChange } from '../store/outbox.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inTransaction } from './deps.js'
import { recordEvent } from './events.js'
import { releaseUser } from './users.js'

export {
  GROUP_CONNECTION_ORDER_FIELDS,
  type GroupConnectionFilter,
  type GroupConnectionOrderField,
  USER_CONNECTION_ORDER_FIELDS,
  type UserConnectionFilter,
  type UserConnectionOrderField,
} from '../store/connections.js'

export interface UserConnectionDetail extends connections.UserConnection {
  user: DirectoryUser
}

export interface GroupConnectionDetail extends connections.GroupConnection {
  group: DirectoryGroup
}

export type UserConnectionListQuery = ListQuery<
  connections.UserConnectionFilter,
  connections.UserConnectionOrderField
>
export type GroupConnectionListQuery = ListQuery<
  connections.GroupConnectionFilter,
  connections.GroupConnectionOrderField
>

export async function listUserConnections(
  deps: Deps,
  query: UserConnectionListQuery,
): Promise<ListPage<UserConnectionDetail>> {
  return listPage(
    query,
    () => connections.countUserConnections(deps.db, query.filter),
    async (page) => {
      const rows = await connections.listUserConnections(deps.db, query.filter, query.order, page)
      const users = await directory.findUsersByPks(
        deps.db,
        rows.map((r) => r.record.userId),
      )
      return rows.flatMap((r) => {
        const user = users.get(r.record.userId)
        return user ? [{ ...r, user }] : []
      })
    },
  )
}

export async function getUserConnection(deps: Deps, id: string): Promise<UserConnectionDetail> {
  const found = await connections.findUserConnection(deps.db, id)
  const user = found && (await directory.findUserByPk(deps.db, found.record.userId))
  if (!found || !user) throw ScimError.notFound('SCIM source user not found')
  return { ...found, user }
}

/**
 * Deletes a user connection as the source's own SCIM DELETE would: the directory user goes
 * with it unless something else holds it (users.ts releaseUser). authentik only unlinks, and
 * relinks by userName on the next push; a user only this source held would be an orphan
 * that no identity provider can deprovision.
 */
export async function deleteUserConnection(deps: Deps, id: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const found = await connections.findUserConnection(tx, id)
    if (!found) throw ScimError.notFound('SCIM source user not found')
    await releaseUser(tx, found.record.sourceId, found.record.id, found.record.userId)
    await recordEvent(deps, tx, {
      action: 'model_deleted',
      model: userModel(found.record.userId, String(found.record.document.userName ?? '')),
      source: { id: found.record.sourceId, slug: found.sourceSlug },
    })
  })
}

export async function listGroupConnections(
  deps: Deps,
  query: GroupConnectionListQuery,
): Promise<ListPage<GroupConnectionDetail>> {
  return listPage(
    query,
    () => connections.countGroupConnections(deps.db, query.filter),
    async (page) => {
      const rows = await connections.listGroupConnections(deps.db, query.filter, query.order, page)
      const groups = await directory.findGroupsByIds(
        deps.db,
        rows.map((r) => r.groupId),
      )
      return rows.flatMap((r) => {
        const group = groups.get(r.groupId)
        return group ? [{ ...r, group }] : []
      })
    },
  )
}

export async function getGroupConnection(deps: Deps, id: string): Promise<GroupConnectionDetail> {
  const found = await connections.findGroupConnection(deps.db, id)
  const group = found && (await directory.findGroupById(deps.db, found.groupId))
  if (!found || !group) throw ScimError.notFound('SCIM source group not found')
  return { ...found, group }
}

/** Deletes a group connection and the directory group it links (see deleteUserConnection). */
export async function deleteGroupConnection(deps: Deps, id: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const found = await connections.findGroupConnection(tx, id)
    if (!found) throw ScimError.notFound('SCIM source group not found')
    await touchGroupsListing(tx, { groupId: found.groupId }, nowIso())
    await enqueueChange(tx, { kind: 'group', groupId: found.groupId })
    // The connection row, its memberships and its nesting cascade.
    await directory.deleteGroup(tx, found.groupId)
    await recordEvent(deps, tx, {
      action: 'model_deleted',
      model: groupModel(found.groupId, String(found.record.document.displayName ?? '')),
      source: { id: found.record.sourceId, slug: found.sourceSlug },
    })
  })
}
