/** Outbound SCIM providers and their connection objects (directory object ↔ remote id). */
import type { Compilable } from 'kysely'
import { nullsLast, type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type {
  Executor,
  ProviderGroupRow,
  ProviderRow,
  ProviderUserRow,
  UpdateableProviderRow,
} from './database.js'
import { hasRowLocks } from './locks.js'

export type CompatibilityMode = 'default' | 'aws' | 'slack'

export interface Provider {
  pk: number
  name: string
  url: string
  /** The bearer token, sealed (secrets.ts); only the sync client unseals it. */
  tokenSealed: string
  verifyCertificates: boolean
  compatibilityMode: CompatibilityMode
  excludeUsersServiceAccount: boolean
  filterGroup: string | null
  dryRun: boolean
  fullSyncRequestedAt: string | null
  lastFullSyncStartedAt: string | null
  lastFullSyncFinishedAt: string | null
  lastSyncStatus: string | null
  lastSyncMessage: string | null
  lastSuccessfulSync: string | null
  leaseOwner: string | null
  leaseUntil: string | null
  /** Provider property mapping ids for users and for groups (services/property-mappings.ts). */
  propertyMappings: string[]
  propertyMappingsGroup: string[]
  createdAt: string
  updatedAt: string
}

export function toProvider(row: ProviderRow): Provider {
  return {
    pk: Number(row.id),
    name: row.name,
    url: row.url,
    tokenSealed: row.token_sealed,
    verifyCertificates: row.verify_certificates === 1,
    compatibilityMode: row.compatibility_mode as CompatibilityMode,
    excludeUsersServiceAccount: row.exclude_users_service_account === 1,
    filterGroup: row.filter_group,
    dryRun: row.dry_run === 1,
    fullSyncRequestedAt: row.full_sync_requested_at,
    lastFullSyncStartedAt: row.last_full_sync_started_at,
    lastFullSyncFinishedAt: row.last_full_sync_finished_at,
    lastSyncStatus: row.last_sync_status,
    lastSyncMessage: row.last_sync_message,
    lastSuccessfulSync: row.last_successful_sync,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    propertyMappings: JSON.parse(row.property_mappings) as string[],
    propertyMappingsGroup: JSON.parse(row.property_mappings_group) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** What a new provider is given; its sync state starts empty. */
export type NewProvider = Pick<
  Provider,
  | 'name'
  | 'url'
  | 'tokenSealed'
  | 'verifyCertificates'
  | 'compatibilityMode'
  | 'excludeUsersServiceAccount'
  | 'filterGroup'
  | 'dryRun'
> & {
  propertyMappings?: readonly string[]
  propertyMappingsGroup?: readonly string[]
  now: string
}

export async function insertProvider(db: Executor, p: NewProvider): Promise<number> {
  const row = await db
    .insertInto('providers')
    .values({
      name: p.name,
      url: p.url,
      token_sealed: p.tokenSealed,
      verify_certificates: p.verifyCertificates ? 1 : 0,
      compatibility_mode: p.compatibilityMode,
      exclude_users_service_account: p.excludeUsersServiceAccount ? 1 : 0,
      filter_group: p.filterGroup,
      dry_run: p.dryRun ? 1 : 0,
      property_mappings: JSON.stringify(p.propertyMappings ?? []),
      property_mappings_group: JSON.stringify(p.propertyMappingsGroup ?? []),
      // A new provider starts with a full sync: the outbox holds nothing from before it.
      full_sync_requested_at: p.now,
      created_at: p.now,
      updated_at: p.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return Number(row.id)
}

export async function updateProvider(
  db: Executor,
  pk: number,
  row: UpdateableProviderRow,
): Promise<void> {
  await db.updateTable('providers').set(row).where('id', '=', pk).execute()
}

export async function findProviderByPk(
  db: Executor,
  pk: number,
  opts: { forUpdate?: boolean } = {},
): Promise<Provider | undefined> {
  let query = db.selectFrom('providers').selectAll().where('id', '=', pk)
  if (opts.forUpdate && hasRowLocks(db)) query = query.forUpdate()
  const row = await query.executeTakeFirst()
  return row && toProvider(row)
}

export async function deleteProvider(db: Executor, pk: number): Promise<void> {
  await db.deleteFrom('providers').where('id', '=', pk).execute()
}

/** A provider that lists a mapping, and in which list. */
export interface ProviderMappingUse {
  pk: number
  name: string
  user: string[]
  group: string[]
}

/**
 * The providers whose mapping lists contain `id`. Providers are few and the lists are JSON
 * text: a LIKE narrows the rows, the parse decides.
 */
export async function providersUsingMapping(
  db: Executor,
  id: string,
): Promise<ProviderMappingUse[]> {
  const rows = await db
    .selectFrom('providers')
    .select(['id', 'name', 'property_mappings', 'property_mappings_group'])
    .where((eb) =>
      eb.or([
        eb('property_mappings', 'like', `%${id}%`),
        eb('property_mappings_group', 'like', `%${id}%`),
      ]),
    )
    .orderBy('name')
    .execute()
  return rows
    .map((r) => ({
      pk: Number(r.id),
      name: r.name,
      user: JSON.parse(r.property_mappings) as string[],
      group: JSON.parse(r.property_mappings_group) as string[],
    }))
    .filter((u) => u.user.includes(id) || u.group.includes(id))
}

export async function listAllProviderPks(db: Executor): Promise<number[]> {
  const rows = await db.selectFrom('providers').select('id').orderBy('id').execute()
  return rows.map((r) => Number(r.id))
}

const PROVIDER_ORDER_COLUMNS = {
  pk: 'p.id',
  name: 'p.name',
  url: 'p.url',
  compatibility_mode: 'p.compatibility_mode',
} as const
export type ProviderOrderField = keyof typeof PROVIDER_ORDER_COLUMNS
export const PROVIDER_ORDER_FIELDS = Object.keys(PROVIDER_ORDER_COLUMNS) as ProviderOrderField[]

/** authentik's filters `name`, `url`, `exclude_users_service_account`, `filter_group`; `search`. */
export interface ProviderFilter {
  name?: string | undefined
  url?: string | undefined
  excludeUsersServiceAccount?: boolean | undefined
  filterGroup?: string | undefined
  search?: string | undefined
}

function filteredProviders(db: Executor, filter: ProviderFilter) {
  let query = db.selectFrom('providers as p')
  if (filter.name !== undefined) query = query.where('p.name', '=', filter.name)
  if (filter.url !== undefined) query = query.where('p.url', '=', filter.url)
  if (filter.excludeUsersServiceAccount !== undefined)
    query = query.where(
      'p.exclude_users_service_account',
      '=',
      filter.excludeUsersServiceAccount ? 1 : 0,
    )
  if (filter.filterGroup !== undefined)
    query = query.where('p.filter_group', '=', filter.filterGroup)
  const search = searchAny(['p.name', 'p.url'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countProviders(db: Executor, filter: ProviderFilter): Promise<number> {
  const { n } = await filteredProviders(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

export async function listProviders(
  db: Executor,
  filter: ProviderFilter,
  order: ReadonlyArray<OrderBy<ProviderOrderField>>,
  page: Page,
): Promise<Provider[]> {
  let query = filteredProviders(db, filter).selectAll('p')
  const orders = order.length > 0 ? order : [{ field: 'name' as const, descending: false }]
  for (const o of orders) {
    query = query.orderBy(PROVIDER_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('p.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(toProvider)
}

/**
 * Takes (or renews) the lease on a provider's outbox and full syncs for `owner` until
 * `until`: true if this owner now holds it. One conditional update, so on PostgreSQL with
 * several instances exactly one of them works a provider at a time.
 */
export async function acquireLease(
  db: Executor,
  pk: number,
  owner: string,
  now: string,
  until: string,
): Promise<boolean> {
  const result = await db
    .updateTable('providers')
    .set({ lease_owner: owner, lease_until: until })
    .where('id', '=', pk)
    .where((eb) =>
      eb.or([
        eb('lease_owner', 'is', null),
        eb('lease_owner', '=', owner),
        eb('lease_until', '<', now),
      ]),
    )
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function releaseLease(db: Executor, pk: number, owner: string): Promise<void> {
  await db
    .updateTable('providers')
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', pk)
    .where('lease_owner', '=', owner)
    .execute()
}

// ---- connection objects ------------------------------------------------------------------

export type ObjectKind = 'user' | 'group'

export interface ProviderObject {
  id: string
  providerId: number
  kind: ObjectKind
  /** The directory user's uuid or the group's id. */
  objectId: string
  remoteId: string | null
  lastBody: Record<string, unknown> | null
  /** In dry run: the request that would have been sent. */
  lastRequest: Record<string, unknown> | null
  lastError: string | null
  attempts: number
  createdAt: string
  updatedAt: string
}

function toObject(kind: ObjectKind, row: ProviderUserRow | ProviderGroupRow): ProviderObject {
  return {
    id: row.id,
    providerId: Number(row.provider_id),
    kind,
    objectId: 'user_id' in row ? row.user_id : row.group_id,
    remoteId: row.remote_id,
    lastBody: row.last_body ? (JSON.parse(row.last_body) as Record<string, unknown>) : null,
    lastRequest: row.last_request
      ? (JSON.parse(row.last_request) as Record<string, unknown>)
      : null,
    lastError: row.last_error,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

const TABLES = { user: 'provider_users', group: 'provider_groups' } as const
const OBJECT_COLUMN = { user: 'user_id', group: 'group_id' } as const

export async function findProviderObject(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  objectId: string,
): Promise<ProviderObject | undefined> {
  // biome-ignore lint/suspicious/noExplicitAny: the two tables differ only in the object column
  const row = await (db as any)
    .selectFrom(TABLES[kind])
    .selectAll()
    .where('provider_id', '=', providerId)
    .where(OBJECT_COLUMN[kind], '=', objectId)
    .executeTakeFirst()
  return row && toObject(kind, row)
}

/** The links of some objects (a page of a full sync), by object id: one query per 500. */
export async function findProviderObjects(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  objectIds: readonly string[],
): Promise<Map<string, ProviderObject>> {
  const result = new Map<string, ProviderObject>()
  for (let i = 0; i < objectIds.length; i += 500) {
    // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
    const rows = await (db as any)
      .selectFrom(TABLES[kind])
      .selectAll()
      .where('provider_id', '=', providerId)
      .where(OBJECT_COLUMN[kind], 'in', objectIds.slice(i, i + 500))
      .execute()
    for (const row of rows) {
      const link = toObject(kind, row)
      result.set(link.objectId, link)
    }
  }
  return result
}

export async function findProviderObjectById(
  db: Executor,
  kind: ObjectKind,
  id: string,
): Promise<ProviderObject | undefined> {
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  const row = await (db as any)
    .selectFrom(TABLES[kind])
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toObject(kind, row)
}

/** The query of remoteUserIds for one chunk (apart, so its plan can be checked). */
export function selectRemoteUserIds(
  db: Executor,
  providerId: number,
  userUuids: readonly string[],
) {
  // No `remote_id is not null` in SQL: with it SQLite chose the (provider_id, remote_id)
  // index and scanned every link of the provider for each call (16 ms at 20,000 users, a
  // tenth of a full sync); without it each uuid is one probe of (provider_id, user_id).
  return db
    .selectFrom('provider_users')
    .select(['user_id', 'remote_id'])
    .where('provider_id', '=', providerId)
    .where('user_id', 'in', userUuids)
}

/** The remote ids of directory users on a provider (users not linked are left out). */
export async function remoteUserIds(
  db: Executor,
  providerId: number,
  userUuids: readonly string[],
): Promise<Map<string, string>> {
  const result = new Map<string, string>()
  for (let i = 0; i < userUuids.length; i += 500) {
    const rows = await selectRemoteUserIds(db, providerId, userUuids.slice(i, i + 500)).execute()
    for (const r of rows) if (r.remote_id !== null) result.set(r.user_id, r.remote_id)
  }
  return result
}

export interface ObjectWrite {
  remoteId?: string | null
  lastBody?: Record<string, unknown> | null
  lastRequest?: Record<string, unknown> | null
  lastError?: string | null
  attempts?: number
}

/** A link just created remotely: every field known (what a full sync's page collects). */
export interface NewLink {
  objectId: string
  id: string
  remoteId: string
  lastBody: Record<string, unknown>
}

/**
 * Writes the links of objects a full sync's page created remotely, many rows per statement:
 * one upsert a link was a tenth of the provider's CPU in a full sync (Kysely compiles each).
 */
export async function saveNewLinks(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  links: readonly NewLink[],
  now: string,
): Promise<void> {
  const column = OBJECT_COLUMN[kind]
  for (let i = 0; i < links.length; i += 100) {
    const rows = links.slice(i, i + 100).map((l) => ({
      id: l.id,
      provider_id: providerId,
      [column]: l.objectId,
      remote_id: l.remoteId,
      last_body: JSON.stringify(l.lastBody),
      last_request: null,
      last_error: null,
      attempts: 0,
      created_at: now,
      updated_at: now,
    }))
    // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
    await (db as any)
      .insertInto(TABLES[kind])
      .values(rows)
      // biome-ignore lint/suspicious/noExplicitAny: Kysely's conflict builder on an untyped table
      .onConflict((oc: any) =>
        oc.columns(['provider_id', column]).doUpdateSet({
          // biome-ignore lint/suspicious/noExplicitAny: an expression builder of an untyped table
          remote_id: (eb: any) => eb.ref('excluded.remote_id'),
          // biome-ignore lint/suspicious/noExplicitAny: as above
          last_body: (eb: any) => eb.ref('excluded.last_body'),
          last_request: null,
          last_error: null,
          attempts: 0,
          updated_at: now,
        }),
      )
      .execute()
  }
}

/** Creates or changes the link of a directory object on a provider. */
export async function saveProviderObject(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  objectId: string,
  write: ObjectWrite,
  ids: { id: string; now: string },
): Promise<void> {
  const set: Record<string, unknown> = { updated_at: ids.now }
  if (write.remoteId !== undefined) set.remote_id = write.remoteId
  if (write.lastBody !== undefined)
    set.last_body = write.lastBody === null ? null : JSON.stringify(write.lastBody)
  if (write.lastRequest !== undefined)
    set.last_request = write.lastRequest === null ? null : JSON.stringify(write.lastRequest)
  if (write.lastError !== undefined) set.last_error = write.lastError
  if (write.attempts !== undefined) set.attempts = write.attempts
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  await (db as any)
    .insertInto(TABLES[kind])
    .values({
      id: ids.id,
      provider_id: providerId,
      [OBJECT_COLUMN[kind]]: objectId,
      created_at: ids.now,
      ...set,
    })
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's conflict builder on an untyped table
    .onConflict((oc: any) => oc.columns(['provider_id', OBJECT_COLUMN[kind]]).doUpdateSet(set))
    .execute()
}

export async function deleteProviderObject(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  objectId: string,
): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  await (db as any)
    .deleteFrom(TABLES[kind])
    .where('provider_id', '=', providerId)
    .where(OBJECT_COLUMN[kind], '=', objectId)
    .execute()
}

export interface ProviderObjectFilter {
  providerId?: number | undefined
  objectId?: string | undefined
}

export async function countProviderObjects(
  db: Executor,
  kind: ObjectKind,
  filter: ProviderObjectFilter,
  opts: { withErrors?: boolean } = {},
): Promise<number> {
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  let query = (db as any).selectFrom(TABLES[kind])
  if (filter.providerId !== undefined) query = query.where('provider_id', '=', filter.providerId)
  if (filter.objectId !== undefined) query = query.where(OBJECT_COLUMN[kind], '=', filter.objectId)
  if (opts.withErrors) query = query.where('last_error', 'is not', null)
  const { n } = await query
    // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
    .select((eb: any) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** The query of listProviderObjects (apart, so its plan can be checked). */
export function selectProviderObjects(
  db: Executor,
  kind: ObjectKind,
  filter: ProviderObjectFilter,
  page: Page,
  opts: { withErrors?: boolean } = {},
): Compilable<ProviderUserRow | ProviderGroupRow> & {
  execute(): Promise<Array<ProviderUserRow | ProviderGroupRow>>
} {
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  let query = (db as any).selectFrom(TABLES[kind]).selectAll()
  if (filter.providerId !== undefined) query = query.where('provider_id', '=', filter.providerId)
  if (filter.objectId !== undefined) query = query.where(OBJECT_COLUMN[kind], '=', filter.objectId)
  // Failed links first; with errors only, that key is the same for all and is left out: the
  // planner then walks the partial index of failed links (provider_*_failed_idx) instead of
  // sorting every link of the provider (a 100 ms scan at 100,000 users, per status poll).
  if (opts.withErrors) query = query.where('last_error', 'is not', null)
  else query = query.orderBy(nullsLast('last_error'), 'asc')
  return query.orderBy('updated_at', 'desc').orderBy('id').limit(page.limit).offset(page.offset)
}

export async function listProviderObjects(
  db: Executor,
  kind: ObjectKind,
  filter: ProviderObjectFilter,
  page: Page,
  opts: { withErrors?: boolean } = {},
): Promise<ProviderObject[]> {
  const rows = await selectProviderObjects(db, kind, filter, page, opts).execute()
  return rows.map((r) => toObject(kind, r))
}

/** Links of a provider in id order after `after`, for a full sync's sweep of deleted objects. */
/**
 * A provider's links in object id order after `after`, only the two ids: the scan for links
 * whose object is gone reads every link, and parsing each last body was most of its time.
 */
export async function pageLinkIds(
  db: Executor,
  kind: ObjectKind,
  providerId: number,
  after: string,
  limit: number,
): Promise<Array<{ objectId: string; remoteId: string | null }>> {
  const column = OBJECT_COLUMN[kind]
  // biome-ignore lint/suspicious/noExplicitAny: see findProviderObject
  const rows = await (db as any)
    .selectFrom(TABLES[kind])
    .select([`${column} as object_id`, 'remote_id'])
    .where('provider_id', '=', providerId)
    .where(column, '>', after)
    .orderBy(column)
    .limit(limit)
    .execute()
  return rows.map((r: { object_id: string; remote_id: string | null }) => ({
    objectId: r.object_id,
    remoteId: r.remote_id,
  }))
}

/** Asks for a full sync of every provider (after an import replaced the directory). */
export async function requestFullSyncAll(db: Executor, now: string): Promise<void> {
  await db.updateTable('providers').set({ full_sync_requested_at: now }).execute()
}

/** Which of the given remote ids are users this provider created or linked. */
export async function linkedRemoteUserIds(
  db: Executor,
  providerId: number,
  remoteIds: readonly string[],
): Promise<Set<string>> {
  const result = new Set<string>()
  for (let i = 0; i < remoteIds.length; i += 500) {
    const rows = await db
      .selectFrom('provider_users')
      .select('remote_id')
      .where('provider_id', '=', providerId)
      .where('remote_id', 'in', remoteIds.slice(i, i + 500))
      .execute()
    for (const r of rows) if (r.remote_id) result.add(r.remote_id)
  }
  return result
}

/** How a sync ended, for the status endpoint. */
export async function recordSyncResult(
  db: Executor,
  pk: number,
  result: { status: string; message: string | null; now: string; success: boolean },
): Promise<void> {
  await db
    .updateTable('providers')
    .set({
      last_sync_status: result.status,
      last_sync_message: result.message,
      ...(result.success ? { last_successful_sync: result.now } : {}),
    })
    .where('id', '=', pk)
    .execute()
}

export type UpdateableProvider = UpdateableProviderRow
