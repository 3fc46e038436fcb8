/** Outbound SCIM providers: create, change, delete, their connection objects, sync on demand. */
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import {
  type EventModel,
  groupModel,
  providerModel,
  providerObjectModel,
  userModel,
} from '../core/events.js'
import { nowIso } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import type { Executor } from '../store/database.js'
import { outboxDepth, outboxDepths } from '../store/outbox.js'
import * as dir from '../store/provider-directory.js'
import type { CompatibilityMode, ObjectKind, Provider, ProviderObject } from '../store/providers.js'
import * as store from '../store/providers.js'
import { type LogEntry, ProviderSync } from '../sync/engine.js'
import { SyncWorker, type WorkerOptions } from '../sync/worker.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inTransaction } from './deps.js'
import { adminChange, recordEvent, recordStandaloneEvent } from './events.js'
import { checkProviderMappingIds } from './property-mappings.js'
import { verifyKey } from './tokens.js'

export {
  type CompatibilityMode,
  PROVIDER_ORDER_FIELDS,
  type Provider,
  type ProviderFilter,
  type ProviderOrderField,
} from '../store/providers.js'

export const COMPATIBILITY_MODES = ['default', 'aws', 'slack'] as const

/** A problem with one input field: the admin API reports it under that field's name. */
export class ProviderFieldError extends ScimError {
  readonly field: string
  constructor(field: string, message: string) {
    super(400, message, 'invalidValue')
    this.field = field
  }
}

export interface ProviderInput {
  name: string
  url: string
  token: string
  verifyCertificates?: boolean
  compatibilityMode?: CompatibilityMode
  excludeUsersServiceAccount?: boolean
  filterGroup?: string | null
  dryRun?: boolean
  /** Provider property mapping uuids for users and for groups (400 naming a bad one). */
  propertyMappings?: readonly string[]
  propertyMappingsGroup?: readonly string[]
}

export type ProviderChange = Partial<ProviderInput>

/** The base URL as authentik keeps it: without a trailing slash. */
function normalizeUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '')
  let parsed: URL
  try {
    parsed = new URL(trimmed)
  } catch {
    throw new ProviderFieldError('url', 'Enter a valid URL.')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ProviderFieldError('url', 'Enter a valid URL.')
  }
  if (parsed.username || parsed.password) {
    throw new ProviderFieldError('url', 'Put the credentials in `token`, not in the URL.')
  }
  return trimmed
}

async function checkFilterGroup(deps: Deps, id: string | null | undefined): Promise<void> {
  if (id === null || id === undefined) return
  if (!(await dir.findGroup(deps.db, id))) {
    throw new ProviderFieldError('filter_group', `Invalid pk "${id}" - object does not exist.`)
  }
}

/**
 * A provider must push to another application. With one of this scimd's own tokens it would
 * push into its own source: every user would come back as a second directory user (the
 * source's), and be pushed again at the next sync. Refused, saying why.
 */
async function refuseOwnToken(deps: Deps, token: string): Promise<void> {
  if (await verifyKey(deps, token)) {
    throw new ProviderFieldError(
      'token',
      "This is a token of this scimd: a provider cannot push into this scimd's own sources (every user would be listed twice, and again at each sync). Point it at another application.",
    )
  }
}

export async function createProvider(deps: Deps, input: ProviderInput): Promise<Provider> {
  const url = normalizeUrl(input.url)
  await checkFilterGroup(deps, input.filterGroup)
  await refuseOwnToken(deps, input.token)
  const tokenSealed = await deps.secrets.seal(input.token)
  return inTransaction(deps, async (tx) => {
    const mappings = await checkMappings(tx, input)
    const pk = await store.insertProvider(tx, {
      ...(mappings.user ? { propertyMappings: mappings.user } : {}),
      ...(mappings.group ? { propertyMappingsGroup: mappings.group } : {}),
      name: input.name,
      url,
      tokenSealed,
      verifyCertificates: input.verifyCertificates ?? true,
      compatibilityMode: input.compatibilityMode ?? 'default',
      excludeUsersServiceAccount: input.excludeUsersServiceAccount ?? false,
      filterGroup: input.filterGroup ?? null,
      dryRun: input.dryRun ?? false,
      now: nowIso(),
    })
    await recordEvent(deps, tx, adminChange('model_created', providerModel(pk, input.name)))
    return (await store.findProviderByPk(tx, pk)) as Provider
  })
}

/** Checks the mapping lists given (each id a provider mapping), deduplicated. */
async function checkMappings(
  tx: Executor,
  input: ProviderChange,
): Promise<{ user?: string[]; group?: string[] }> {
  const out: { user?: string[]; group?: string[] } = {}
  if (input.propertyMappings !== undefined)
    out.user = await checkProviderMappingIds(tx, 'property_mappings', input.propertyMappings)
  if (input.propertyMappingsGroup !== undefined) {
    out.group = await checkProviderMappingIds(
      tx,
      'property_mappings_group',
      input.propertyMappingsGroup,
    )
  }
  return out
}

/** A provider pk from the path: an integer, or the provider does not exist. */
function parsePk(pkText: string | number): number {
  const pk = typeof pkText === 'number' ? pkText : Number(pkText)
  if (!/^[0-9]{1,10}$/.test(String(pkText)) || !Number.isSafeInteger(pk) || pk > 2_147_483_647) {
    throw ScimError.notFound('Provider not found')
  }
  return pk
}

export async function getProvider(deps: Deps, pkText: string | number): Promise<Provider> {
  const provider = await store.findProviderByPk(deps.db, parsePk(pkText))
  if (!provider) throw ScimError.notFound('Provider not found')
  return provider
}

export type ProviderListQuery = ListQuery<store.ProviderFilter, store.ProviderOrderField>

export async function listProviders(
  deps: Deps,
  query: ProviderListQuery,
): Promise<ListPage<Provider>> {
  return listPage(
    query,
    () => store.countProviders(deps.db, query.filter),
    (page) => store.listProviders(deps.db, query.filter, query.order, page),
  )
}

/**
 * Changes a provider (PUT and PATCH). A change of what is pushed or where (url, token,
 * mode, scope) asks for a full sync; the cached ServiceProviderConfig is keyed by the
 * provider's last change, so it is read again.
 */
export async function updateProvider(
  deps: Deps,
  pkText: string,
  change: ProviderChange,
): Promise<Provider> {
  const pk = parsePk(pkText)
  const url = change.url !== undefined ? normalizeUrl(change.url) : undefined
  await checkFilterGroup(deps, change.filterGroup)
  if (change.token !== undefined) await refuseOwnToken(deps, change.token)
  const tokenSealed = change.token !== undefined ? await deps.secrets.seal(change.token) : undefined
  return inTransaction(deps, async (tx) => {
    const current = await store.findProviderByPk(tx, pk, { forUpdate: true })
    if (!current) throw ScimError.notFound('Provider not found')
    const now = nowIso()
    const mappings = await checkMappings(tx, change)
    const row: store.UpdateableProvider = { updated_at: now }
    if (mappings.user) row.property_mappings = JSON.stringify(mappings.user)
    if (mappings.group) row.property_mappings_group = JSON.stringify(mappings.group)
    const mappingsChanged =
      (mappings.user !== undefined &&
        JSON.stringify(mappings.user) !== JSON.stringify(current.propertyMappings)) ||
      (mappings.group !== undefined &&
        JSON.stringify(mappings.group) !== JSON.stringify(current.propertyMappingsGroup))
    if (change.name !== undefined) row.name = change.name
    if (url !== undefined) row.url = url
    if (tokenSealed !== undefined) row.token_sealed = tokenSealed
    if (change.verifyCertificates !== undefined)
      row.verify_certificates = change.verifyCertificates ? 1 : 0
    if (change.compatibilityMode !== undefined) row.compatibility_mode = change.compatibilityMode
    if (change.excludeUsersServiceAccount !== undefined)
      row.exclude_users_service_account = change.excludeUsersServiceAccount ? 1 : 0
    if (change.filterGroup !== undefined) row.filter_group = change.filterGroup
    if (change.dryRun !== undefined) row.dry_run = change.dryRun ? 1 : 0
    const scopeChanged =
      mappingsChanged ||
      (url !== undefined && url !== current.url) ||
      tokenSealed !== undefined ||
      (change.compatibilityMode !== undefined &&
        change.compatibilityMode !== current.compatibilityMode) ||
      (change.excludeUsersServiceAccount !== undefined &&
        change.excludeUsersServiceAccount !== current.excludeUsersServiceAccount) ||
      (change.filterGroup !== undefined && change.filterGroup !== current.filterGroup) ||
      (change.dryRun === false && current.dryRun)
    if (scopeChanged) row.full_sync_requested_at = now
    await store.updateProvider(tx, pk, row)
    // Field names only: a new token is recorded as `token`, never its value.
    const fields = Object.keys(row)
      .filter((f) => f !== 'updated_at')
      .map((f) => (f === 'token_sealed' ? 'token' : f))
    const name = change.name ?? current.name
    await recordEvent(deps, tx, adminChange('model_updated', providerModel(pk, name), fields))
    return (await store.findProviderByPk(tx, pk)) as Provider
  })
}

/** Deletes a provider with its links and pending changes; remote objects are left as they are. */
export async function deleteProvider(deps: Deps, pkText: string): Promise<void> {
  const pk = parsePk(pkText)
  await inTransaction(deps, async (tx) => {
    const found = await store.findProviderByPk(tx, pk)
    if (!found) throw ScimError.notFound('Provider not found')
    await store.deleteProvider(tx, pk)
    await recordEvent(deps, tx, adminChange('model_deleted', providerModel(pk, found.name)))
  })
}

/** Asks for a full sync now; the worker holding the provider's lease starts it within a poll. */
export async function requestFullSync(deps: Deps, pkText: string): Promise<Provider> {
  const pk = parsePk(pkText)
  return inTransaction(deps, async (tx) => {
    const found = await store.findProviderByPk(tx, pk)
    if (!found) throw ScimError.notFound('Provider not found')
    await store.updateProvider(tx, pk, { full_sync_requested_at: nowIso() })
    const model = providerModel(pk, found.name)
    await recordEvent(deps, tx, adminChange('model_updated', model, ['full_sync_requested_at']))
    return (await store.findProviderByPk(tx, pk)) as Provider
  })
}

export interface SyncStatus {
  isRunning: boolean
  lastSyncStatus: string | null
  lastSyncMessage: string | null
  lastSuccessfulSync: string | null
  lastFullSyncStartedAt: string | null
  lastFullSyncFinishedAt: string | null
  fullSyncPending: boolean
  outbox: { count: number; oldest: string | null }
  users: { linked: number; failed: number }
  groups: { linked: number; failed: number }
  lastErrors: ProviderObject[]
}

export async function syncStatus(deps: Deps, pkText: string): Promise<SyncStatus> {
  const provider = await getProvider(deps, pkText)
  const pk = provider.pk
  const now = nowIso()
  const running =
    provider.lastFullSyncStartedAt !== null &&
    (provider.lastFullSyncFinishedAt === null ||
      provider.lastFullSyncFinishedAt < provider.lastFullSyncStartedAt) &&
    provider.leaseUntil !== null &&
    provider.leaseUntil > now
  const count = (kind: ObjectKind, withErrors: boolean) =>
    store.countProviderObjects(deps.db, kind, { providerId: pk }, { withErrors })
  const errors = [
    ...(await store.listProviderObjects(
      deps.db,
      'user',
      { providerId: pk },
      { offset: 0, limit: 10 },
      { withErrors: true },
    )),
    ...(await store.listProviderObjects(
      deps.db,
      'group',
      { providerId: pk },
      { offset: 0, limit: 10 },
      { withErrors: true },
    )),
  ]
  return {
    isRunning: running,
    lastSyncStatus: provider.lastSyncStatus,
    lastSyncMessage: provider.lastSyncMessage,
    lastSuccessfulSync: provider.lastSuccessfulSync,
    lastFullSyncStartedAt: provider.lastFullSyncStartedAt,
    lastFullSyncFinishedAt: provider.lastFullSyncFinishedAt,
    fullSyncPending:
      provider.fullSyncRequestedAt !== null &&
      (provider.lastFullSyncStartedAt === null ||
        provider.fullSyncRequestedAt >= provider.lastFullSyncStartedAt),
    outbox: await outboxDepth(deps.db, pk),
    users: { linked: await count('user', false), failed: await count('user', true) },
    groups: { linked: await count('group', false), failed: await count('group', true) },
    lastErrors: errors.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1)).slice(0, 10),
  }
}

export type SyncObjectModel = 'user' | 'group'

/**
 * Pushes one object now, in this request, and returns what happened (authentik's
 * `sync/object`). `overrideDryRun` sends even if the provider is in dry run.
 */
export async function syncObject(
  deps: Deps,
  pkText: string,
  model: SyncObjectModel,
  objectId: string,
  overrideDryRun: boolean,
): Promise<LogEntry[]> {
  const provider = await getProvider(deps, pkText)
  let uuid: string
  let object: EventModel
  if (model === 'user') {
    // authentik names users by their integer pk; the uuid is accepted too.
    const user = /^[0-9]{1,10}$/.test(objectId)
      ? await dir.findUserByPk(deps.db, Number(objectId))
      : await dir.findUserByUuid(deps.db, objectId)
    if (!user) throw new ProviderFieldError('sync_object_id', 'No user with this id.')
    uuid = user.uuid
    object = userModel(user.pk, user.username)
  } else {
    const group = await dir.findGroup(deps.db, objectId)
    if (!group) throw new ProviderFieldError('sync_object_id', 'No group with this id.')
    uuid = group.id
    object = groupModel(group.id, group.name)
  }
  const sync = await ProviderSync.open(deps, provider, { overrideDryRun, maxAttempts: 2 })
  try {
    await sync.guarded(model, uuid, async () => {
      if (model === 'user') await sync.syncUser(uuid)
      else await sync.syncGroup(uuid)
    })
  } catch (err) {
    sync.log.push({
      level: 'error',
      event: 'remote unavailable',
      error: err instanceof Error ? err.message : String(err),
    })
  } finally {
    await sync.close()
  }
  // The push is the remote's and has no transaction here: its event is recorded after it.
  await recordStandaloneEvent(deps, {
    action: 'custom_sync_object',
    model: providerModel(provider.pk, provider.name),
    context: {
      object,
      override_dry_run: overrideDryRun,
      successful: !sync.log.some((entry) => entry.level === 'error'),
    },
  })
  return sync.log
}

// ---- connection objects ------------------------------------------------------------------

export interface ProviderUserDetail {
  link: ProviderObject
  user: DirectoryUser | undefined
}

export interface ProviderGroupDetail {
  link: ProviderObject
  group: DirectoryGroup | undefined
}

export interface ProviderObjectListQuery {
  providerId?: number | undefined
  objectId?: string | undefined
  page: number
  pageSize: number
}

export async function listProviderUsers(
  deps: Deps,
  query: ProviderObjectListQuery,
): Promise<ListPage<ProviderUserDetail>> {
  const filter = { providerId: query.providerId, objectId: query.objectId }
  return listPage(
    query,
    () => store.countProviderObjects(deps.db, 'user', filter),
    async (page) => {
      const links = await store.listProviderObjects(deps.db, 'user', filter, page)
      const out: ProviderUserDetail[] = []
      for (const link of links) {
        out.push({ link, user: await dir.findUserByUuid(deps.db, link.objectId) })
      }
      return out
    },
  )
}

export async function listProviderGroups(
  deps: Deps,
  query: ProviderObjectListQuery,
): Promise<ListPage<ProviderGroupDetail>> {
  const filter = { providerId: query.providerId, objectId: query.objectId }
  return listPage(
    query,
    () => store.countProviderObjects(deps.db, 'group', filter),
    async (page) => {
      const links = await store.listProviderObjects(deps.db, 'group', filter, page)
      const out: ProviderGroupDetail[] = []
      for (const link of links) {
        out.push({ link, group: await dir.findGroup(deps.db, link.objectId) })
      }
      return out
    },
  )
}

export async function getProviderObject(
  deps: Deps,
  kind: ObjectKind,
  id: string,
): Promise<ProviderObject> {
  const found = await store.findProviderObjectById(deps.db, kind, id)
  if (!found) throw ScimError.notFound()
  return found
}

/** Unlinks a directory object from its remote copy (which stays); the next sync links again. */
export async function deleteProviderObject(
  deps: Deps,
  kind: ObjectKind,
  id: string,
): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const found = await store.findProviderObjectById(tx, kind, id)
    if (!found) throw ScimError.notFound()
    await store.deleteProviderObject(tx, kind, found.providerId, found.objectId)
    const model = providerObjectModel(kind, found.id, found.objectId)
    await recordEvent(
      deps,
      tx,
      adminChange('model_deleted', model, undefined, { provider: found.providerId }),
    )
  })
}

export async function findUserForLink(deps: Deps, uuid: string) {
  return dir.findUserByUuid(deps.db, uuid)
}

export async function findGroupForLink(deps: Deps, id: string) {
  return dir.findGroup(deps.db, id)
}

/**
 * Registers the outbox gauges: how many changes wait per provider, and how long the oldest
 * has waited (0 when none does), read from the database at each scrape.
 */
export function registerProviderMetrics(deps: Deps): void {
  const metrics = deps.metrics
  if (!metrics) return
  let last: Promise<Awaited<ReturnType<typeof outboxDepths>>> | undefined
  // One query per scrape for both gauges.
  const read = () => {
    last ??= outboxDepths(deps.db).finally(() => {
      setTimeout(() => {
        last = undefined
      }, 1000).unref()
    })
    return last
  }
  metrics.gauge(
    'scimd_provider_outbox_depth',
    'Directory changes waiting to be pushed, by provider pk',
    ['provider'],
    async () =>
      (await read()).map((d) => ({ labels: { provider: String(d.providerId) }, value: d.count })),
  )
  metrics.gauge(
    'scimd_provider_outbox_lag_seconds',
    'Age of the oldest change waiting to be pushed, by provider pk (0 when none waits)',
    ['provider'],
    async () =>
      (await read()).map((d) => ({
        labels: { provider: String(d.providerId) },
        value: d.oldest ? Math.max(0, (Date.now() - Date.parse(d.oldest)) / 1000) : 0,
      })),
  )
}

/** Starts the background worker that pushes to every provider (serve). */
export function startProviderSync(deps: Deps, opts: WorkerOptions = {}): SyncWorker {
  registerProviderMetrics(deps)
  const worker = new SyncWorker(deps, opts)
  worker.start()
  return worker
}

export async function findUserByPkText(deps: Deps, pkText: string) {
  const pk = Number(pkText)
  if (!Number.isSafeInteger(pk) || pk > 2_147_483_647) return undefined
  return dir.findUserByPk(deps.db, pk)
}

/** Runs one pass of the worker for one provider in this process (`scimd provider sync`). */
export async function runProviderNow(deps: Deps, pkText: string): Promise<void> {
  const provider = await getProvider(deps, pkText)
  const worker = new SyncWorker(deps, { owner: `scimd-cli-${process.pid}` })
  try {
    await worker.runProvider(provider.pk)
  } finally {
    await worker.stop()
  }
}
