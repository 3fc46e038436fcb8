/**
 * Events keyed by sequence (migration 2026_12_10_1000): events recorded before keep their
 * pk, new ones get a UUIDv7 computed from their instant and seq that finds them again, and
 * undoing the migration keeps every event under the pk the API showed. Both databases.
 */
import { type Kysely, sql } from 'kysely'
import { expect, it } from 'vitest'
import {
  deleteEventsBefore,
  eventPk,
  findEvent,
  listEvents,
  recordEvent,
} from '../../src/store/events.js'
import { openUnmigrated } from '../support/migrations.js'

const BEFORE = '2026_12_09_1200_never_reuse_provider_pks'
const MIGRATION = '2026_12_10_1000_events_in_sequence'
const DAY = 86_400_000

const row = (action: string, created: string) => ({
  action,
  app: 'scimd',
  user_pk: null,
  username: null,
  client_ip: null,
  source_id: null,
  source_slug: null,
  model_app: null,
  model_name: null,
  model_pk: null,
  model_label: null,
  context: '{}',
  created,
})

it('computes a UUIDv7 from the instant and the seq', () => {
  const pk = eventPk(2 ** 50 + 5, '2026-12-10T10:00:00.123Z')
  expect(pk).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  expect(pk.replace(/-/g, '').slice(0, 12)).toBe(
    Date.parse('2026-12-10T10:00:00.123Z').toString(16).padStart(12, '0'),
  )
  expect(pk.endsWith('-8004-000000000005')).toBe(true)
  // Later events sort after earlier ones, as text too.
  expect(eventPk(7, '2026-12-10T10:00:00.124Z') > pk).toBe(true)
})

it('keeps old events under their pk, finds new ones by theirs, and can be undone', async () => {
  const { db, migrator } = await openUnmigrated()
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined()
  const oldPk = '0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b'
  // biome-ignore lint/suspicious/noExplicitAny: the table as it was before the migration
  await (db as Kysely<any>)
    .insertInto('events')
    .values({
      id: oldPk,
      ...row('old', '2026-12-01T00:00:00.000Z'),
      expires: '2026-12-31T00:00:00.000Z',
    })
    .execute()
  expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined()

  await recordEvent(db, row('new', '2026-12-10T10:00:00.123Z'))
  const listed = await listEvents(db, {}, [], { limit: 10, offset: 0 }, 30 * DAY)
  expect(listed.map((e) => e.action)).toEqual(['new', 'old'])
  const [added, old] = listed as [(typeof listed)[0], (typeof listed)[0]]
  expect(old.id).toBe(oldPk)
  expect(added.id).not.toBe(oldPk)
  expect(added.expires).toBe('2027-01-09T10:00:00.123Z')
  expect((await findEvent(db, oldPk, DAY))?.action).toBe('old')
  expect((await findEvent(db, added.id, DAY))?.action).toBe('new')
  // The same seq at another instant is not that event.
  const [{ seq }] = (await db
    .selectFrom('events')
    .select('seq')
    .where('action', '=', 'new')
    .execute()) as [{ seq: number }]
  expect(await findEvent(db, eventPk(Number(seq), '2026-12-10T10:00:00.124Z'), DAY)).toBeUndefined()

  // Undone: both events are kept under the pk the API showed.
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined()
  const { rows } = await sql<{ id: string; action: string; expires: string }>`
    select id, action, expires from events order by id`.execute(db)
  expect(rows).toEqual([
    { id: oldPk, action: 'old', expires: '2026-12-31T00:00:00.000Z' },
    { id: added.id, action: 'new', expires: '2027-01-09T10:00:00.123Z' },
  ])
})

it('expires the oldest events first, a batch at a time, without scanning past them', async () => {
  const { db, migrator } = await openUnmigrated()
  expect((await migrator.migrateToLatest()).error).toBeUndefined()
  for (let day = 1; day <= 5; day++)
    await recordEvent(db, row(`day ${day}`, `2026-12-0${day}T00:00:00.000Z`))
  expect(await deleteEventsBefore(db, '2026-12-04T00:00:00.000Z', 2)).toBe(2)
  expect(await deleteEventsBefore(db, '2026-12-04T00:00:00.000Z', 2)).toBe(1)
  expect(await deleteEventsBefore(db, '2026-12-04T00:00:00.000Z', 2)).toBe(0)
  const left = await listEvents(db, {}, [], { limit: 10, offset: 0 }, DAY)
  expect(left.map((e) => e.action)).toEqual(['day 5', 'day 4'])
})
