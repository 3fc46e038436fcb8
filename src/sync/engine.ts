/**
 * Pushes directory objects to one provider: creates, updates that skip unchanged bodies,
 * deletes, and group membership by difference. Only remote objects it created or linked are
 * ever changed or deleted.
 */
import { isDeepStrictEqual } from 'node:util'
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import { uuidv7 } from '../core/ids.js'
import type { Logger } from '../logger.js'
import { MappingError } from '../mapping/engine.js'
import type { Secrets } from '../secrets.js'
import type { DatabaseHandle } from '../store/database.js'
import type { OutboxEntry } from '../store/outbox.js'
import * as dir from '../store/provider-directory.js'
import type { ObjectKind, Provider, ProviderObject } from '../store/providers.js'
import * as store from '../store/providers.js'
import { type Capabilities, capabilitiesOf } from './capabilities.js'
import { DryRunRejected, RemoteError, ScimClient, type SentRequest } from './client.js'
import { recordSyncEvent } from './events.js'
import {
  groupBody,
  loadProviderMappings,
  type ProviderMappings,
  type RemoteBody,
  userBody,
} from './mapping.js'

/** What the sync needs of the running server (a subset of the services' Deps). */
export interface SyncDeps {
  db: DatabaseHandle
  secrets: Secrets
  logger: Logger
}

/** At most this many object failure events per sync run; the full sync's event counts all. */
const MAX_OBJECT_EVENTS = 100
/**
 * At most this many entries in a run's log (what `sync/object` returns). A full sync of
 * 100,000 users noted one entry per user, and the log was the memory that grew with the
 * directory; the logger still sees every entry.
 */
const MAX_LOG = 1000

/** What a full sync did (its event and the status report these). */
export interface FullSyncResult {
  users: number
  groups: number
  failed: number
  deleted: number
}

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

export interface LogEntry {
  level: 'info' | 'warning' | 'error'
  event: string
  [key: string]: unknown
}

const SERVICE_ACCOUNT_TYPES = new Set(['service_account', 'internal_service_account'])
const PAGE = 100
/** Users a full sync reads at once (their links and scope in one query each), and links. */
const USER_PAGE = 500
/**
 * Users pushed at once, and groups. One request at a time left the provider at a fifth of
 * what a scimd target takes (its seeding runs 32 in flight): the round trip, not the work,
 * was the cost (docs/benchmark.md, Provider). 32 as in that seeding: a target that commits
 * concurrent writes together (scimd does) takes more per second with more in flight.
 * Groups: 8, a group's members are many writes in few requests (4 left the remote idle
 * between them). Objects are independent in a full sync and within an outbox batch (each
 * appears once), so order per object is kept. A remote that throttles answers 429, which the
 * client waits out.
 */
const USER_LANES = 32
const GROUP_LANES = 8

/**
 * Runs `work` over `items` with at most `lanes` in flight; after the first failure no new
 * item starts, and that failure is thrown once those in flight have settled.
 */
async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: { err: unknown } | undefined
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T
      try {
        await work(item)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane))
  if (failure) throw failure.err
}

/** A page of a full sync's users: what was read for it, and what it created. */
interface UserPage {
  links: Map<string, ProviderObject>
  inScope: Set<number>
  created: store.NewLink[]
  /** Its users not done yet; at 0 its created links are written. */
  left: number
}

/** The remote is throttling, down or unreachable beyond the client's retries: try later. */
export class SyncDeferred extends Error {
  override name = 'SyncDeferred'
}

/** A SCIM filter value, quoted (RFC 7644 §3.4.2.2): never sent bare (authentik#16455). */
export function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function remoteId(body: Record<string, unknown>): string {
  const id = body.id
  if (typeof id !== 'string' || id === '') {
    throw new RemoteError(502, 'the remote answered a create without an id', {
      method: 'POST',
      url: '',
    })
  }
  return id
}

export class ProviderSync {
  readonly log: LogEntry[] = []
  /** Object failure events recorded by this run (bounded by MAX_OBJECT_EVENTS). */
  private objectEvents = 0

  private readonly deps: SyncDeps
  readonly provider: Provider
  private readonly client: ScimClient
  private readonly caps: Capabilities
  private readonly mappings: ProviderMappings
  private readonly token: string

  private constructor(
    deps: SyncDeps,
    provider: Provider,
    client: ScimClient,
    caps: Capabilities,
    mappings: ProviderMappings,
    token: string,
  ) {
    this.deps = deps
    this.token = token
    this.provider = provider
    this.client = client
    this.caps = caps
    this.mappings = mappings
  }

  static async open(
    deps: SyncDeps,
    provider: Provider,
    opts: { overrideDryRun?: boolean; timeoutMs?: number; maxAttempts?: number } = {},
  ): Promise<ProviderSync> {
    const token = await deps.secrets.unseal(provider.tokenSealed)
    const client = new ScimClient({
      baseUrl: provider.url,
      token,
      verifyCertificates: provider.verifyCertificates,
      dryRun: provider.dryRun && !opts.overrideDryRun,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    })
    const caps = await capabilitiesOf(
      client,
      `${provider.pk}:${provider.updatedAt}`,
      provider.compatibilityMode,
    )
    // Loaded once per run; each expression is compiled once per mapping version (engine.ts).
    const mappings = await loadProviderMappings(deps.db, {
      user: provider.propertyMappings,
      group: provider.propertyMappingsGroup,
    })
    return new ProviderSync(deps, provider, client, caps, mappings, token)
  }

  async close(): Promise<void> {
    await this.client.close()
  }

  private get db() {
    return this.deps.db
  }

  private note(entry: LogEntry): void {
    if (this.log.length < MAX_LOG) this.log.push(entry)
    const { level, event, ...rest } = entry
    const fields = { provider: this.provider.pk, ...rest }
    if (level === 'error') this.deps.logger.warn(`provider sync: ${event}`, fields)
    else this.deps.logger.debug(`provider sync: ${event}`, fields)
  }

  /** A remote that echoes the Authorization header back must not put the token at rest. */
  redact(text: string): string {
    return this.token.length >= 4 ? text.split(this.token).join('********') : text
  }

  /** An event about one object (bounded per run, so a remote refusing everything is no flood). */
  private async objectEvent(
    action: 'property_mapping_exception' | 'custom_provider_object_failed',
    context: Record<string, unknown>,
  ): Promise<void> {
    if (this.objectEvents >= MAX_OBJECT_EVENTS) return
    this.objectEvents++
    await recordSyncEvent(this.deps, this.provider, action, context)
  }

  // ---- scope --------------------------------------------------------------------------

  /** The pks of those of `users` the provider pushes (one query for a page, not one each). */
  async inScopeAmong(users: readonly Pick<DirectoryUser, 'pk' | 'type'>[]): Promise<Set<number>> {
    const candidates = users.filter(
      (u) => !(this.provider.excludeUsersServiceAccount && SERVICE_ACCOUNT_TYPES.has(u.type)),
    )
    if (!this.provider.filterGroup) return new Set(candidates.map((u) => u.pk))
    return dir.membersAmong(
      this.db,
      this.provider.filterGroup,
      candidates.map((u) => u.pk),
    )
  }

  async userInScope(user: DirectoryUser): Promise<boolean> {
    if (this.provider.excludeUsersServiceAccount && SERVICE_ACCOUNT_TYPES.has(user.type)) {
      return false
    }
    if (this.provider.filterGroup) return dir.isMember(this.db, this.provider.filterGroup, user.pk)
    return true
  }

  // ---- bookkeeping --------------------------------------------------------------------

  private async save(kind: ObjectKind, objectId: string, write: store.ObjectWrite): Promise<void> {
    await store.saveProviderObject(this.db, kind, this.provider.pk, objectId, write, {
      id: uuidv7(),
      now: new Date().toISOString(),
    })
  }

  /**
   * Writes the links of users a full sync's page created remotely, together (a few statements
   * in one transaction instead of a commit each). A crash before the write loses only links:
   * the next sync's create answers 409, and the object is found by its filter and linked.
   */
  private async writeLinks(links: readonly store.NewLink[]): Promise<void> {
    if (links.length === 0) return
    const now = new Date().toISOString()
    await this.db.transaction().execute(async (tx) => {
      // One row per user (an upsert of many rows may not touch a row twice on PostgreSQL).
      const unique = [...new Map(links.map((l) => [l.objectId, l])).values()]
      await store.saveNewLinks(tx, 'user', this.provider.pk, unique, now)
    })
  }

  /**
   * Runs one object's work: a refused request is recorded on the object and the sync goes on;
   * a transient failure (after the client's retries) stops the run for later.
   */
  async guarded(kind: ObjectKind, objectId: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work()
      return true
    } catch (err) {
      if (err instanceof SyncDeferred) throw err
      if (err instanceof DryRunRejected) {
        await this.save(kind, objectId, { lastRequest: requestOf(err.request), lastError: null })
        this.note({
          level: 'info',
          event: 'dry run: not sent',
          kind,
          objectId,
          ...requestOf(err.request),
        })
        return true
      }
      if (err instanceof MappingError) {
        // The object cannot be built: it is marked failed and the sync goes on.
        const existing = await store.findProviderObject(this.db, kind, this.provider.pk, objectId)
        await this.save(kind, objectId, {
          lastError: err.message,
          attempts: (existing?.attempts ?? 0) + 1,
        })
        this.note({
          level: 'error',
          event: 'mapping failed',
          kind,
          objectId,
          mapping: err.mapping,
          error: err.message,
        })
        await this.objectEvent('property_mapping_exception', {
          message: err.message,
          mapping: err.mapping,
          object: { model: kind, pk: objectId },
        })
        return false
      }
      const message = this.redact(err instanceof Error ? err.message : String(err))
      const existing = await store.findProviderObject(this.db, kind, this.provider.pk, objectId)
      await this.save(kind, objectId, {
        lastError: message,
        attempts: (existing?.attempts ?? 0) + 1,
      })
      this.note({ level: 'error', event: 'object failed', kind, objectId, error: message })
      if (err instanceof RemoteError && err.isTransient) throw new SyncDeferred(message)
      if (!(err instanceof RemoteError)) throw err
      await this.objectEvent('custom_provider_object_failed', {
        message,
        status: err.status,
        object: { model: kind, pk: objectId },
      })
      return false
    }
  }

  // ---- users --------------------------------------------------------------------------

  /** Brings one user's remote copy in line with the directory (create, update or delete). */
  async syncUser(
    uuid: string,
    loaded?: DirectoryUser,
    preloaded?: { link: ProviderObject | undefined; inScope: boolean; created?: store.NewLink[] },
  ): Promise<void> {
    const user = loaded ?? (await dir.findUserByUuid(this.db, uuid))
    const link = preloaded
      ? preloaded.link
      : await store.findProviderObject(this.db, 'user', this.provider.pk, uuid)
    const inScope = user && (preloaded ? preloaded.inScope : await this.userInScope(user))
    if (!user || !inScope) {
      if (link) await this.deleteRemote('user', link)
      return
    }
    const outcome = await userBody(
      user,
      this.provider.compatibilityMode,
      this.mappings.user,
      this.provider,
    )
    if (outcome.skipped) {
      // authentik's SkipObject: not pushed, and nothing remote is changed or deleted.
      this.note({ level: 'info', event: 'skipped', kind: 'user', objectId: uuid, by: outcome.by })
      return
    }
    const body = outcome.result
    if (!link?.remoteId) {
      await this.createRemote(
        'user',
        uuid,
        body,
        `userName eq ${quoted(user.username)}`,
        preloaded?.created,
      )
      return
    }
    if (link.lastBody && isDeepStrictEqual(link.lastBody, body) && !link.lastError) {
      this.note({ level: 'info', event: 'unchanged', kind: 'user', objectId: uuid })
      return
    }
    await this.updateRemote('user', link, body)
  }

  private path(kind: ObjectKind): string {
    return kind === 'user' ? '/Users' : '/Groups'
  }

  private async createRemote(
    kind: ObjectKind,
    objectId: string,
    body: RemoteBody,
    existsFilter: string,
    /** Where a full sync's page collects new links to write together; else written now. */
    created?: store.NewLink[],
  ): Promise<string> {
    const path = this.path(kind)
    let id: string
    try {
      id = remoteId((await this.client.request('POST', path, body)).body)
      this.note({ level: 'info', event: 'created', kind, objectId, remoteId: id })
    } catch (err) {
      if (!(err instanceof RemoteError) || err.status !== 409 || !this.caps.filter) throw err
      // It exists already: find it by a quoted filter and link it.
      const found = await this.client.request(
        'GET',
        `${path}?filter=${encodeURIComponent(existsFilter)}`,
      )
      const resources = Array.isArray(found.body.Resources) ? found.body.Resources : []
      const first = resources[0] as Record<string, unknown> | undefined
      if (!first) throw err
      id = remoteId(first)
      this.note({ level: 'info', event: 'linked existing', kind, objectId, remoteId: id })
      await this.save(kind, objectId, { remoteId: id, lastBody: null, lastError: null })
      await this.updateRemote(
        kind,
        { remoteId: id, lastBody: null } as ProviderObject,
        body,
        objectId,
      )
      return id
    }
    if (created) {
      created.push({ objectId, id: uuidv7(), remoteId: id, lastBody: body })
    } else {
      await this.save(kind, objectId, {
        remoteId: id,
        lastBody: body,
        lastRequest: null,
        lastError: null,
        attempts: 0,
      })
    }
    return id
  }

  /** PATCH when the remote supports it (one operation per changed attribute), else PUT. */
  private async updateRemote(
    kind: ObjectKind,
    link: Pick<ProviderObject, 'remoteId' | 'lastBody'> & { objectId?: string },
    body: RemoteBody,
    objectIdOverride?: string,
  ): Promise<void> {
    const objectId = objectIdOverride ?? (link as ProviderObject).objectId
    const url = `${this.path(kind)}/${encodeURIComponent(link.remoteId as string)}`
    try {
      if (this.caps.patch) {
        const operations = diffOperations(link.lastBody, body, kind)
        if (operations.length > 0) {
          await this.client.request('PATCH', url, {
            schemas: [PATCH_SCHEMA],
            Operations: operations,
          })
        }
      } else if (kind === 'user') {
        await this.client.request('PUT', url, { ...body, id: link.remoteId })
      } else {
        // Without PATCH a group is replaced with its members (reconcileMembers sends it).
        await this.reconcileMembers(objectId, link.remoteId as string, { body })
      }
    } catch (err) {
      if (err instanceof RemoteError && err.status === 404) {
        // Gone on the remote: recreate it.
        this.note({ level: 'warning', event: 'missing remotely, recreating', kind, objectId })
        await store.deleteProviderObject(this.db, kind, this.provider.pk, objectId)
        if (kind === 'user') await this.syncUser(objectId)
        else await this.syncGroup(objectId)
        return
      }
      throw err
    }
    this.note({ level: 'info', event: 'updated', kind, objectId, remoteId: link.remoteId })
    await this.save(kind, objectId, {
      lastBody: body,
      lastRequest: null,
      lastError: null,
      attempts: 0,
    })
  }

  private async deleteRemote(
    kind: ObjectKind,
    link: Pick<ProviderObject, 'objectId' | 'remoteId'>,
  ): Promise<void> {
    if (link.remoteId) {
      try {
        await this.client.request(
          'DELETE',
          `${this.path(kind)}/${encodeURIComponent(link.remoteId)}`,
        )
      } catch (err) {
        // Already gone is what a delete wants.
        if (!(err instanceof RemoteError) || err.status !== 404) throw err
      }
    }
    this.note({
      level: 'info',
      event: 'deleted',
      kind,
      objectId: link.objectId,
      remoteId: link.remoteId,
    })
    await store.deleteProviderObject(this.db, kind, this.provider.pk, link.objectId)
  }

  // ---- groups -------------------------------------------------------------------------

  /** Brings one group's remote copy in line; false when a mapping skipped it. */
  async syncGroup(id: string, loaded?: DirectoryGroup): Promise<boolean> {
    const group = loaded ?? (await dir.findGroup(this.db, id))
    const link = await store.findProviderObject(this.db, 'group', this.provider.pk, id)
    if (!group) {
      if (link) await this.deleteRemote('group', link)
      return true
    }
    const outcome = await groupBody(group, this.mappings.group, this.provider)
    if (outcome.skipped) {
      this.note({ level: 'info', event: 'skipped', kind: 'group', objectId: id, by: outcome.by })
      return false
    }
    const body = outcome.result
    if (!link?.remoteId) {
      const created = await this.createRemote(
        'group',
        id,
        body,
        `displayName eq ${quoted(group.name)}`,
      )
      await this.reconcileMembers(id, created, { fresh: true })
      return true
    }
    if (link.lastBody && isDeepStrictEqual(link.lastBody, body) && !link.lastError) return true
    await this.updateRemote('group', link, body)
    return true
  }

  /**
   * The remote ids the group should have, a page at a time: its in-scope direct members that
   * are pushed. Pages, so a new group's members go out as they are read (no set of them all).
   */
  private async *desiredMemberPages(groupId: string): AsyncGenerator<string[]> {
    for (let after = 0; ; ) {
      const page = await dir.pageGroupMemberLinks(this.db, this.provider.pk, groupId, after, 500)
      if (page.length === 0) return
      after = (page[page.length - 1] as dir.MemberLink).pk
      const pushed = await this.inScopeAmong(page)
      const ids: string[] = []
      for (const m of page) {
        if (!pushed.has(m.pk)) continue
        let rid = m.remoteId
        if (!rid) {
          // Not pushed yet (a change still in the outbox): push it now, then use it.
          await this.guarded('user', m.uuid, () => this.syncUser(m.uuid))
          rid = (await store.remoteUserIds(this.db, this.provider.pk, [m.uuid])).get(m.uuid) ?? null
        }
        if (rid) ids.push(rid)
      }
      yield ids
    }
  }

  /** The remote ids the group should have, all of them (to compare with the remote's). */
  private async desiredMembers(groupId: string): Promise<Set<string>> {
    const desired = new Set<string>()
    for await (const ids of this.desiredMemberPages(groupId)) for (const id of ids) desired.add(id)
    return desired
  }

  /** What the remote holds as the group's members; AWS hides them from GET /Groups. */
  private async remoteMembers(remoteGroupId: string): Promise<Set<string>> {
    const current = new Set<string>()
    if (this.provider.compatibilityMode === 'aws') {
      const filter = encodeURIComponent(`groups.value eq ${quoted(remoteGroupId)}`)
      let cursor = ''
      for (let pages = 0; pages < 100_000; pages++) {
        const { body } = await this.client
          .request('GET', `/Users?filter=${filter}&count=100&cursor=${encodeURIComponent(cursor)}`)
          .catch((err) => {
            // AWS answers 404 for a members filter it cannot resolve: no members.
            if (err instanceof RemoteError && err.status === 404)
              return { body: {} as Record<string, unknown> }
            throw err
          })
        const resources = Array.isArray(body.Resources) ? body.Resources : []
        for (const r of resources) {
          const id = (r as { id?: unknown }).id
          if (typeof id === 'string') current.add(id)
        }
        const next = body.nextCursor
        if (typeof next !== 'string' || next === '' || resources.length === 0) break
        cursor = next
      }
      return current
    }
    const { body } = await this.client.request(
      'GET',
      `/Groups/${encodeURIComponent(remoteGroupId)}?attributes=members`,
    )
    const members = Array.isArray(body.members) ? body.members : []
    for (const m of members) {
      const value = (m as { value?: unknown }).value
      if (typeof value === 'string') current.add(value)
    }
    return current
  }

  /**
   * Makes the remote group's members those of the directory group: by difference (PATCH add
   * and remove of the members that differ, in chunks the remote accepts), or, where the remote
   * has no PATCH, a PUT of the group with its whole member list. Only members that are users
   * this provider pushed are ever removed.
   */
  async reconcileMembers(
    groupId: string,
    remoteGroupId: string,
    opts: { fresh?: boolean; body?: RemoteBody } = {},
  ): Promise<void> {
    if (opts.fresh && this.caps.patch) {
      await this.addFreshMembers(groupId, remoteGroupId)
      return
    }
    const desired = await this.desiredMembers(groupId)
    if (!this.caps.patch) {
      const group = await dir.findGroup(this.db, groupId)
      if (!group) return
      let body = opts.body
      if (!body) {
        const outcome = await groupBody(group, this.mappings.group, this.provider)
        if (outcome.skipped) return
        body = outcome.result
      }
      await this.client.request('PUT', `/Groups/${encodeURIComponent(remoteGroupId)}`, {
        ...body,
        id: remoteGroupId,
        members: [...desired].map((value) => ({ value })),
      })
      await this.save('group', groupId, { lastBody: body, lastError: null, attempts: 0 })
      this.note({
        level: 'info',
        event: 'members replaced',
        objectId: groupId,
        count: desired.size,
      })
      return
    }
    // A fresh group with PATCH went through addFreshMembers above.
    const current = await this.remoteMembers(remoteGroupId)
    const adds = [...desired].filter((id) => !current.has(id))
    const stale = [...current].filter((id) => !desired.has(id))
    const removes = [...(await store.linkedRemoteUserIds(this.db, this.provider.pk, stale))]
    await this.patchMembers(groupId, remoteGroupId, adds, removes)
  }

  /**
   * A group just created remotely (so empty there): its members are added as they are read,
   * maxMemberOps a PATCH, so the remote writes the first while the next are read (and no set
   * of all of a 10,000-member group's ids is kept).
   */
  private async addFreshMembers(groupId: string, remoteGroupId: string): Promise<void> {
    const chunk = this.caps.maxMemberOps
    let pending: string[] = []
    let added = 0
    for await (const ids of this.desiredMemberPages(groupId)) {
      pending.push(...ids)
      while (pending.length >= chunk) {
        await this.sendMemberChanges(remoteGroupId, pending.slice(0, chunk), [])
        added += chunk
        pending = pending.slice(chunk)
      }
    }
    await this.sendMemberChanges(remoteGroupId, pending, [])
    added += pending.length
    if (added > 0) {
      this.note({ level: 'info', event: 'members changed', objectId: groupId, added, removed: 0 })
    }
  }

  /** Sends member changes as PATCH add/remove operations, at most maxMemberOps per request. */
  private async patchMembers(
    groupId: string,
    remoteGroupId: string,
    adds: readonly string[],
    removes: readonly string[],
  ): Promise<void> {
    if (adds.length === 0 && removes.length === 0) return
    await this.sendMemberChanges(remoteGroupId, adds, removes)
    this.note({
      level: 'info',
      event: 'members changed',
      objectId: groupId,
      added: adds.length,
      removed: removes.length,
    })
  }

  /** The PATCH requests of patchMembers: removals first, at most maxMemberOps changes each. */
  private async sendMemberChanges(
    remoteGroupId: string,
    adds: readonly string[],
    removes: readonly string[],
  ): Promise<void> {
    const changes: Array<{ op: 'add' | 'remove'; id: string }> = [
      ...removes.map((id) => ({ op: 'remove' as const, id })),
      ...adds.map((id) => ({ op: 'add' as const, id })),
    ]
    const chunk = this.caps.maxMemberOps
    for (let i = 0; i < changes.length; i += chunk) {
      const part = changes.slice(i, i + chunk)
      const operations: Record<string, unknown>[] = []
      const added = part.filter((c) => c.op === 'add').map((c) => ({ value: c.id }))
      // Each removal names its member (never a remove of all members, which AWS refuses).
      for (const c of part) {
        if (c.op === 'remove') {
          operations.push({ op: 'remove', path: 'members', value: [{ value: c.id }] })
        }
      }
      if (added.length > 0) operations.push({ op: 'add', path: 'members', value: added })
      await this.client.request(
        'PATCH',
        `/Groups/${encodeURIComponent(remoteGroupId)}`,
        { schemas: [PATCH_SCHEMA], Operations: operations },
        { discardBody: true },
      )
    }
  }

  /** Pushes a change of some memberships of a group as that difference. */
  async syncMembership(groupId: string, userPks: readonly number[]): Promise<void> {
    const users = await dir.usersByPks(this.db, userPks)
    if (groupId === this.provider.filterGroup) {
      // Joining or leaving the filter group moves a user into or out of scope.
      for (const u of users.values())
        await this.guarded('user', u.uuid, () => this.syncUser(u.uuid, u))
    }
    const group = await dir.findGroup(this.db, groupId)
    const link = await store.findProviderObject(this.db, 'group', this.provider.pk, groupId)
    if (!group) return
    if (!link?.remoteId) {
      await this.syncGroup(groupId, group)
      return
    }
    if (!this.caps.patch) {
      await this.reconcileMembers(groupId, link.remoteId)
      return
    }
    const members = await dir.membersAmong(this.db, groupId, [...users.keys()])
    const adds: string[] = []
    const removes: string[] = []
    for (const user of users.values()) {
      const wanted = members.has(user.pk) && (await this.userInScope(user))
      let rid = (await store.remoteUserIds(this.db, this.provider.pk, [user.uuid])).get(user.uuid)
      if (wanted && !rid) {
        await this.guarded('user', user.uuid, () => this.syncUser(user.uuid, user))
        rid = (await store.remoteUserIds(this.db, this.provider.pk, [user.uuid])).get(user.uuid)
      }
      if (!rid) continue
      if (wanted) adds.push(rid)
      else removes.push(rid)
    }
    await this.patchMembers(groupId, link.remoteId, adds, removes)
  }

  // ---- outbox and full sync -----------------------------------------------------------

  /**
   * Pushes a batch of outbox entries: each object once however often it changed (users, then
   * groups, then member lists, then single memberships). Throws SyncDeferred when the remote
   * is unavailable: the caller puts the batch back for later.
   */
  async processEntries(entries: readonly OutboxEntry[]): Promise<void> {
    const users = new Set<string>()
    const groups = new Set<string>()
    const fullMembers = new Set<string>()
    const deltas = new Map<string, Set<number>>()
    for (const e of entries) {
      if (e.kind === 'user') users.add(e.objectId)
      else if (e.kind === 'group') groups.add(e.objectId)
      else if (e.kind === 'members') fullMembers.add(e.objectId)
      else if (e.memberId !== null) {
        const set = deltas.get(e.objectId) ?? new Set<number>()
        set.add(Number(e.memberId))
        deltas.set(e.objectId, set)
      }
    }
    await inLanes([...users], USER_LANES, async (uuid) => {
      await this.guarded('user', uuid, () => this.syncUser(uuid))
    })
    await inLanes([...groups], GROUP_LANES, async (id) => {
      await this.guarded('group', id, async () => {
        await this.syncGroup(id)
      })
    })
    for (const id of fullMembers) {
      await this.guarded('group', id, async () => {
        const link = await store.findProviderObject(this.db, 'group', this.provider.pk, id)
        if (link?.remoteId) await this.reconcileMembers(id, link.remoteId)
        else await this.syncGroup(id)
      })
    }
    for (const [id, pks] of deltas) {
      if (fullMembers.has(id)) continue
      await this.guarded('group', id, () => this.syncMembership(id, [...pks]))
    }
  }

  /**
   * Everything, paged through the directory (never loaded whole): users, then groups with
   * their members reconciled, then links whose object is gone or out of scope are deleted.
   * `keepAlive` runs between pages (the worker renews its lease there).
   */
  async fullSync(keepAlive: () => Promise<void> = async () => {}): Promise<FullSyncResult> {
    const { users, failed: usersFailed } = await this.syncAllUsers(keepAlive)
    let failed = usersFailed
    let groups = 0
    let deleted = 0
    for (let after = ''; ; ) {
      const page = await dir.pageGroups(this.db, after, PAGE)
      if (page.length === 0) break
      after = (page[page.length - 1] as DirectoryGroup).id
      groups += page.length
      await inLanes(page, GROUP_LANES, async (g) => {
        const ok = await this.guarded('group', g.id, async () => {
          const link = await store.findProviderObject(this.db, 'group', this.provider.pk, g.id)
          if (!link?.remoteId) {
            await this.syncGroup(g.id, g)
            return
          }
          const pushed = await this.syncGroup(g.id, g)
          if (pushed && this.caps.patch) await this.reconcileMembers(g.id, link.remoteId)
        })
        if (!ok) failed++
      })
      await keepAlive()
    }
    for (const kind of ['user', 'group'] as const) {
      for (let after = ''; ; ) {
        const links = await store.pageLinkIds(this.db, kind, this.provider.pk, after, USER_PAGE)
        if (links.length === 0) break
        after = (links[links.length - 1] as { objectId: string }).objectId
        // What of the page is still there and in scope, in one query (not one per link).
        const kept =
          kind === 'user'
            ? await this.usersKept(links.map((l) => l.objectId))
            : await dir.existingGroupIds(
                this.db,
                links.map((l) => l.objectId),
              )
        for (const link of links) {
          if (kept.has(link.objectId)) continue
          if (await this.guarded(kind, link.objectId, () => this.deleteRemote(kind, link))) {
            deleted++
          } else failed++
        }
        await keepAlive()
      }
    }
    return { users, groups, failed, deleted }
  }

  /**
   * A full sync's users: USER_LANES in flight across page boundaries (a lane that is done
   * takes the next user, from the next page if need be, instead of waiting for the slowest of
   * its page: that wait was a tenth of the phase). Each page's created links are written when
   * its last user is done; after a failure, those of the pages left unfinished too.
   */
  private async syncAllUsers(
    keepAlive: () => Promise<void>,
  ): Promise<{ users: number; failed: number }> {
    const counts = { users: 0, failed: 0 }
    const open = new Set<UserPage>()
    const work = this.userWork(keepAlive, open, counts)
    let failure: { err: unknown } | undefined
    const lane = async () => {
      while (!failure) {
        let item: IteratorResult<{ user: DirectoryUser; page: UserPage }>
        try {
          item = await work.next()
        } catch (err) {
          failure ??= { err }
          return
        }
        if (item.done) return
        const { user, page } = item.value
        const known = {
          link: page.links.get(user.uuid),
          inScope: page.inScope.has(user.pk),
          created: page.created,
        }
        try {
          if (!(await this.guarded('user', user.uuid, () => this.syncUser(user.uuid, user, known))))
            counts.failed++
        } catch (err) {
          failure ??= { err }
        }
        if (--page.left === 0) {
          open.delete(page)
          await this.writeLinks(page.created).catch((err: unknown) => {
            failure ??= { err }
          })
        }
      }
    }
    await Promise.all(Array.from({ length: USER_LANES }, lane))
    for (const page of open) await this.writeLinks(page.created)
    if (failure) throw failure.err
    return counts
  }

  /** The users of the directory one by one, read a page at a time (see syncAllUsers). */
  private async *userWork(
    keepAlive: () => Promise<void>,
    open: Set<UserPage>,
    counts: { users: number },
  ): AsyncGenerator<{ user: DirectoryUser; page: UserPage }> {
    for (let after = 0; ; ) {
      const users = await dir.pageUsers(this.db, after, USER_PAGE)
      if (users.length === 0) return
      after = (users[users.length - 1] as DirectoryUser).pk
      counts.users += users.length
      const page: UserPage = {
        links: await store.findProviderObjects(
          this.db,
          'user',
          this.provider.pk,
          users.map((u) => u.uuid),
        ),
        inScope: await this.inScopeAmong(users),
        created: [],
        left: users.length,
      }
      open.add(page)
      for (const user of users) yield { user, page }
      await keepAlive()
    }
  }

  /** The uuids among `uuids` of users that exist and are in scope. */
  private async usersKept(uuids: readonly string[]): Promise<Set<string>> {
    const users = await dir.usersByUuids(this.db, uuids)
    const inScope = await this.inScopeAmong(users)
    return new Set(users.filter((u) => inScope.has(u.pk)).map((u) => u.uuid))
  }
}

function requestOf(request: SentRequest): Record<string, unknown> {
  return request.body === undefined
    ? { method: request.method, url: request.url }
    : { method: request.method, url: request.url, body: request.body }
}

/**
 * PATCH operations that turn `before` into `after`, one per changed top-level attribute, each
 * with an explicit path (AWS refuses operations without one). An attribute that is gone is
 * removed, except userName and active, which targets refuse to remove.
 */
export function diffOperations(
  before: Record<string, unknown> | null,
  after: RemoteBody,
  kind: ObjectKind,
): Record<string, unknown>[] {
  const operations: Record<string, unknown>[] = []
  const prior = before ?? {}
  for (const [key, value] of Object.entries(after)) {
    if (key === 'schemas' || key === 'id' || key === 'members') continue
    if (before && isDeepStrictEqual(before[key], value)) continue
    if (isExtension(key, value)) {
      // An extension (a mapping's enterprise fields) is changed attribute by attribute: a bare
      // schema URN is not a valid PATCH path (RFC 7644 §3.5.2).
      operations.push(...extensionOperations(key, prior[key], value))
      continue
    }
    operations.push({ op: 'replace', path: key, value })
  }
  if (before) {
    for (const key of Object.keys(before)) {
      if (key in after || key === 'schemas' || key === 'id' || key === 'members') continue
      if (kind === 'user' && (key === 'userName' || key === 'active')) continue
      if (isExtension(key, before[key])) {
        operations.push(...extensionOperations(key, before[key], {}))
        continue
      }
      operations.push({ op: 'remove', path: key })
    }
  }
  // A changed extension needs its URN in `schemas` on targets that check it: send it along.
  const schemasChanged = before && !isDeepStrictEqual(before.schemas, after.schemas)
  if (schemasChanged && Array.isArray(after.schemas) && after.schemas.length > 1) {
    operations.unshift({ op: 'replace', path: 'schemas', value: after.schemas })
  }
  return operations
}

function isExtension(key: string, value: unknown): value is Record<string, unknown> {
  return (
    key.startsWith('urn:') && typeof value === 'object' && value !== null && !Array.isArray(value)
  )
}

function extensionOperations(
  urn: string,
  before: unknown,
  after: Record<string, unknown>,
): Record<string, unknown>[] {
  const prior = isExtension(urn, before) ? before : {}
  const operations: Record<string, unknown>[] = []
  for (const [attr, value] of Object.entries(after)) {
    if (isDeepStrictEqual(prior[attr], value)) continue
    operations.push({ op: 'replace', path: `${urn}:${attr}`, value })
  }
  for (const attr of Object.keys(prior)) {
    if (!(attr in after)) operations.push({ op: 'remove', path: `${urn}:${attr}` })
  }
  return operations
}
