/**
 * The sync worker: for each provider whose lease it holds, runs a full sync when one is due
 * (on create, scope change, on demand, and every interval) and pushes the outbox within a
 * poll interval of each change. With several instances on one PostgreSQL, the lease row
 * makes exactly one of them work a provider at a time.
 */
import { randomUUID } from 'node:crypto'
import { withClaimedOutbox } from '../store/outbox.js'
import type { Provider } from '../store/providers.js'
import * as store from '../store/providers.js'
import { backoffDelay } from './client.js'
import { ProviderSync, SyncDeferred, type SyncDeps } from './engine.js'
import { recordSyncEvent } from './events.js'

export interface WorkerOptions {
  /** This instance's name in lease rows. */
  owner?: string
  /** How often the outbox is polled, in ms (incremental pushes follow a change within it). */
  pollMs?: number
  /** How long a lease lasts unless renewed, in ms. */
  leaseMs?: number
  /** Periodic full sync, in ms (default hourly). */
  fullSyncIntervalMs?: number
  /** Outbox entries pushed per batch. */
  batchSize?: number
  /** Client settings (tests shorten them). */
  timeoutMs?: number
  maxAttempts?: number
}

const iso = (ms: number) => new Date(ms).toISOString()

/** When a deferred change is tried again: exponential with jitter, at most 5 minutes. */
function retryAt(attempts: number): string {
  return iso(Date.now() + 1000 + backoffDelay(attempts, 1000, 300_000))
}

/** Whether a full sync is wanted now. */
export function fullSyncDue(p: Provider, now: number, intervalMs: number): boolean {
  const requested = p.fullSyncRequestedAt
  if (
    requested &&
    Date.parse(requested) <= now &&
    (!p.lastFullSyncStartedAt || requested >= p.lastFullSyncStartedAt)
  ) {
    return true
  }
  // Started and never finished: the instance running it died (its lease ran out, or this
  // instance would not hold it now). It starts over.
  if (
    p.lastFullSyncStartedAt &&
    (!p.lastFullSyncFinishedAt || p.lastFullSyncFinishedAt < p.lastFullSyncStartedAt)
  ) {
    return true
  }
  if (p.lastFullSyncFinishedAt) return Date.parse(p.lastFullSyncFinishedAt) + intervalMs <= now
  return false
}

export class SyncWorker {
  readonly owner: string
  readonly #deps: SyncDeps
  readonly #opts: Required<Omit<WorkerOptions, 'owner'>>
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(deps: SyncDeps, opts: WorkerOptions = {}) {
    this.#deps = deps
    this.owner = opts.owner ?? `scimd-${randomUUID()}`
    this.#opts = {
      pollMs: 500,
      leaseMs: 60_000,
      fullSyncIntervalMs: 3_600_000,
      batchSize: 200,
      timeoutMs: 30_000,
      maxAttempts: 4,
      ...Object.fromEntries(
        Object.entries(opts).filter(([k, v]) => k !== 'owner' && v !== undefined),
      ),
    }
  }

  start(): void {
    this.#stopped = false
    const loop = () => {
      if (this.#stopped) return
      this.#running = this.runOnce()
        .catch((err) =>
          this.#deps.logger.error('provider sync worker failed', {
            error: err instanceof Error ? err.message : String(err),
          }),
        )
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#opts.pollMs)
        })
    }
    loop()
  }

  /** Stops after the current pass and gives up the leases this instance holds. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#running
    for (const pk of await store.listAllProviderPks(this.#deps.db)) {
      await store.releaseLease(this.#deps.db, pk, this.owner).catch(() => undefined)
    }
  }

  /** One pass over every provider: what a tick of the loop does (tests call it directly). */
  async runOnce(): Promise<void> {
    for (const pk of await store.listAllProviderPks(this.#deps.db)) {
      if (this.#stopped) return
      await this.runProvider(pk)
    }
  }

  async #lease(pk: number): Promise<boolean> {
    const now = Date.now()
    return store.acquireLease(
      this.#deps.db,
      pk,
      this.owner,
      iso(now),
      iso(now + this.#opts.leaseMs),
    )
  }

  /** Works one provider if this instance holds (or takes) its lease. */
  async runProvider(pk: number): Promise<void> {
    if (!(await this.#lease(pk))) return
    const provider = await store.findProviderByPk(this.#deps.db, pk)
    if (!provider) return
    let sync: ProviderSync
    try {
      sync = await ProviderSync.open(this.#deps, provider, {
        timeoutMs: this.#opts.timeoutMs,
        maxAttempts: this.#opts.maxAttempts,
      })
    } catch (err) {
      await this.#record(pk, 'error', err)
      return
    }
    try {
      if (fullSyncDue(provider, Date.now(), this.#opts.fullSyncIntervalMs)) {
        await this.#fullSync(sync)
      }
      await this.#drain(sync)
    } finally {
      await sync.close()
    }
  }

  async #drain(sync: ProviderSync): Promise<void> {
    const { pk, name } = sync.provider
    for (let batches = 0; batches < 50 && !this.#stopped; batches++) {
      let claimed = 0
      try {
        claimed = await withClaimedOutbox(
          this.#deps.db,
          pk,
          this.#opts.batchSize,
          (entries) => {
            claimed = entries.length
            return sync.processEntries(entries)
          },
          retryAt,
        )
      } catch (err) {
        // One event when pushes start failing, not one per retry: while the remote stays
        // down every pass fails again, and the status already says 'error' (docs/events.md).
        const before = await store.findProviderByPk(this.#deps.db, pk)
        await this.#record(pk, 'error', err)
        if (before?.lastSyncStatus !== 'error') {
          await recordSyncEvent(this.#deps, { pk, name }, 'system_task_exception', {
            task: 'provider_outbox',
            status: 'error',
            message: sync.redact(err instanceof Error ? err.message : String(err)),
            deferred: err instanceof SyncDeferred,
            changes: claimed,
          })
        }
        return
      }
      if (claimed === 0) return
      await this.#recovered(sync, claimed)
      await this.#lease(pk)
    }
  }

  /** After failed pushes, the first batch that goes through clears the error and says so. */
  async #recovered(sync: ProviderSync, changes: number): Promise<void> {
    const { pk, name } = sync.provider
    const current = await store.findProviderByPk(this.#deps.db, pk)
    if (current?.lastSyncStatus !== 'error') return
    // A full sync that failed and waits to run again owns the status: its run reports it.
    const requested = current.fullSyncRequestedAt
    if (requested && (!current.lastFullSyncStartedAt || requested >= current.lastFullSyncStartedAt))
      return
    await store.recordSyncResult(this.#deps.db, pk, {
      status: 'success',
      message: null,
      now: iso(Date.now()),
      success: true,
    })
    await recordSyncEvent(this.#deps, { pk, name }, 'system_task_execution', {
      task: 'provider_outbox',
      status: 'success',
      changes,
    })
  }

  async #fullSync(sync: ProviderSync): Promise<void> {
    const { pk, name } = sync.provider
    const startedMs = Date.now()
    // The start is after the request it answers, even within one millisecond: a request
    // stamped the same instant as the start would otherwise read as still pending
    // (`requested >= started`) and the sync would run again (and the status say "requested").
    const requested = Date.parse(sync.provider.fullSyncRequestedAt ?? '')
    const startedAt = Number.isNaN(requested) ? startedMs : Math.max(startedMs, requested + 1)
    const started = iso(startedAt)
    await store.updateProvider(this.#deps.db, pk, {
      last_full_sync_started_at: started,
      last_sync_status: 'running',
    })
    const finishedAt = () => iso(Math.max(Date.now(), startedAt))
    try {
      const result = await sync.fullSync(async () => {
        await this.#lease(pk)
      })
      const now = finishedAt()
      const status = result.failed > 0 ? 'warning' : 'success'
      await store.updateProvider(this.#deps.db, pk, { last_full_sync_finished_at: now })
      await store.recordSyncResult(this.#deps.db, pk, {
        status,
        message: result.failed > 0 ? `${result.failed} objects failed; see their last_error` : null,
        now,
        success: true,
      })
      await recordSyncEvent(this.#deps, { pk, name }, 'system_task_execution', {
        task: 'provider_full_sync',
        status,
        ...result,
        duration_ms: Date.now() - startedMs,
      })
    } catch (err) {
      // Asked again in a minute: a provider's first full sync is the only way what existed
      // before it reaches the remote.
      await store.updateProvider(this.#deps.db, pk, {
        last_full_sync_finished_at: finishedAt(),
        full_sync_requested_at: iso(Date.now() + 60_000),
      })
      await this.#record(pk, 'error', err)
      await recordSyncEvent(this.#deps, { pk, name }, 'system_task_exception', {
        task: 'provider_full_sync',
        status: 'error',
        message: sync.redact(err instanceof Error ? err.message : String(err)),
        duration_ms: Date.now() - startedMs,
      })
    }
  }

  async #record(pk: number, status: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err)
    this.#deps.logger.warn('provider sync failed', {
      provider: pk,
      deferred: err instanceof SyncDeferred,
      error: message,
    })
    await store.recordSyncResult(this.#deps.db, pk, {
      status,
      message,
      now: iso(Date.now()),
      success: false,
    })
  }
}
