/** The event log: recording events inside the transaction of their change, reading them, expiring them. */
import {
  type AuditEvent,
  EVENT_APPS,
  type EventAction,
  type EventModel,
  type EventSource,
  type EventUser,
} from '../core/events.js'
import { nowIso } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import type { Executor, NewEventRow } from '../store/database.js'
import * as store from '../store/events.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inTransaction } from './deps.js'

export { EVENT_ORDER_FIELDS, type EventFilter, type EventOrderField } from '../store/events.js'

/** An event to record; who and from where default to the request's (Deps.audit). */
export interface NewEvent {
  action: EventAction
  /** The object concerned (authentik's `context.model`). */
  model?: EventModel
  /** The SCIM source concerned (`context.source`, and the `context__source` filter). */
  source?: EventSource
  /** More context: ids and names only, never a secret, never a whole resource. */
  context?: Record<string, unknown>
  user?: EventUser | null
  clientIp?: string | null
  app?: string
}

const DAY_MS = 86_400_000

/** How long events are kept: the retention configured now applies to every event. */
function retentionMs(deps: Deps): number {
  return deps.config.eventRetentionDays * DAY_MS
}

/** The row `event` is stored as, stamped now. */
export function eventRow(deps: Deps, event: NewEvent, now = Date.now()): NewEventRow {
  const audit = deps.audit
  const user = event.user !== undefined ? event.user : (audit?.user ?? null)
  const { model, source } = event
  return {
    action: event.action,
    app: event.app ?? audit?.app ?? EVENT_APPS.system,
    user_pk: user?.pk ?? null,
    username: user?.username ?? null,
    client_ip: event.clientIp !== undefined ? event.clientIp : (audit?.clientIp ?? null),
    source_id: source?.id ?? null,
    source_slug: source?.slug ?? null,
    model_app: model?.app ?? null,
    model_name: model?.model_name ?? null,
    model_pk: model === undefined ? null : String(model.pk),
    model_label: model?.name ?? null,
    context: event.context === undefined ? '{}' : JSON.stringify(event.context),
    created: nowIso(now),
  }
}

/**
 * Records an event with `tx`, the transaction of the change it records (call it after the
 * change, inside the same transaction): the event commits with the change or not at all.
 * Who acted and from where come from the request (Deps.audit) unless `event` says.
 */
export function recordEvent(deps: Deps, tx: Executor, event: NewEvent): Promise<void> {
  return store.recordEvent(tx, eventRow(deps, event))
}

/**
 * Records an event that belongs to no change (a failed authentication, a configuration
 * error) in a transaction of its own.
 */
export function recordStandaloneEvent(deps: Deps, event: NewEvent): Promise<void> {
  return inTransaction(deps, (tx) => recordEvent(deps, tx, event))
}

/** When each throttled event was last recorded, by key (see recordThrottledEvent). */
const lastRecorded = new WeakMap<Deps['config'], Map<string, number>>()
const THROTTLE_MS = 60_000

/**
 * Records a standalone event at most once a minute per `key` in this process: for what an
 * identity provider repeats on every request (a disabled source, an expired token), so that
 * one misconfiguration does not write one event per request. Never fails the request: an
 * event that cannot be written is logged.
 */
export async function recordThrottledEvent(
  deps: Deps,
  key: string,
  event: NewEvent,
): Promise<void> {
  let seen = lastRecorded.get(deps.config)
  if (!seen) {
    seen = new Map()
    lastRecorded.set(deps.config, seen)
  }
  const now = Date.now()
  const last = seen.get(key)
  if (last !== undefined && now - last < THROTTLE_MS) return
  if (seen.size >= 10_000) seen.clear()
  seen.set(key, now)
  await recordStandaloneEvent(deps, event).catch((err: unknown) =>
    deps.logger.warn('event not recorded', {
      action: event.action,
      error: err instanceof Error ? err.message : String(err),
    }),
  )
}

export type EventListQuery = ListQuery<store.EventFilter, store.EventOrderField>

export async function listEvents(deps: Deps, query: EventListQuery): Promise<ListPage<AuditEvent>> {
  return listPage(
    query,
    () => store.countEvents(deps.db, query.filter),
    (page) => store.listEvents(deps.db, query.filter, query.order, page, retentionMs(deps)),
  )
}

export async function getEvent(deps: Deps, id: string): Promise<AuditEvent> {
  const found = /^[0-9a-f-]{36}$/i.test(id)
    ? await store.findEvent(deps.db, id.toLowerCase(), retentionMs(deps))
    : undefined
  if (!found) throw ScimError.notFound('Event not found')
  return found
}

/** Rows deleted per transaction when expiring events. */
const PURGE_BATCH = 5000

/**
 * Deletes every event older than the retention configured now (SCIMD_EVENT_RETENTION_DAYS,
 * which thus applies to events recorded under another), and the failure counts of windows
 * that are over, a batch per transaction; returns how many events were deleted.
 */
export async function purgeExpired(deps: Deps, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionMs(deps)).toISOString()
  let total = 0
  for (;;) {
    const deleted = await inTransaction(deps, (tx) =>
      store.deleteEventsBefore(tx, cutoff, PURGE_BATCH),
    )
    total += deleted
    if (deleted < PURGE_BATCH) break
  }
  const windowCutoff = new Date(now.getTime() - deps.config.authFailureWindowSeconds * 1000)
  await inTransaction(deps, (tx) => store.deleteStaleAuthFailures(tx, windowCutoff.toISOString()))
  return total
}

/**
 * Expires events in the background: once now, then every `intervalMs`. Several instances
 * on one PostgreSQL database may all run it: a second deletion finds nothing. Returns a
 * function that stops it and waits for a run in progress.
 */
export function startEventExpiry(deps: Deps, intervalMs = 3_600_000): () => Promise<void> {
  let running: Promise<void> | undefined
  const run = () => {
    running ??= purgeExpired(deps)
      .then((deleted) => {
        if (deleted > 0) deps.logger.info('expired events deleted', { deleted })
      })
      .catch((err: unknown) =>
        deps.logger.warn('expiring events failed', {
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => {
        running = undefined
      })
  }
  run()
  const timer = setInterval(run, intervalMs)
  timer.unref()
  return async () => {
    clearInterval(timer)
    await running
  }
}

type SourceChange = 'model_created' | 'model_updated' | 'model_deleted'

/**
 * Records the event of a change a source made (through SCIM) to one of its users or groups,
 * with `tx`, unless provisioning events are off (SCIMD_PROVISIONING_EVENTS).
 */
export async function recordSourceChange(
  deps: Deps,
  tx: Executor,
  action: SourceChange,
  source: EventSource,
  model: EventModel,
): Promise<void> {
  const row = sourceChangeRow(deps, action, source, model)
  if (row) await store.recordEvent(tx, row)
}

/** The row of such an event, for a write that inserts it itself; undefined when they are off. */
export function sourceChangeRow(
  deps: Deps,
  action: SourceChange,
  source: EventSource,
  model: EventModel,
): NewEventRow | undefined {
  if (!deps.config.provisioningEvents) return undefined
  return eventRow(deps, { action, model, source: { id: source.id, slug: source.slug } })
}

/**
 * The event of an admin's change to `model`: `fields` names what the change set (names only,
 * never values: a provider's token is `token`), `context` adds what else identifies it.
 */
export function adminChange(
  action: SourceChange,
  model: EventModel,
  fields?: readonly string[],
  context?: Record<string, unknown>,
): NewEvent {
  const extra = { ...(fields !== undefined ? { fields: [...fields] } : {}), ...context }
  return { action, model, ...(Object.keys(extra).length > 0 ? { context: extra } : {}) }
}
