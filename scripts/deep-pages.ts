/**
 * Measures how deep pages of a large user list are served: 1,000,000 users (by default) in
 * one source, paged with OFFSET over whole rows, with OFFSET over the id index (what
 * listScimUsers does), with a keyset (`id > last`), and end to end through GET /Users,
 * plus the hot filters. Not part of the test suite: it takes minutes and prints timings.
 *
 *   npx tsx scripts/deep-pages.ts [--users 1000000] [--runs 5]
 *   DATABASE_URL=postgres://… npx tsx scripts/deep-pages.ts   (a throwaway schema)
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../src/config.js'
import { createApp } from '../src/http/app.js'
import { createLogger } from '../src/logger.js'
import { startRuntime } from '../src/runtime.js'
import { createSource } from '../src/services/sources.js'
import type { Executor } from '../src/store/database.js'
import { listScimUsers } from '../src/store/scim-resources/users.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
  },
})
const USERS = Number(values.users)
const RUNS = Number(values.runs)
const PAGE = 100
const url = process.env.DATABASE_URL ?? ''
const isPostgres = url.startsWith('postgres')
/** Directory users made by the runtime itself (admin, service account) keep ids below this. */
const FIRST_ID = 1000

async function median(run: () => Promise<unknown>): Promise<number> {
  await run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    await run()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

async function seedSqlite(db: Executor, sourceId: string): Promise<void> {
  await sql`insert into users (id, uuid, username, name, email, is_active, type, path, attributes, date_joined, last_updated)
    with recursive n(i) as (select 1 union all select i + 1 from n where i < ${sql.lit(USERS)})
    select ${sql.lit(FIRST_ID)} + i, printf('%08x-0000-7000-8000-%012x', i, i), 'user' || i, 'User ' || i,
      'user' || i || '@example.com', 1, 'internal', 'bench', '{}',
      '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
    from n`.execute(db)
  await sql`insert into scim_source_users (id, source_id, user_id, external_id, user_name_key, resource, created, last_modified, version)
    select uuid, ${sourceId}, id, 'ext' || (id - ${sql.lit(FIRST_ID)}), username,
      json_object('schemas', json_array('urn:ietf:params:scim:schemas:core:2.0:User'),
        'userName', username, 'displayName', name, 'active', json('true'),
        'emails', json_array(json_object('value', email, 'type', 'work', 'primary', json('true')))),
      strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (id - ${sql.lit(FIRST_ID)}) || ' seconds'),
      strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (id - ${sql.lit(FIRST_ID)}) || ' seconds'), 1
    from users where id > ${sql.lit(FIRST_ID)}`.execute(db)
  await sql`insert into scim_source_user_emails (user_id, source_id, position, value, value_key, type, is_primary)
    select uuid, ${sourceId}, 0, email, lower(email), 'work', 1 from users where id > ${sql.lit(FIRST_ID)}`.execute(
    db,
  )
  await sql`analyze`.execute(db)
}

async function seedPostgres(db: Executor, sourceId: string): Promise<void> {
  await sql`insert into users (id, uuid, username, name, email, is_active, type, path, attributes, date_joined, last_updated)
    select ${sql.lit(FIRST_ID)} + i, lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'),
      'user' || i, 'User ' || i, 'user' || i || '@example.com', 1, 'internal', 'bench', '{}',
      '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
    from generate_series(1, ${sql.lit(USERS)}::int) i`.execute(db)
  await sql`select setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users))`.execute(
    db,
  )
  await sql`insert into scim_source_users (id, source_id, user_id, external_id, user_name_key, resource, created, last_modified, version)
    select uuid, ${sourceId}, id, 'ext' || (id - ${sql.lit(FIRST_ID)}), username,
      json_build_object('schemas', json_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
        'userName', username, 'displayName', name, 'active', true,
        'emails', json_build_array(json_build_object('value', email, 'type', 'work', 'primary', true)))::text,
      to_char(timestamp '2026-01-01' + (id - ${sql.lit(FIRST_ID)}) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      to_char(timestamp '2026-01-01' + (id - ${sql.lit(FIRST_ID)}) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 1
    from users where id > ${sql.lit(FIRST_ID)}`.execute(db)
  await sql`insert into scim_source_user_emails (user_id, source_id, position, value, value_key, type, is_primary)
    select uuid, ${sourceId}, 0, email, lower(email), 'work', 1 from users where id > ${sql.lit(FIRST_ID)}`.execute(
    db,
  )
  await sql`analyze`.execute(db)
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-deep-pages-'))
  const schema = `bench_${randomBytes(4).toString('hex')}`
  if (isPostgres) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`create schema ${schema}`)
    await client.end()
  }
  const config = loadConfig({
    DATABASE_URL: isPostgres ? url : `sqlite:${join(dir, 'bench.db')}`,
    SCIMD_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
    SCIMD_BASE_URL: 'http://bench.test',
    LOG_LEVEL: 'silent',
  })
  const runtime = await startRuntime(config, {
    logger: createLogger('silent'),
    ...(isPostgres ? { searchPath: schema } : {}),
  })
  try {
    const { deps } = runtime
    const db = deps.db
    const created = await createSource(deps, { name: 'Bench', slug: 'bench' })
    const source = created.source
    const seedStart = performance.now()
    await (isPostgres ? seedPostgres(db, source.id) : seedSqlite(db, source.id))
    console.log(
      `${deps.dialect}: seeded ${USERS} users in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    )
    const app = createApp(deps)
    const get = async (path: string) => {
      const res = await app.request(`http://bench.test/source/scim/bench/v2${path}`, {
        headers: { Authorization: `Bearer ${created.key}` },
      })
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as { totalResults: number; Resources: Array<{ id: string }> }
    }

    const rows: string[][] = [
      [
        'startIndex',
        'OFFSET rows',
        'OFFSET ids',
        'keyset',
        'GET',
        'GET -groups',
        'sortBy=userName',
      ],
    ]
    for (const offset of [0, 10_000, 100_000, 500_000, USERS - PAGE]) {
      if (offset >= USERS) continue
      const plain = await median(() =>
        db
          .selectFrom('scim_source_users')
          .selectAll()
          .where('source_id', '=', source.id)
          .orderBy('id')
          .limit(PAGE)
          .offset(offset)
          .execute(),
      )
      const deferred = await median(() =>
        listScimUsers(db, source.id, { where: undefined, offset, limit: PAGE }),
      )
      const boundary =
        offset === 0
          ? undefined
          : await db
              .selectFrom('scim_source_users')
              .select('id')
              .where('source_id', '=', source.id)
              .orderBy('id')
              .limit(1)
              .offset(offset - 1)
              .executeTakeFirstOrThrow()
      const keyset = await median(() => {
        let q = db.selectFrom('scim_source_users').selectAll().where('source_id', '=', source.id)
        if (boundary) q = q.where('id', '>', boundary.id)
        return q.orderBy('id').limit(PAGE).execute()
      })
      const page = `startIndex=${offset + 1}&count=${PAGE}`
      const http = await median(() => get(`/Users?${page}`))
      // Without the computed `groups` attribute, which costs one query per listed user.
      const bare = await median(() => get(`/Users?${page}&excludedAttributes=groups`))
      const sorted = await median(() =>
        get(`/Users?sortBy=userName&${page}&excludedAttributes=groups`),
      )
      rows.push([String(offset + 1), ...[plain, deferred, keyset, http, bare, sorted].map(ms)])
    }
    console.log(`\nPages of ${PAGE} (median of ${RUNS}, ms):`)
    console.log(table(rows))

    const count = await median(() =>
      db
        .selectFrom('scim_source_users')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('source_id', '=', source.id)
        .executeTakeFirstOrThrow(),
    )
    const middle = Math.floor(USERS / 2)
    const filters: Array<[string, number]> = [
      [`userName eq "USER${middle}"`, 1],
      [`externalId eq "ext${middle}"`, 1],
      [`emails.value eq "user${middle}@EXAMPLE.com"`, 1],
      [`emails[type eq "work"].value eq "user${middle}@example.com"`, 1],
      [`displayName eq "user ${middle}"`, 1],
      [`id eq "${hexId(middle)}"`, 1],
      [`meta.lastModified gt "${lastModifiedOf(USERS - 50)}"`, 50],
      [`userName sw "user99999"`, -1],
    ]
    const filterRows: string[][] = [['filter', 'totalResults', 'GET ms']]
    for (const [filter, expected] of filters) {
      let total = 0
      const time = await median(async () => {
        const query = `filter=${encodeURIComponent(filter)}&count=${PAGE}&excludedAttributes=groups`
        total = (await get(`/Users?${query}`)).totalResults
      })
      if (expected >= 0 && total !== expected) throw new Error(`${filter}: ${total} results`)
      filterRows.push([filter, String(total), ms(time)])
    }
    console.log(
      `\ncount(*) of the source: ${ms(count)} ms (every list response carries totalResults)`,
    )
    console.log(`\nFilters at ${USERS} users (median of ${RUNS}):`)
    console.log(table(filterRows))
  } finally {
    await runtime.close()
    rmSync(dir, { recursive: true, force: true })
    if (isPostgres) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query(`drop schema ${schema} cascade`)
      await client.end()
    }
  }
}

function hexId(i: number): string {
  const hex = i.toString(16)
  return `${hex.padStart(8, '0')}-0000-7000-8000-${hex.padStart(12, '0')}`
}

function lastModifiedOf(i: number): string {
  return new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()
}

function ms(value: number): string {
  return value.toFixed(1)
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? []
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ')).join('\n')
}

await main()
