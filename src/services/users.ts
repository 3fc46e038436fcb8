/** SCIM User operations (RFC 7644 §3): each request is one transaction on the source's own data. */
import {
  type ScimDocument,
  type ScimUserRecord,
  type Source,
  type UserGroupRef,
  userDisplay,
} from '../core/domain.js'
import { userModel } from '../core/events.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import { type MappingDefinition, SkipObject } from '../mapping/engine.js'
import { mapSourceUser } from '../mapping/source.js'
import { ScimError } from '../scim/errors.js'
import type { Filter } from '../scim/filter/ast.js'
import { parseFilter } from '../scim/filter/parse.js'
import type { ListParams } from '../scim/list.js'
import { normalizeResource } from '../scim/normalize.js'
import { applyPatch } from '../scim/patch/apply.js'
import { parsePatchRequest } from '../scim/patch/request.js'
import { resolveAttributePath, USER_RESOURCE } from '../scim/schema/resource-types.js'
import { hashPassword } from '../secrets.js'
import type { Executor, NewEventRow } from '../store/database.js'
import * as directory from '../store/directory.js'
import { isForeignKeyViolation, isUniqueViolation } from '../store/errors.js'
import { recordEvent as recordStoredEvent, withModelPk } from '../store/events.js'
import {
  listGroupsOfUsers,
  removeUserFromSourceGroups,
  touchGroupsListing,
} from '../store/members.js'
import { enqueueChange } from '../store/outbox.js'
import * as store from '../store/scim-resources/users.js'
import { type Deps, inTransaction, VersionConflict, withRetries } from './deps.js'
import { recordSourceChange, sourceChangeRow } from './events.js'
import { matchUser } from './matching.js'
import { mappingFailure, sourceMappings } from './property-mappings.js'
import {
  checkIfMatch,
  type ListResult,
  listRecords,
  splitExternalId,
  withExternalId,
  writtenRecord,
} from './resource-common.js'

export interface UserView {
  record: ScimUserRecord
  /** Present when the caller asked for the read-only `groups` attribute. */
  groups?: UserGroupRef[]
}

export interface ReadOptions {
  withGroups: boolean
}

export interface WriteOptions extends ReadOptions {
  /** The If-Match header (RFC 7644 §3.14), if any. */
  ifMatch?: string | undefined
}

function userNameOf(document: ScimDocument): string {
  const userName = document.userName
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw ScimError.invalidValue("Attribute 'userName' is required")
  }
  return userName
}

function emailsOf(document: ScimDocument): store.EmailEntry[] {
  const emails = Array.isArray(document.emails) ? document.emails : []
  return emails.flatMap((e): store.EmailEntry[] => {
    if (!e || typeof e !== 'object') return []
    const { value, type, primary } = e as Record<string, unknown>
    if (typeof value !== 'string') return []
    return [{ value, type: typeof type === 'string' ? type : null, primary: primary === true }]
  })
}

/** What the core directory user takes from a SCIM User (authentik's base user mapping). */
function directoryFields(document: ScimDocument, source: Source, userName: string) {
  const name = (document.name ?? {}) as Record<string, unknown>
  const formatted =
    typeof name.formatted === 'string'
      ? name.formatted
      : [name.givenName, name.familyName].filter((p) => typeof p === 'string' && p).join(' ')
  const displayName = typeof document.displayName === 'string' ? document.displayName : ''
  const emails = emailsOf(document)
  const email = (emails.find((e) => e.primary) ?? emails[0])?.value ?? ''
  return {
    username: userName,
    name: displayName || formatted,
    email,
    is_active: document.active === false ? 0 : 1,
    path: source.userPathTemplate.replace('%(slug)s', source.slug),
  }
}

/**
 * directoryFields through the source's user property mappings (services/property-mappings.ts),
 * for a source that has any; `attributes` is what the mappings put there.
 */
async function mappedFields(
  mappings: readonly MappingDefinition[],
  document: ScimDocument,
  source: Source,
  userName: string,
) {
  const base = directoryFields(document, source, userName)
  const mapped = await mapSourceUser(
    mappings,
    document,
    { slug: source.slug, name: source.name, user_path_template: source.userPathTemplate },
    { ...base, is_active: base.is_active === 1, attributes: {} },
  )
  if (mapped.skipped) throw new SkipObject(mapped.by)
  const p = mapped.properties
  return {
    fields: {
      username: p.username,
      name: p.name,
      email: p.email,
      is_active: p.is_active ? 1 : 0,
      path: p.path,
    },
    attributes: p.attributes,
  }
}

/** How a group's `members[].display` shows this user (store/members.ts listMembers). */
function memberDisplay(document: ScimDocument, source: Source): string {
  const userName = typeof document.userName === 'string' ? document.userName : ''
  return userDisplay({ name: directoryFields(document, source, userName).name, username: userName })
}

async function view(
  db: Executor,
  source: Source,
  record: ScimUserRecord,
  opts: ReadOptions,
): Promise<UserView> {
  return (await views(db, source, [record], opts))[0] as UserView
}

/** Views of a page of users; their groups, if asked for, come from one query. */
async function views(
  db: Executor,
  source: Source,
  records: readonly ScimUserRecord[],
  opts: ReadOptions,
): Promise<UserView[]> {
  if (!opts.withGroups) return records.map((record) => ({ record }))
  const groups = await listGroupsOfUsers(
    db,
    source.id,
    records.map((r) => r.userId),
  )
  return records.map((record) => ({ record, groups: groups.get(record.userId) ?? [] }))
}

function uniquenessError(userName: string): ScimError {
  return ScimError.uniqueness(`userName '${userName}' is already in use in this source`)
}

export async function createUser(
  deps: Deps,
  source: Source,
  body: unknown,
  opts: ReadOptions,
): Promise<UserView> {
  const { document, password } = normalizeResource(USER_RESOURCE, body)
  const userName = userNameOf(document)
  const passwordHash = password ? await hashPassword(password) : null
  const { externalId, rest } = splitExternalId(document)
  // A source without mappings takes the built-in fields, with no expression evaluated.
  let fields: ReturnType<typeof directoryFields> = directoryFields(rest, source, userName)
  let attributes: Record<string, unknown> | undefined
  if (source.userPropertyMappings.length > 0) {
    try {
      const mappings = await sourceMappings(deps, source, 'user')
      ;({ fields, attributes } = await mappedFields(mappings, rest, source, userName))
    } catch (err) {
      mappingFailure(deps, source, err)
    }
  }
  const now = nowIso()
  const id = uuidv7()
  const newUser: store.NewScimUser = {
    id,
    sourceId: source.id,
    user: {
      uuid: id,
      ...fields,
      ...(attributes ? { attributes: JSON.stringify(attributes) } : {}),
      type: 'internal',
      password_hash: passwordHash,
      date_joined: now,
      last_login: null,
      last_updated: now,
    },
    externalId,
    userNameKey: store.userNameKey(userName),
    document: rest,
    emails: emailsOf(rest),
    now,
  }
  try {
    // `identifier` (the default) never looks at other users: today's one-statement create.
    const event = createdEvent(deps, source, userName)
    const userPk =
      source.userMatchingMode === 'identifier'
        ? await withRetries(deps, () =>
            store.createScimUser(deps.db, deps.transactor, newUser, event),
          )
        : await inTransaction(deps, (tx) => createMatched(tx, source, newUser, event))
    // What was written is what a read would return; a new user is in no group yet.
    const record: ScimUserRecord = {
      id,
      sourceId: source.id,
      userId: userPk,
      externalId,
      document: rest,
      created: now,
      lastModified: now,
      version: 1,
    }
    return opts.withGroups ? { record, groups: [] } : { record }
  } catch (err) {
    if (isUniqueViolation(err)) throw uniquenessError(userName)
    // The source was deleted while this create waited for it (see deleteSource).
    if (isForeignKeyViolation(err)) throw ScimError.notFound('This source no longer exists')
    throw err
  }
}

/**
 * A create under a matching mode (services/matching.ts), in one transaction: a new user, or
 * a connection of this source to the directory user it links to, which takes this source's
 * fields like any other write of it. Returns the directory user's pk.
 */
async function createMatched(
  tx: Executor,
  source: Source,
  newUser: store.NewScimUser,
  event: NewEventRow | undefined,
): Promise<number> {
  const fields = { username: String(newUser.user.username), email: newUser.user.email ?? '' }
  const match = await matchUser(tx, source, fields)
  if (match.kind === 'create') return store.insertScimUser(tx, newUser, event)
  const {
    uuid: _uuid,
    date_joined: _joined,
    last_login: _login,
    type: _type,
    ...update
  } = newUser.user
  await store.insertScimUserConnection(tx, { ...newUser, userId: match.user.pk, ownsUser: false })
  if (update.attributes !== undefined) {
    const merged = { ...match.user.attributes, ...JSON.parse(update.attributes) }
    update.attributes = JSON.stringify(merged)
  }
  await directory.updateUser(tx, match.user.pk, update)
  await touchGroupsListing(tx, { userPk: match.user.pk }, newUser.now)
  await enqueueChange(tx, { kind: 'user', userPk: match.user.pk }, newUser.now)
  if (event) await recordStoredEvent(tx, withModelPk(event, match.user.pk))
  return match.user.pk
}

export async function getUser(
  deps: Deps,
  source: Source,
  id: string,
  opts: ReadOptions,
): Promise<UserView> {
  const found = opts.withGroups
    ? await store.findScimUserWithGroups(deps.reader, source.id, id)
    : await store.findScimUser(deps.reader, source.id, id).then((record) => record && { record })
  if (!found) throw ScimError.notFound(`User ${id} not found`)
  return found
}

/** Writes a new document for an existing user, keeping the directory in step. */
async function writeUser(
  deps: Deps,
  tx: Executor,
  source: Source,
  current: ScimUserRecord,
  document: ScimDocument,
  passwordHash: string | null | undefined,
): Promise<ScimUserRecord> {
  const userName = userNameOf(document)
  const { externalId, rest } = splitExternalId(document)
  const now = nowIso()
  const written = await store.updateScimUser(tx, source.id, current.id, current.version, {
    externalId,
    userNameKey: store.userNameKey(userName),
    document: rest,
    now,
  })
  if (!written) throw new VersionConflict()
  let fields = directoryFields(rest, source, userName)
  let attributes: string | undefined
  if (source.userPropertyMappings.length > 0) {
    const mapped = await mappedFields(
      await sourceMappings(deps, source, 'user', tx),
      rest,
      source,
      userName,
    )
    fields = mapped.fields
    // Mapped attributes are merged in: keys are added or replaced, never removed (authentik).
    const user = await directory.findUserByPk(tx, current.userId)
    attributes = JSON.stringify({ ...user?.attributes, ...mapped.attributes })
  }
  await directory.updateUser(tx, current.userId, {
    ...fields,
    ...(attributes !== undefined ? { attributes } : {}),
    ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
    last_updated: now,
  })
  await store.replaceScimUserEmails(tx, source.id, current.id, emailsOf(rest), false)
  await enqueueChange(tx, { kind: 'user', userPk: current.userId }, now)
  // A rename changes the groups listing the user: they show it by name (or userName). With
  // mappings the shown name is the mapped one, which the stored document cannot tell.
  if (
    attributes !== undefined ||
    userDisplay({ name: fields.name, username: userName }) !==
      memberDisplay(current.document, source)
  ) {
    await touchGroupsListing(tx, { userPk: current.userId }, now)
  }
  return writtenRecord(current, { externalId, document: rest }, now)
}

/** The model_created event of a new user; its pk (0 here) is filled in by the store. */
function createdEvent(deps: Deps, source: Source, userName: string) {
  return sourceChangeRow(deps, 'model_created', source, userModel(0, userName))
}

async function mutateUser(
  deps: Deps,
  source: Source,
  id: string,
  opts: WriteOptions,
  change: (current: ScimUserRecord) => Promise<{
    document: ScimDocument
    passwordHash?: string | null
    changed: boolean
  }>,
): Promise<UserView> {
  let attemptedUserName = ''
  try {
    return await inTransaction(deps, async (tx) => {
      const current = await store.findScimUserForUpdate(tx, source.id, id)
      if (!current) throw ScimError.notFound(`User ${id} not found`)
      checkIfMatch(opts.ifMatch, current.version)
      const next = await change(current)
      attemptedUserName = String(next.document.userName ?? '')
      if (!next.changed) return view(tx, source, current, opts)
      const record = await writeUser(deps, tx, source, current, next.document, next.passwordHash)
      await recordSourceChange(
        deps,
        tx,
        'model_updated',
        source,
        userModel(current.userId, attemptedUserName),
      )
      return view(tx, source, record, opts)
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw uniquenessError(attemptedUserName)
    mappingFailure(deps, source, err)
  }
}

/** PUT (RFC 7644 §3.5.1): what is not sent is cleared; readOnly attributes are ignored. */
export async function replaceUser(
  deps: Deps,
  source: Source,
  id: string,
  body: unknown,
  opts: WriteOptions,
): Promise<UserView> {
  const { document, password } = normalizeResource(USER_RESOURCE, body)
  userNameOf(document)
  const passwordHash = password ? await hashPassword(password) : undefined
  return mutateUser(deps, source, id, opts, async () => ({
    document,
    ...(passwordHash !== undefined ? { passwordHash } : {}),
    changed: true,
  }))
}

/** PATCH (RFC 7644 §3.5.2): all operations apply, or none do. */
export async function patchUser(
  deps: Deps,
  source: Source,
  id: string,
  body: unknown,
  opts: WriteOptions,
): Promise<UserView> {
  const operations = parsePatchRequest(body)
  return mutateUser(deps, source, id, opts, async (current) => {
    const result = applyPatch(USER_RESOURCE, withExternalId(current), operations)
    // Password changes are rare (Okta's password sync); hashing here keeps PATCH atomic.
    const passwordHash =
      result.password !== undefined ? await hashPassword(result.password) : undefined
    return {
      document: result.document,
      ...(passwordHash !== undefined ? { passwordHash } : {}),
      changed: result.changed || passwordHash !== undefined,
    }
  })
}

export async function deleteUser(
  deps: Deps,
  source: Source,
  id: string,
  ifMatch: string | undefined,
): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const current = await store.findScimUserForUpdate(tx, source.id, id)
    if (!current) throw ScimError.notFound(`User ${id} not found`)
    checkIfMatch(ifMatch, current.version)
    await releaseUser(tx, source.id, current.id, current.userId)
    await recordSourceChange(
      deps,
      tx,
      'model_deleted',
      source,
      userModel(current.userId, String(current.document.userName ?? '')),
    )
  })
}

/**
 * A source lets go of one of its users (SCIM DELETE, or an admin deleting the connection).
 * The directory user is deleted with it only when nothing else holds it: no other source
 * links it, and it did not exist before this source linked it (matching modes). Otherwise
 * only the connection goes, the user leaves this source's groups, and if this connection
 * was the one the user exists for, the oldest other holder becomes it.
 */
export async function releaseUser(
  tx: Executor,
  sourceId: string,
  connectionId: string,
  userPk: number,
): Promise<void> {
  const now = nowIso()
  const holders = await store.listUserHolders(tx, userPk)
  const others = holders.filter((h) => h.id !== connectionId)
  const owns = holders.find((h) => h.id === connectionId)?.ownsUser ?? true
  // Before the row may go: the outbox names the user by uuid, read from it.
  await enqueueChange(tx, { kind: 'user', userPk }, now)
  if (others.length === 0 && owns) {
    await touchGroupsListing(tx, { userPk }, now)
    // Deleting the directory user cascades to its connection row, emails and memberships.
    await directory.deleteUser(tx, userPk)
    return
  }
  for (const groupId of await removeUserFromSourceGroups(tx, sourceId, userPk, now)) {
    await enqueueChange(tx, { kind: 'member', groupId, userPks: [userPk] }, now)
  }
  await store.deleteScimUserConnection(tx, sourceId, connectionId)
  const [heir] = others
  if (owns && heir) await store.markOwnsUser(tx, heir.id)
}

export async function listUsers(
  deps: Deps,
  source: Source,
  params: ListParams,
  opts: ReadOptions,
): Promise<ListResult<UserView>> {
  const filter = params.filter ? parseFilter(params.filter) : undefined
  const userName = filter && userNameEquals(filter)
  if (userName !== undefined) {
    // The existence check every identity provider makes before a create: at most one
    // match (userName is unique per source), found by one prepared index lookup.
    const found = opts.withGroups
      ? await store.findScimUserWithGroupsByUserName(deps.reader, source.id, userName)
      : await store
          .findScimUserByUserName(deps.reader, source.id, userName)
          .then((record) => record && { record })
    const matches = found ? [found] : []
    const items = matches.slice(params.startIndex - 1, params.startIndex - 1 + params.count)
    return { items, totalResults: matches.length }
  }
  const { records, totalResults } = await listRecords(deps, source, USER_RESOURCE, params, filter, {
    list: store.listScimUsers,
    count: store.countScimUsers,
  })
  return { items: await views(deps.reader, source, records, opts), totalResults }
}

/** The userName of a `userName eq "…"` filter (URN-qualified or not); undefined for any other. */
function userNameEquals(filter: Filter): string | undefined {
  if (filter.op !== 'eq' || typeof filter.compValue !== 'string') return undefined
  const resolved = resolveAttributePath(USER_RESOURCE, filter.attrPath)
  const isUserName =
    resolved !== undefined &&
    !resolved.isExtension &&
    resolved.subAttribute === undefined &&
    resolved.attribute.name === 'userName'
  return isUserName ? filter.compValue : undefined
}
