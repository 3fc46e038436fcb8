/**
 * CredentialWatch (src/store/postgres/credential-watch.ts) on a real PostgreSQL: the number it keeps
 * is known only while notifications are proven to arrive and the triggers that send them
 * are in place, and moves on every committed change to sources or tokens, by anyone.
 */
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import type { Database } from '../../src/store/database.js'
import {
  CREDENTIALS_CHANNEL,
  CredentialWatch,
  PROBE_SQL,
} from '../../src/store/postgres/credential-watch.js'
import { isPostgres, PG_ONLY, PG_URL } from '../support/pg.js'
import { startTestRuntime } from '../support/runtime.js'

/** The listening connections of this file's watches, and only them. */
const LISTENER = `watch-test-${process.pid}`
const watches: CredentialWatch[] = []
const pools: pg.Pool[] = []

afterEach(async () => {
  await Promise.all(watches.splice(0).map((w) => w.close()))
  await Promise.all(pools.splice(0).map((p) => p.end()))
})

/** A migrated schema of its own, and its database handle. */
async function deployment(): Promise<{ schema: string; db: Kysely<Database> }> {
  const { runtime } = await startTestRuntime('postgres', {
    SCIMD_SECRET_KEY: 'credential-watch-secret-0123456789abcdef',
  })
  const db = runtime.deps.db
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return { schema: rows[0]?.schema as string, db }
}

/** A watch on `schema`, probing as scimd does unless told otherwise. */
function watch(
  schema: string,
  notify?: (payload: string, probe: (payload: string) => Promise<unknown>) => Promise<unknown>,
  timing: { probeEveryMs?: number; probeTimeoutMs?: number } = {},
): CredentialWatch {
  const session = { options: `-c search_path=${schema}` }
  const pool = new pg.Pool({ connectionString: PG_URL, max: 2, ...session })
  pools.push(pool)
  const probe = (payload: string) => pool.query(PROBE_SQL, [CREDENTIALS_CHANNEL, payload])
  const w = new CredentialWatch({
    client: () =>
      new pg.Client({ connectionString: PG_URL, application_name: LISTENER, ...session }),
    notify: notify ? (payload) => notify(payload, probe) : probe,
    ...timing,
  })
  watches.push(w)
  return w
}

const known = (w: CredentialWatch) =>
  expect.poll(() => w.version(), { timeout: 5_000 }).toBeTypeOf('number')

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(!isPostgres)(`CredentialWatch (${PG_ONLY})`, () => {
  it('knows the version once its own probe comes back, and moves it on a change elsewhere', async () => {
    const { schema, db } = await deployment()
    const w = watch(schema)
    await known(w)
    const before = w.version() as number
    // A change to the table SCIM writes most: no notification, no move.
    await sql`insert into groups (id, name, created_at, last_updated)
      values ('g1', 'g1', '2026-01-01', '2026-01-01')`.execute(db)
    await sql`update tokens set description = 'changed elsewhere'`.execute(db)
    await expect.poll(() => w.version(), { timeout: 2_000 }).toBeGreaterThan(before)
    const moved = w.version() as number
    await sql`update groups set name = 'g2'`.execute(db)
    await pause(100)
    expect(w.version()).toBe(moved)
  })

  it('does not move for changes in another schema (another deployment)', async () => {
    const w = watch((await deployment()).schema)
    await known(w)
    const before = w.version()
    const other = await deployment()
    await sql`update tokens set description = 'elsewhere'`.execute(other.db)
    await pause(100)
    expect(w.version()).toBe(before)
  })

  it('moves the version at once for a change this process made', async () => {
    const w = watch((await deployment()).schema)
    await known(w)
    const before = w.version() as number
    w.changed()
    expect(w.version()).toBe(before + 1)
  })

  it('never knows a version while its probes are not heard (a pooler that drops notifications)', async () => {
    let probes = 0
    const w = watch((await deployment()).schema, async () => {
      probes++
    })
    await expect.poll(() => probes, { timeout: 5_000 }).toBeGreaterThan(0)
    await pause(2_500)
    expect(w.version()).toBeUndefined()
  })

  it('forgets the version when a probe is stuck (a dead pooled connection), whatever its timers', async () => {
    let sent = 0
    const w = watch(
      (await deployment()).schema,
      // The first probe goes through; the next hangs forever, as on a silent dead socket.
      (payload, probe) => (++sent === 1 ? probe(payload) : new Promise(() => {})),
      { probeEveryMs: 200, probeTimeoutMs: 200 },
    )
    await known(w)
    await expect.poll(() => sent, { timeout: 2_000 }).toBeGreaterThan(1)
    await expect.poll(() => w.version(), { timeout: 1_000 }).toBeUndefined()
  })

  it('never knows a version while a trigger is missing or disabled', async () => {
    const { schema, db } = await deployment()
    await sql`alter table tokens disable trigger tokens_notify_credentials`.execute(db)
    const w = watch(schema)
    await pause(2_500)
    expect(w.version()).toBeUndefined()
    await sql`alter table tokens enable trigger tokens_notify_credentials`.execute(db)
    // Heard again at the next attempt (the first retry is half a second after a failure).
    await known(w)
  })

  it('forgets the version when its connection is dropped, and knows a newer one once back', async () => {
    const w = watch((await deployment()).schema)
    await known(w)
    const before = w.version() as number
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [LISTENER],
    )
    await admin.end()
    await expect.poll(() => w.version(), { timeout: 2_000 }).toBeUndefined()
    await known(w)
    expect(w.version()).toBeGreaterThan(before)
  })
})
