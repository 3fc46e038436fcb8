/**
 * `scimd export` / `scimd import`: an SQLite deployment moved to PostgreSQL (or, without
 * DATABASE_URL=postgres://…, to another SQLite database) keeps every row, id, version and
 * token. @see issue 7
 */
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Deps } from '../../src/services/deps.js'
import * as sources from '../../src/services/sources.js'
import * as tokens from '../../src/services/tokens.js'
import { exportData, importData, TransferError } from '../../src/services/transfer.js'
import { LOCAL_TABLES, readTablePage, TRANSFER_TABLES } from '../../src/store/transfer.js'
import { fixture } from '../support/app.js'
import { isPostgres } from '../support/pg.js'
import { startTestRuntime, type TestRuntime } from '../support/runtime.js'

const TARGET = isPostgres ? 'postgres' : 'sqlite'
const SECRET = 'transfer-secret-key-0123456789abcdef012345'
const BOOTSTRAP = 'transfer-bootstrap-token-0123456789'
const BASE = 'http://scimd.test'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ENV = { SCIMD_SECRET_KEY: SECRET, SCIMD_BASE_URL: BASE }

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

function client(t: TestRuntime, slug: string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<Response> =>
    t.app.request(`${BASE}/source/scim/${slug}/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/scim+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
}

/** An SQLite deployment with two sources, users (one with a password), nested groups. */
async function populatedSqlite(): Promise<{ t: TestRuntime; key: string }> {
  const t = await startTestRuntime('sqlite', { ...ENV, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })
  const { key } = await sources.createSource(t.runtime.deps, { name: 'Okta', slug: 'okta' })
  const scim = client(t, 'okta', key)
  const ids: string[] = []
  for (const body of [
    fixture('okta/create-user.json'),
    fixture('entra/create-user.json'),
    { schemas: [USER], userName: 'third@example.com', emails: [{ value: 'T@example.com' }] },
  ]) {
    const res = await scim('POST', '/Users', body)
    expect(res.status).toBe(201)
    ids.push(((await res.json()) as Json).id)
  }
  const patched = await scim('PATCH', `/Users/${ids[2]}`, {
    schemas: [PATCH_OP],
    Operations: [{ op: 'replace', path: 'title', value: 'Moved' }],
  })
  expect(patched.status).toBe(200)
  const inner = await scim('POST', '/Groups', {
    schemas: [GROUP],
    displayName: 'Inner',
    members: [{ value: ids[0] }, { value: ids[1] }],
  })
  const innerId = ((await inner.json()) as Json).id
  const outer = await scim('POST', '/Groups', {
    schemas: [GROUP],
    displayName: 'Outer',
    members: [{ value: innerId }, { value: ids[2] }],
  })
  expect(outer.status).toBe(201)
  const other = await sources.createSource(t.runtime.deps, { name: 'Entra', slug: 'entra' })
  const res = await client(t, 'entra', other.key)('POST', '/Users', {
    schemas: [USER],
    userName: 'third@example.com',
  })
  expect(res.status).toBe(201)
  return { t, key }
}

async function exported(deps: Deps): Promise<string> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await exportData(deps, out)
  out.end()
  return Buffer.concat(chunks).toString('utf8')
}

async function allRows(deps: Deps): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {}
  for (const [table] of TRANSFER_TABLES) {
    out[table] = await readTablePage(deps.db, table, undefined, 100_000)
  }
  return out
}

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

describe(`export from SQLite, import into ${TARGET}`, () => {
  it('moves every row verbatim, and the target serves the same resources and tokens', async () => {
    const { t: source, key } = await populatedSqlite()
    const text = await exported(source.runtime.deps)
    const target = await startTestRuntime(TARGET, ENV)

    const counts = await importData(target.runtime.deps, Readable.from([text]))
    expect(counts.scim_source_users).toBe(4)
    expect(counts.scim_source_groups).toBe(2)
    expect(counts.group_parents).toBe(1)
    expect(await allRows(target.runtime.deps)).toEqual(await allRows(source.runtime.deps))
    // Exporting the target again gives the same rows, line for line (only the header differs).
    const again = await exported(target.runtime.deps)
    expect(again.split('\n').slice(1)).toEqual(text.split('\n').slice(1))

    // The same requests get the same answers, with the old source token.
    const onSource = client(source, 'okta', key)
    const onTarget = client(target, 'okta', key)
    for (const path of ['/Users', '/Groups', '/Users?filter=userName eq "third@example.com"']) {
      const [a, b] = [await onSource('GET', path), await onTarget('GET', path)]
      expect(b.status).toBe(200)
      expect(await json(b)).toEqual(await json(a))
    }
    // Sealed keys open with the shared secret; the bootstrap admin token still works.
    const detail = await sources.getSource(target.runtime.deps, 'okta')
    expect(await tokens.viewKey(target.runtime.deps, detail.token?.identifier ?? '')).toBe(key)
    const adminRes = await target.app.request(`${BASE}/api/v3/sources/scim/okta/`, {
      headers: { Authorization: `Bearer ${BOOTSTRAP}` },
    })
    expect(adminRes.status).toBe(200)
    // New rows continue after the imported ones (PostgreSQL's identity was moved on).
    const created = await onTarget('POST', '/Users', {
      schemas: [USER],
      userName: 'new@example.com',
    })
    expect(created.status).toBe(201)
    const more = await sources.createSource(target.runtime.deps, { name: 'More', slug: 'more' })
    expect(more.key).not.toBe('')
  })

  it('refuses a target that runs with another SCIMD_SECRET_KEY, and writes nothing', async () => {
    const { t: source } = await populatedSqlite()
    const text = await exported(source.runtime.deps)
    const target = await startTestRuntime(TARGET, {
      ...ENV,
      SCIMD_SECRET_KEY: 'another-secret-key-0123456789abcdef0123',
    })
    const err = await importData(target.runtime.deps, Readable.from([text])).catch((e) => e)
    expect(err).toBeInstanceOf(TransferError)
    expect(String(err.message)).toMatch(/SCIMD_SECRET_KEY/)
    // Nothing but what the migrations seeded (the managed property mappings).
    const rows = await allRows(target.runtime.deps)
    expect((rows.property_mappings as { managed: unknown }[]).every((r) => r.managed)).toBe(true)
    expect(Object.entries(rows).flatMap(([t, r]) => (t === 'property_mappings' ? [] : r))).toEqual(
      [],
    )
  })

  it('refuses a database that already has data', async () => {
    const { t: source } = await populatedSqlite()
    const text = await exported(source.runtime.deps)
    const target = await startTestRuntime(TARGET, { ...ENV, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })
    const err = await importData(target.runtime.deps, Readable.from([text])).catch((e) => e)
    expect(err).toBeInstanceOf(TransferError)
    expect(String(err.message)).toMatch(/not empty/)
  })

  it('refuses a truncated file and a file whose counts do not add up, writing nothing', async () => {
    const { t: source } = await populatedSqlite()
    const lines = (await exported(source.runtime.deps)).trimEnd().split('\n')
    const target = await startTestRuntime(TARGET, ENV)
    const truncated = `${lines.slice(0, -1).join('\n')}\n`
    await expect(importData(target.runtime.deps, Readable.from([truncated]))).rejects.toThrow(
      /truncated/,
    )
    // The last row (a scim_source_groups row) is one nothing else refers to.
    const withoutOneRow = [...lines.slice(0, -2), lines.at(-1)].join('\n')
    await expect(importData(target.runtime.deps, Readable.from([withoutOneRow]))).rejects.toThrow(
      /end line counts/,
    )
    // Nothing but what the migrations seeded (the managed property mappings).
    const rows = await allRows(target.runtime.deps)
    expect((rows.property_mappings as { managed: unknown }[]).every((r) => r.managed)).toBe(true)
    expect(Object.entries(rows).flatMap(([t, r]) => (t === 'property_mappings' ? [] : r))).toEqual(
      [],
    )
  })

  it('refuses rows with columns the schema does not have', async () => {
    const { t: source } = await populatedSqlite()
    const lines = (await exported(source.runtime.deps)).trimEnd().split('\n')
    const row = JSON.parse(lines[1] as string) as Json
    row.row.surprise = 1
    lines[1] = JSON.stringify(row)
    const target = await startTestRuntime(TARGET, ENV)
    await expect(
      importData(target.runtime.deps, Readable.from([lines.join('\n')])),
    ).rejects.toThrow(/unknown column surprise/)
  })

  it('covers every table and column of the migrated schema', async () => {
    const target = await startTestRuntime(TARGET, ENV)
    const tables = await target.runtime.deps.db.introspection.getTables()
    const schema = Object.fromEntries(
      tables
        .filter((t) => !LOCAL_TABLES.includes(t.name))
        .map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
    )
    const listed = Object.fromEntries(
      TRANSFER_TABLES.map(([table, spec]) => [table, [...spec.columns].sort()]),
    )
    expect(listed).toEqual(schema)
  })
})

describe('export and import never reuse a user pk (issue 24 item 9)', () => {
  // SQLite → SQLite always; with DATABASE_URL also SQLite → PostgreSQL and PostgreSQL → PostgreSQL.
  const pairs = [
    ['sqlite', 'sqlite'],
    ...(isPostgres
      ? ([
          ['sqlite', 'postgres'],
          ['postgres', 'postgres'],
        ] as const)
      : []),
  ] as const
  const pkOf = async (t: TestRuntime, username: string): Promise<number> => {
    const res = await t.app.request(`${BASE}/api/v3/core/users/?username=${username}`, {
      headers: { Authorization: `Bearer ${BOOTSTRAP}` },
    })
    return (await json(res)).results[0].pk
  }
  for (const [from, to] of pairs) {
    it(`${from} → ${to}: a new user's pk is above every pk the exporter handed out`, async () => {
      const source = await startTestRuntime(from, { ...ENV, SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP })
      const { key } = await sources.createSource(source.runtime.deps, {
        name: 'Okta',
        slug: 'okta',
      })
      const scim = client(source, 'okta', key)
      const pks: number[] = []
      let newest = ''
      for (const name of ['one', 'two', 'newest']) {
        const res = await scim('POST', '/Users', { schemas: [USER], userName: name })
        expect(res.status).toBe(201)
        newest = (await json(res)).id
        pks.push(await pkOf(source, name))
      }
      expect((await scim('DELETE', `/Users/${newest}`)).status).toBe(204)
      const highest = Math.max(...pks)

      const target = await startTestRuntime(to, ENV)
      await importData(target.runtime.deps, Readable.from([await exported(source.runtime.deps)]))
      const res = await client(target, 'okta', key)('POST', '/Users', {
        schemas: [USER],
        userName: 'after-import',
      })
      expect(res.status).toBe(201)
      // The bootstrap admin token came along with the import.
      expect(await pkOf(target, 'after-import')).toBeGreaterThan(highest)
    })
  }
})
