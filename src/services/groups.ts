/**
 * SCIM Group operations (RFC 7644 §3). Members live in SQL tables, so a membership change
 * touches only the named rows: adding one member costs the same in a group of ten as in
 * one of a million.
 */

import type { ResourceRef, ScimDocument, ScimGroupRecord, Source } from '../core/domain.js'
import { groupModel } from '../core/events.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import { SkipObject } from '../mapping/engine.js'
import { mapSourceGroup } from '../mapping/source.js'
import { ScimError } from '../scim/errors.js'
import { parseFilter } from '../scim/filter/parse.js'
import type { ListParams } from '../scim/list.js'
import { type MemberRef, normalizeResource } from '../scim/normalize.js'
import { applyPatch } from '../scim/patch/apply.js'
import { type MemberChange, splitMemberOperations } from '../scim/patch/members.js'
import { parsePatchRequest } from '../scim/patch/request.js'
import { GROUP_RESOURCE } from '../scim/schema/resource-types.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { isForeignKeyViolation, isUniqueViolation } from '../store/errors.js'
import { lockExclusive } from '../store/locks.js'
import * as members from '../store/members.js'
import { enqueueChange } from '../store/outbox.js'
import * as store from '../store/scim-resources/groups.js'
import { type Deps, inTransaction, VersionConflict } from './deps.js'
import { recordSourceChange } from './events.js'
import { mappingFailure, sourceMappings } from './property-mappings.js'
import {
  checkIfMatch,
  type ListResult,
  listRecords,
  splitExternalId,
  withExternalId,
  writtenRecord,
} from './resource-common.js'
import type { WriteOptions } from './users.js'

export interface GroupView {
  record: ScimGroupRecord
  /** Present when the caller asked for members. */
  members?: ResourceRef[]
}

export interface GroupReadOptions {
  withMembers: boolean
}

export type GroupWriteOptions = GroupReadOptions & Pick<WriteOptions, 'ifMatch'>

function displayNameOf(document: ScimDocument): string {
  const name = document.displayName
  if (typeof name !== 'string' || name.trim() === '') {
    throw ScimError.invalidValue("Attribute 'displayName' is required")
  }
  return name
}

async function view(
  db: Executor,
  source: Source,
  record: ScimGroupRecord,
  opts: GroupReadOptions,
): Promise<GroupView> {
  if (!opts.withMembers) return { record }
  return { record, members: await members.listMembers(db, source.id, record.id) }
}

function uniquenessError(displayName: string): ScimError {
  return ScimError.uniqueness(`displayName '${displayName}' is already in use in this source`)
}

/**
 * Resolves member references to this source's users and groups. An id that is not a
 * resource of this source is 400 invalidValue, so nothing of the request is applied.
 */
async function resolveMembers(
  tx: Executor,
  source: Source,
  groupId: string,
  refs: readonly MemberRef[],
): Promise<{ userPks: number[]; groupIds: string[] }> {
  const ids = refs.map((r) => r.value)
  const found = await members.resolveMemberIds(tx, source.id, ids)
  const userPks: number[] = []
  const groupIds: string[] = []
  for (const ref of refs) {
    const userPk = found.users.get(ref.value)
    if (userPk !== undefined && ref.type !== 'Group') {
      userPks.push(userPk)
    } else if (found.groups.has(ref.value) && ref.type !== 'User') {
      // Two transactions nesting A in B and B in A would each see no cycle: serialise them.
      await lockExclusive(tx, `group-nesting:${source.id}`)
      if (await members.wouldCreateCycle(tx, groupId, ref.value)) {
        throw ScimError.invalidValue(`Adding group ${ref.value} would create a membership cycle`)
      }
      groupIds.push(ref.value)
    } else {
      throw ScimError.invalidValue(`Member '${ref.value}' is not a resource of this source`)
    }
  }
  return { userPks, groupIds }
}

/** Adds members; returns how many were not members already. */
async function addMembers(
  tx: Executor,
  source: Source,
  groupId: string,
  refs: readonly MemberRef[],
): Promise<number> {
  const { userPks, groupIds } = await resolveMembers(tx, source, groupId, refs)
  if (userPks.length > 0) await enqueueChange(tx, { kind: 'member', groupId, userPks })
  return (
    (await members.addUserMembers(tx, groupId, userPks)) +
    (await members.addGroupMembers(tx, groupId, groupIds))
  )
}

/** Applies one change to the member list; returns how many membership rows it changed. */
async function applyMemberChange(
  tx: Executor,
  source: Source,
  groupId: string,
  change: MemberChange,
): Promise<number> {
  switch (change.kind) {
    case 'add':
      return addMembers(tx, source, groupId, change.members)
    case 'remove': {
      // Removing something that is not a member is a no-op, whatever the id.
      const found = await members.resolveMemberIds(tx, source.id, change.values)
      if (found.users.size > 0) {
        await enqueueChange(tx, { kind: 'member', groupId, userPks: [...found.users.values()] })
      }
      return (
        (await members.removeUserMembers(tx, groupId, [...found.users.values()])) +
        (await members.removeGroupMembers(tx, groupId, [...found.groups]))
      )
    }
    case 'removeAll':
      await enqueueChange(tx, { kind: 'members', groupId })
      return members.removeAllMembers(tx, groupId)
    case 'replace':
      // Pushed as the whole list, reconciled against what the remote holds.
      await enqueueChange(tx, { kind: 'members', groupId })
      return (
        (await members.removeAllMembers(tx, groupId)) +
        (await addMembers(tx, source, groupId, change.members))
      )
  }
}

export async function createGroup(
  deps: Deps,
  source: Source,
  body: unknown,
  opts: GroupReadOptions,
): Promise<GroupView> {
  const normalized = normalizeResource(GROUP_RESOURCE, body)
  const displayName = displayNameOf(normalized.document)
  const { externalId, rest } = splitExternalId(normalized.document)
  const properties = await groupProperties(deps, source, rest, displayName).catch((err) =>
    mappingFailure(deps, source, err),
  )
  try {
    return await inTransaction(deps, async (tx) => {
      const now = nowIso()
      const id = uuidv7()
      await directory.insertGroup(tx, { id, ...properties, now })
      await store.insertScimGroup(tx, {
        id,
        sourceId: source.id,
        externalId,
        displayNameKey: displayName.toLowerCase(),
        document: rest,
        now,
      })
      await enqueueChange(tx, { kind: 'group', groupId: id }, now)
      if (normalized.members?.length) await addMembers(tx, source, id, normalized.members)
      await recordSourceChange(deps, tx, 'model_created', source, groupModel(id, displayName))
      const record: ScimGroupRecord = {
        id,
        sourceId: source.id,
        externalId,
        document: rest,
        created: now,
        lastModified: now,
        version: 1,
      }
      return view(tx, source, record, opts)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw uniquenessError(displayName)
    // The source was deleted while this create waited for it (see deleteSource).
    if (isForeignKeyViolation(err)) throw ScimError.notFound('This source no longer exists')
    throw err
  }
}

export async function getGroup(
  deps: Deps,
  source: Source,
  id: string,
  opts: GroupReadOptions,
): Promise<GroupView> {
  const record = await store.findScimGroup(deps.reader, source.id, id)
  if (!record) throw ScimError.notFound(`Group ${id} not found`)
  return view(deps.reader, source, record, opts)
}

async function writeGroupDocument(
  deps: Deps,
  tx: Executor,
  source: Source,
  current: ScimGroupRecord,
  document: ScimDocument,
): Promise<ScimGroupRecord> {
  const displayName = displayNameOf(document)
  const { externalId, rest } = splitExternalId(document)
  const now = nowIso()
  const written = await store
    .updateScimGroup(tx, source.id, current.id, current.version, {
      externalId,
      displayNameKey: displayName.toLowerCase(),
      document: rest,
      now,
    })
    .catch((err) => {
      // The name in conflict is the new one, not the group's current name.
      throw isUniqueViolation(err) ? uniquenessError(displayName) : err
    })
  if (!written) throw new VersionConflict()
  const properties = await groupProperties(deps, source, rest, displayName, tx)
  let attributes: string | undefined
  if (properties.attributes) {
    const group = await directory.findGroupById(tx, current.id)
    attributes = JSON.stringify({ ...group?.attributes, ...properties.attributes })
  }
  await directory.updateGroup(tx, current.id, {
    name: properties.name,
    ...(attributes !== undefined ? { attributes } : {}),
    last_updated: now,
  })
  await enqueueChange(tx, { kind: 'group', groupId: current.id }, now)
  // A parent group shows this one by name among its members.
  if (properties.name !== displayName || displayName !== current.document.displayName) {
    await members.touchGroupsListing(tx, { groupId: current.id }, now)
  }
  return writtenRecord(current, { externalId, document: rest }, now)
}

/** A new version of the group with its document unchanged (its members changed). */
async function touchGroup(
  tx: Executor,
  source: Source,
  current: ScimGroupRecord,
): Promise<ScimGroupRecord> {
  const now = nowIso()
  // The row is locked (findScimGroupForUpdate), so its version is still current's.
  await store.touchScimGroup(tx, source.id, current.id, now)
  return writtenRecord(current, current, now)
}

async function mutateGroup(
  deps: Deps,
  source: Source,
  id: string,
  opts: GroupWriteOptions,
  /** Applies the change; returns the group as it now is (written, not read back). */
  change: (tx: Executor, current: ScimGroupRecord) => Promise<ScimGroupRecord>,
): Promise<GroupView> {
  return inTransaction(deps, async (tx) => {
    const current = await store.findScimGroupForUpdate(tx, source.id, id)
    if (!current) throw ScimError.notFound(`Group ${id} not found`)
    checkIfMatch(opts.ifMatch, current.version)
    const next = await change(tx, current)
    // A change that changed nothing returns `current` and records nothing.
    if (next !== current)
      await recordSourceChange(
        deps,
        tx,
        'model_updated',
        source,
        groupModel(id, String(next.document.displayName ?? '')),
      )
    return view(tx, source, next, opts)
  }).catch((err) => mappingFailure(deps, source, err))
}

/**
 * The directory group's name (and attributes) from a SCIM Group: its displayName, or what
 * the source's group property mappings make of it (only for a source that has some).
 */
async function groupProperties(
  deps: Deps,
  source: Source,
  document: ScimDocument,
  displayName: string,
  tx?: Executor,
): Promise<{ name: string; attributes?: Record<string, unknown> }> {
  if (source.groupPropertyMappings.length === 0) return { name: displayName }
  const mapped = await mapSourceGroup(
    await sourceMappings(deps, source, 'group', tx),
    document,
    { slug: source.slug, name: source.name, user_path_template: source.userPathTemplate },
    { name: displayName, attributes: {} },
  )
  if (mapped.skipped) throw new SkipObject(mapped.by)
  return mapped.properties
}

/** PUT: the document and the member list are replaced (no members sent = no members). */
export async function replaceGroup(
  deps: Deps,
  source: Source,
  id: string,
  body: unknown,
  opts: GroupWriteOptions,
): Promise<GroupView> {
  const normalized = normalizeResource(GROUP_RESOURCE, body)
  displayNameOf(normalized.document)
  return mutateGroup(deps, source, id, opts, async (tx, current) => {
    const written = await writeGroupDocument(deps, tx, source, current, normalized.document)
    await applyMemberChange(tx, source, id, { kind: 'replace', members: normalized.members ?? [] })
    return written
  })
}

/** PATCH: document operations and membership changes, all applied or none. */
export async function patchGroup(
  deps: Deps,
  source: Source,
  id: string,
  body: unknown,
  opts: GroupWriteOptions,
): Promise<GroupView> {
  const { memberChanges, operations } = splitMemberOperations(parsePatchRequest(body))
  return mutateGroup(deps, source, id, opts, async (tx, current) => {
    let written: ScimGroupRecord | undefined
    if (operations.length > 0) {
      const result = applyPatch(GROUP_RESOURCE, withExternalId(current), operations)
      if (result.changed)
        written = await writeGroupDocument(deps, tx, source, current, result.document)
    }
    let changedRows = 0
    for (const change of memberChanges)
      changedRows += await applyMemberChange(tx, source, id, change)
    // A PATCH that changes nothing (Entra re-adds members it already added) keeps the
    // version, as it does for users: a client's next If-Match still holds.
    if (changedRows > 0 && !written) written = await touchGroup(tx, source, current)
    return written ?? current
  })
}

export async function deleteGroup(
  deps: Deps,
  source: Source,
  id: string,
  ifMatch: string | undefined,
): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const current = await store.findScimGroupForUpdate(tx, source.id, id)
    if (!current) throw ScimError.notFound(`Group ${id} not found`)
    checkIfMatch(ifMatch, current.version)
    await members.touchGroupsListing(tx, { groupId: current.id }, nowIso())
    await enqueueChange(tx, { kind: 'group', groupId: current.id })
    // Cascades to the connection row and every membership row.
    await directory.deleteGroup(tx, current.id)
    await recordSourceChange(
      deps,
      tx,
      'model_deleted',
      source,
      groupModel(current.id, String(current.document.displayName ?? '')),
    )
  })
}

export async function listGroups(
  deps: Deps,
  source: Source,
  params: ListParams,
  opts: GroupReadOptions,
): Promise<ListResult<GroupView>> {
  const filter = params.filter ? parseFilter(params.filter) : undefined
  const { records, totalResults } = await listRecords(
    deps,
    source,
    GROUP_RESOURCE,
    params,
    filter,
    {
      list: store.listScimGroups,
      count: store.countScimGroups,
    },
  )
  const items = await Promise.all(records.map((r) => view(deps.reader, source, r, opts)))
  return { items, totalResults }
}
