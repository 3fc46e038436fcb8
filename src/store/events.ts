/** Event rows (the audit log), their admin list, expiry, and the shared failed-authentication counters. */
import { type RawBuilder, sql } from 'kysely'
import type { AuditEvent } from '../core/events.js'
import { nullsLast, type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type { EventRow, Executor, NewEventRow } from './database.js'
import { preparedQuery } from './prepared.js'

/** The columns an event is recorded with, in one order: the prepared insert binds them all. */
const EVENT_COLUMNS = [
  'action',
  'app',
  'user_pk',
  'username',
  'client_ip',
  'source_id',
  'source_slug',
  'model_app',
  'model_name',
  'model_pk',
  'model_label',
  'context',
  'created',
] as const satisfies readonly (keyof NewEventRow)[]

/**
 * One insert, prepared once (prepared.ts): within a SQLite group commit it runs on the
 * connection at once, in the savepoint of the request that records it.
 */
const insertEventRow = preparedQuery((db, ...values: unknown[]) =>
  db
    .insertInto('events')
    .values(
      Object.fromEntries(EVENT_COLUMNS.map((column, i) => [column, values[i]])) as NewEventRow,
    )
    .compile(),
)

/**
 * Writes an event row with `db`, which should be the transaction of the change it records:
 * then the event is committed with the change, or neither is.
 */
export async function recordEvent(db: Executor, row: NewEventRow): Promise<void> {
  await insertEventRow(db, ...EVENT_COLUMNS.map((column) => row[column]))
}

/** The event with the pk of the object it records, once known (it is inserted first). */
export function withModelPk(event: NewEventRow, pk: number): NewEventRow {
  return { ...event, model_pk: String(pk) }
}

export { EVENT_COLUMNS }

/**
 * A select of the event whose row is the JSON text `eventJson` (PostgreSQL), for a statement
 * that writes a change and its event at once (scim-resources/users.ts's one-statement
 * create); `modelPk`, when given, is the SQL of the model's pk, known only in that statement.
 */
export function selectEventFromJson(
  eventJson: unknown,
  modelPk?: RawBuilder<number>,
): RawBuilder<unknown> {
  const columns = EVENT_COLUMNS.map((c) =>
    modelPk && c === 'model_pk' ? sql`${modelPk}::text` : sql`e.${sql.id(c)}`,
  )
  return sql`select ${sql.join(columns)} from json_populate_record(null::events, ${eventJson}::json) as e`
}

/**
 * An event's pk: a UUIDv7 (RFC 9562) whose time is the event's `created` millisecond and
 * whose random bits are its seq instead (§6.2's "dedicated counter"), so it is unique, sorts
 * in recording order, and needs no column or index. 60 bits of seq: the 3 hex digits after
 * the variant and the last 12.
 */
export function eventPk(seq: number, created: string): string {
  const ms = Date.parse(created).toString(16).padStart(12, '0')
  const high = Math.floor(seq / 2 ** 48)
    .toString(16)
    .padStart(3, '0')
  const low = (seq % 2 ** 48).toString(16).padStart(12, '0')
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7000-8${high}-${low}`
}

const COMPUTED_PK = /^([0-9a-f]{8})-([0-9a-f]{4})-7000-8([0-9a-f]{3})-([0-9a-f]{12})$/

/** The seq and created millisecond that eventPk made `pk` from, if it can be one of its. */
function parseEventPk(pk: string): { seq: number; ms: number } | undefined {
  const m = COMPUTED_PK.exec(pk)
  if (!m) return undefined
  const [, time, timeLow, high, low] = m as unknown as [string, string, string, string, string]
  return {
    ms: Number.parseInt(time + timeLow, 16),
    seq: Number.parseInt(high, 16) * 2 ** 48 + Number.parseInt(low, 16),
  }
}

/**
 * The API's view of a stored event; `retentionMs` is how long events are kept now, which
 * decides when this one expires (services/events.ts purgeExpired).
 */
export function toAuditEvent(row: EventRow, retentionMs: number): AuditEvent {
  const context = JSON.parse(row.context) as Record<string, unknown>
  if (row.model_name !== null) {
    const pk = row.model_pk ?? ''
    context.model = {
      app: row.model_app,
      model_name: row.model_name,
      // Users have integer pks (as in authentik), everything else UUIDs.
      pk: /^[0-9]+$/.test(pk) ? Number(pk) : pk,
      name: row.model_label,
    }
  }
  if (row.source_id !== null) context.source = { pk: row.source_id, slug: row.source_slug }
  const seq = Number(row.seq)
  return {
    id: row.id ?? eventPk(seq, row.created),
    action: row.action,
    app: row.app,
    user:
      row.user_pk !== null && row.username !== null
        ? { pk: row.user_pk, username: row.username }
        : null,
    context,
    clientIp: row.client_ip,
    created: row.created,
    expires: new Date(Date.parse(row.created) + retentionMs).toISOString(),
  }
}

/**
 * Fields the admin list orders by, and their columns. `created`, `expires` and `pk` order by
 * seq, the order events were recorded in (no index on created).
 */
const EVENT_ORDER_COLUMNS = {
  created: 'seq',
  action: 'action',
  app: 'app',
  user: 'username',
  username: 'username',
  client_ip: 'client_ip',
  expires: 'seq',
  pk: 'seq',
} as const
export type EventOrderField = keyof typeof EVENT_ORDER_COLUMNS
export const EVENT_ORDER_FIELDS = Object.keys(EVENT_ORDER_COLUMNS) as EventOrderField[]
const NULLABLE_ORDER_FIELDS = new Set<string>(['user', 'username', 'client_ip'])

/**
 * authentik's event filters: `action` contains (ignoring case), `username` and `client_ip`
 * exact, the context's model (`context_model_*`), and scimd's `context__source` (a source's
 * pk or slug, as it was at the event).
 */
export interface EventFilter {
  action?: string | undefined
  username?: string | undefined
  clientIp?: string | undefined
  source?: string | undefined
  modelApp?: string | undefined
  modelName?: string | undefined
  modelPk?: string | undefined
  search?: string | undefined
}

function filteredEvents(db: Executor, filter: EventFilter) {
  let query = db.selectFrom('events')
  if (filter.action !== undefined) {
    query = query.where(searchAny(['action'], filter.action) ?? sql<boolean>`true`)
  }
  if (filter.username !== undefined) query = query.where('username', '=', filter.username)
  if (filter.clientIp !== undefined) query = query.where('client_ip', '=', filter.clientIp)
  if (filter.modelApp !== undefined) query = query.where('model_app', '=', filter.modelApp)
  if (filter.modelName !== undefined) query = query.where('model_name', '=', filter.modelName)
  if (filter.modelPk !== undefined) {
    // authentik's filter also matches a UUID sent without its dashes.
    const pk = filter.modelPk
    const dashed = /^[0-9a-f]{32}$/i.test(pk)
      ? pk.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5').toLowerCase()
      : pk
    query = query.where('model_pk', 'in', [...new Set([pk, dashed])])
  }
  const source = filter.source
  if (source !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('source_id', '=', source), eb('source_slug', '=', source)]),
    )
  }
  const search = searchAny(
    ['action', 'app', 'username', 'client_ip', 'source_slug', 'model_label', 'context'],
    filter.search,
  )
  if (search) query = query.where(search)
  return query
}

export async function countEvents(db: Executor, filter: EventFilter): Promise<number> {
  const { n } = await filteredEvents(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** Events in the given order (default newest first), one page of them. */
export async function listEvents(
  db: Executor,
  filter: EventFilter,
  order: ReadonlyArray<OrderBy<EventOrderField>>,
  page: Page,
  retentionMs: number,
): Promise<AuditEvent[]> {
  let query = filteredEvents(db, filter).selectAll()
  const orders = order.length > 0 ? order : [{ field: 'created' as const, descending: true }]
  for (const o of orders) {
    const column = EVENT_ORDER_COLUMNS[o.field]
    if (NULLABLE_ORDER_FIELDS.has(o.field)) {
      query = query.orderBy(nullsLast(column), o.descending ? 'desc' : 'asc')
    }
    query = query.orderBy(column, o.descending ? 'desc' : 'asc')
  }
  // The last tie-break keeps the recording order of events alike in every other field.
  const descending = orders[0]?.descending ?? true
  query = query.orderBy('seq', descending ? 'desc' : 'asc')
  const rows = await query.limit(page.limit).offset(page.offset).execute()
  return rows.map((row) => toAuditEvent(row, retentionMs))
}

/** The event whose pk is `pk` (lower case), computed (eventPk) or stored before. */
export async function findEvent(
  db: Executor,
  pk: string,
  retentionMs: number,
): Promise<AuditEvent | undefined> {
  const computed = parseEventPk(pk)
  if (computed) {
    const row = await db
      .selectFrom('events')
      .selectAll()
      .where('seq', '=', computed.seq)
      .executeTakeFirst()
    // A seq SQLite handed out again after the newest events expired has a later instant.
    if (row && row.id === null && Date.parse(row.created) === computed.ms) {
      return toAuditEvent(row, retentionMs)
    }
  }
  const row = await db.selectFrom('events').selectAll().where('id', '=', pk).executeTakeFirst()
  return row && toAuditEvent(row, retentionMs)
}

/**
 * Deletes the oldest events recorded before `cutoff`, up to `limit` of them; returns how
 * many. It looks only at the first `limit` events in recording order, so it never scans the
 * table (there is no index on `created`): events are recorded in time order, and one that
 * an instance's slower clock stamped a little earlier than the event before it waits for
 * the next run. In batches, so that on SQLite no single transaction holds the writer for
 * long. Idempotent: instances that run it at once on PostgreSQL delete each row once.
 */
export async function deleteEventsBefore(
  db: Executor,
  cutoff: string,
  limit: number,
): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('seq', 'in', db.selectFrom('events').select('seq').orderBy('seq').limit(limit))
    .where('created', '<', cutoff)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/**
 * Counts one failed authentication from `clientIp`, in a fixed window that starts at the
 * first failure: a window that started at or before `windowCutoff` is over and starts again
 * at `now`. Returns the window's start and its count, including this failure. One upsert,
 * which instances sharing a PostgreSQL database count together.
 */
export async function countAuthFailure(
  db: Executor,
  clientIp: string,
  now: string,
  windowCutoff: string,
): Promise<{ windowStart: string; failures: number }> {
  const { rows } = await sql<{ window_start: string; failures: number | string }>`
    insert into auth_failures (client_ip, window_start, failures) values (${clientIp}, ${now}, 1)
    on conflict (client_ip) do update set
      failures = case when auth_failures.window_start <= ${windowCutoff} then 1
        else auth_failures.failures + 1 end,
      window_start = case when auth_failures.window_start <= ${windowCutoff} then ${now}
        else auth_failures.window_start end
    returning window_start, failures`.execute(db)
  const row = rows[0]
  if (!row) throw new Error('upsert into auth_failures returned no row')
  return { windowStart: row.window_start, failures: Number(row.failures) }
}

/** Forgets the failure counts of windows that started at or before `windowCutoff`. */
export async function deleteStaleAuthFailures(db: Executor, windowCutoff: string): Promise<void> {
  await db.deleteFrom('auth_failures').where('window_start', '<=', windowCutoff).execute()
}
