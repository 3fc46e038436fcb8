/**
 * Contention (issue 29 item 5): 64 concurrent writers on one group and on one user lose no
 * member change and no update, duplicate nothing, and under If-Match exactly one of them
 * wins. On SQLite (or PostgreSQL with DATABASE_URL) through one app, and on PostgreSQL
 * through two apps, each with its own connection pool, on one database. @see issue 29
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import * as sources from '../../src/services/sources.js'
import { createTestApp, isPostgres } from '../support/app.js'
import { createScratchSchema, PG_ONLY } from '../support/pg.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const WRITERS = 64

/** A SCIM request through one of the apps; writer `n` uses app n mod apps. */
type Scim = (
  n: number,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Response>

/** One app: createTestApp's. */
async function oneApp(): Promise<Scim> {
  const t = await createTestApp()
  return (_n, method, path, body, headers) => t.scim(method, path, body, headers)
}

/** Two apps with their own runtimes (pools, caches) on one PostgreSQL schema. */
async function twoApps(): Promise<Scim> {
  const schema = await createScratchSchema()
  const config = loadConfig({
    DATABASE_URL: process.env.DATABASE_URL as string,
    SCIMD_SECRET_KEY: 'contention-secret-key-0123456789abcdef0123',
    SCIMD_BASE_URL: 'http://scimd.test',
    LOG_LEVEL: 'silent',
  })
  const runtimes: Awaited<ReturnType<typeof startRuntime>>[] = []
  onTestFinished(async () => {
    for (const r of runtimes) await r.close()
    await schema.drop()
  })
  for (let i = 0; i < 2; i++) {
    runtimes.push(
      await startRuntime(config, {
        logger: createLogger('silent'),
        serving: true,
        searchPath: schema.schema,
      }),
    )
  }
  const apps = runtimes.map((r) => createApp(r.deps))
  const { key } = await sources.createSource((runtimes[0] as (typeof runtimes)[0]).deps, {
    name: 'Contention',
    slug: 'contention',
  })
  return async (n, method, path, body, headers = {}) =>
    (apps[n % apps.length] as (typeof apps)[0]).request(
      `http://scimd.test/source/scim/contention/v2${path}`,
      {
        method,
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/scim+json',
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
    )
}

async function createUsers(scim: Scim, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await scim(i, 'POST', '/Users', { schemas: [USER], userName: `${prefix}${i}` })
    expect(res.status).toBe(201)
    ids.push(((await res.json()) as { id: string }).id)
  }
  return ids
}

async function memberIds(scim: Scim, group: string): Promise<string[]> {
  const res = await scim(0, 'GET', `/Groups/${group}?attributes=members`)
  const body = (await res.json()) as { members?: { value: string }[] }
  return (body.members ?? []).map((m) => m.value)
}

const together = <T>(n: number, work: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => work(i)))

function contention(setup: () => Promise<Scim>) {
  it(`${WRITERS} writers adding and removing members of one group lose and duplicate nothing`, async () => {
    const scim = await setup()
    const users = await createUsers(scim, 'm', WRITERS + WRITERS / 2)
    const created = await scim(0, 'POST', '/Groups', { schemas: [GROUP], displayName: 'shared' })
    const group = ((await created.json()) as { id: string }).id
    const add = (n: number, id: string) =>
      scim(n, 'PATCH', `/Groups/${group}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      })
    const statuses = await together(WRITERS, async (i) => (await add(i, users[i] as string)).status)
    expect(statuses).toEqual(Array(WRITERS).fill(204))
    const first = users.slice(0, WRITERS)
    expect((await memberIds(scim, group)).sort()).toEqual([...first].sort())

    // Half remove a member, half add a new one, at once.
    const mixed = await together(WRITERS, async (i) => {
      const res =
        i % 2 === 0
          ? await scim(i, 'PATCH', `/Groups/${group}`, {
              schemas: [PATCH_OP],
              Operations: [{ op: 'remove', path: `members[value eq "${users[i]}"]` }],
            })
          : await add(i, users[WRITERS + (i - 1) / 2] as string)
      return res.status
    })
    expect(mixed).toEqual(Array(WRITERS).fill(204))
    const expected = [
      ...first.filter((_, i) => i % 2 === 1),
      ...users.slice(WRITERS, WRITERS + WRITERS / 2),
    ]
    const members = await memberIds(scim, group)
    expect(members).toHaveLength(new Set(members).size)
    expect([...members].sort()).toEqual([...expected].sort())
  })

  it(`${WRITERS} writers adding an email each to one user lose no update`, async () => {
    const scim = await setup()
    const [user] = await createUsers(scim, 'e', 1)
    const statuses = await together(WRITERS, async (i) => {
      const res = await scim(i, 'PATCH', `/Users/${user}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'emails', value: [{ value: `w${i}@example.com` }] }],
      })
      return res.status
    })
    expect(statuses).toEqual(Array(WRITERS).fill(200))
    const res = await scim(0, 'GET', `/Users/${user}`)
    const body = (await res.json()) as { emails: { value: string }[]; meta: { version: string } }
    const values = body.emails.map((e) => e.value).sort()
    expect(values).toEqual(Array.from({ length: WRITERS }, (_, i) => `w${i}@example.com`).sort())
    // Every write made a version of its own.
    expect(res.headers.get('etag')).toBe(`W/"${WRITERS + 1}"`)
  })

  for (const kind of ['user', 'group'] as const) {
    it(`${WRITERS} writers with the same If-Match on one ${kind}: exactly one wins, the others get 412`, async () => {
      const scim = await setup()
      const path =
        kind === 'user'
          ? `/Users/${(await createUsers(scim, 'v', 1))[0]}`
          : `/Groups/${((await (await scim(0, 'POST', '/Groups', { schemas: [GROUP], displayName: 'g' })).json()) as { id: string }).id}`
      const etag = (await scim(0, 'GET', path)).headers.get('etag') as string
      const attribute = kind === 'user' ? 'title' : 'displayName'
      const statuses = await together(WRITERS, async (i) => {
        const res = await scim(
          i,
          'PATCH',
          `${path}?attributes=${attribute}`,
          {
            schemas: [PATCH_OP],
            Operations: [{ op: 'replace', path: attribute, value: `writer ${i}` }],
          },
          { 'If-Match': etag },
        )
        return res.status
      })
      const winners = statuses.flatMap((s, i) => (s === 200 ? [i] : []))
      expect(winners).toHaveLength(1)
      expect(statuses.filter((s) => s === 412)).toHaveLength(WRITERS - 1)
      const after = await scim(0, 'GET', path)
      expect(((await after.json()) as Record<string, unknown>)[attribute]).toBe(
        `writer ${winners[0]}`,
      )
      expect(after.headers.get('etag')).not.toBe(etag)
    })
  }
}

describe(`contention through one app (${isPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  contention(oneApp)
})

describe.skipIf(!isPostgres)(`contention through two apps on one database (${PG_ONLY})`, () => {
  contention(twoApps)
})
