/**
 * Two real scimd processes on one fresh PostgreSQL database, driven concurrently: nothing is
 * duplicated and nothing is lost across instances (issue 7). PostgreSQL only.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrations as ALL_MIGRATIONS } from '../../db/migrations/index.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { type Runtime, startRuntime } from '../../src/runtime.js'
import { createMapping, updateMapping } from '../../src/services/property-mappings.js'
import * as sources from '../../src/services/sources.js'
import { rotateKey } from '../../src/services/tokens.js'
import { type Instance, startInstances } from '../support/instances.js'
import { createScratchDatabase, isPostgres, PG_ONLY, type ScratchDatabase } from '../support/pg.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SECRET_KEY = 'multi-instance-secret-0123456789abcdef0123'
const BOOTSTRAP = 'multi-instance-bootstrap-0123456789'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

describe.skipIf(!isPostgres)(`two scimd instances on one database (${PG_ONLY})`, () => {
  let database: ScratchDatabase
  let instances: Instance[] = []
  let runtime: Runtime
  let scimPath: string
  let key: string

  const withAppName = (name: string) => {
    const url = new URL(database.url)
    url.searchParams.set('application_name', name)
    return url.toString()
  }

  beforeAll(async () => {
    database = await createScratchDatabase()
    const env = {
      DATABASE_URL: database.url,
      SCIMD_SECRET_KEY: SECRET_KEY,
      SCIMD_BOOTSTRAP_TOKEN: BOOTSTRAP,
    }
    // Both start at once on the empty database: they race to migrate and to bootstrap.
    instances = await startInstances(
      ['scimd-a', 'scimd-b'].map((name) => ({ ...env, DATABASE_URL: withAppName(name) })),
    )
    runtime = await startRuntime(loadConfig({ ...env, LOG_LEVEL: 'silent' }), {
      logger: createLogger('silent'),
    })
    const created = await sources.createSource(runtime.deps, { name: 'Multi', slug: 'multi' })
    key = created.key
    scimPath = '/source/scim/multi/v2'
  }, 120_000)

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()))
    await runtime?.close()
    await database?.drop()
  }, 60_000)

  /** Request number `n` goes to instance n mod 2. */
  function scim(n: number, method: string, path: string, body?: unknown): Promise<Response> {
    const instance = instances[n % instances.length] as Instance
    return fetch(`${instance.url}${scimPath}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/scim+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  }

  async function createUser(n: number, userName: string): Promise<string> {
    const res = await scim(n, 'POST', '/Users', { schemas: [USER], userName })
    expect(res.status).toBe(201)
    return ((await res.json()) as Json).id
  }

  it('both instances migrated the empty database once and bootstrapped one admin', async () => {
    const db = runtime.deps.db
    const migrations = await db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute()
    expect(migrations).toHaveLength(Object.keys(ALL_MIGRATIONS).length)
    const admins = await db.selectFrom('users').select('id').where('username', '=', 'akadmin')
    expect(await admins.execute()).toHaveLength(1)
    const groups = await db.selectFrom('groups').select('id').where('is_superuser', '=', 1)
    expect(await groups.execute()).toHaveLength(1)
    // The bootstrap token works on both.
    for (const instance of instances) {
      const res = await fetch(`${instance.url}/api/v3/sources/scim/multi/`, {
        headers: { Authorization: `Bearer ${BOOTSTRAP}` },
      })
      expect(res.status).toBe(200)
    }
  })

  it('answers 24 concurrent creates of one userName with exactly one 201, the rest 409', async () => {
    const attempts = Array.from({ length: 24 }, (_, n) =>
      scim(n, 'POST', '/Users', {
        schemas: [USER],
        // Different spellings: userName is unique case-insensitively.
        userName: n % 3 === 0 ? 'Race.User@example.com' : 'race.user@example.com',
        externalId: `race-${n}`,
      }),
    )
    const responses = await Promise.all(attempts)
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(23)
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(await res.json()).toMatchObject({ status: '409', scimType: 'uniqueness' })
    }
    // The losers left nothing behind: one connection row and one directory user.
    const db = runtime.deps.db
    const rows = await db
      .selectFrom('scim_source_users')
      .select('id')
      .where('user_name_key', '=', 'race.user@example.com')
      .execute()
    expect(rows).toHaveLength(1)
    const users = await db
      .selectFrom('users')
      .select('id')
      .where((eb) => eb.fn('lower', ['username']), '=', 'race.user@example.com')
      .execute()
    expect(users).toHaveLength(1)
  })

  it('lets one of 24 creates of one email through under email_deny, from two sources on both instances', async () => {
    // Two sources in email_deny, set before either instance has read them.
    const keys: string[] = []
    for (const slug of ['deny-a', 'deny-b']) {
      keys.push((await sources.createSource(runtime.deps, { name: slug, slug })).key)
      await sources.updateSource(runtime.deps, slug, { userMatchingMode: 'email_deny' })
    }
    const attempts = Array.from({ length: 24 }, (_, n) => {
      const instance = instances[n % 2] as Instance
      const slug = n % 4 < 2 ? 'deny-a' : 'deny-b'
      return fetch(`${instance.url}/source/scim/${slug}/v2/Users`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${keys[n % 4 < 2 ? 0 : 1]}`,
          'Content-Type': 'application/scim+json',
        },
        body: JSON.stringify({
          schemas: [USER],
          userName: `denied-${n}`,
          // One address in three spellings: the fold matches them all.
          emails: [
            {
              primary: true,
              value: ['Élodie@Example.com', 'élodie@example.com', 'ÉLODIE@EXAMPLE.COM'][n % 3],
            },
          ],
        }),
      })
    })
    const statuses = (await Promise.all(attempts)).map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(23)
  })

  it('keeps every concurrent member add and remove on one group, from both instances', async () => {
    const ids: string[] = []
    for (let n = 0; n < 24; n++) ids.push(await createUser(n, `member-${n}@example.com`))
    const toAdd = ids.slice(0, 12)
    const toRemove = ids.slice(12)
    const created = await scim(0, 'POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Concurrent members',
      members: toRemove.map((value) => ({ value })),
    })
    expect(created.status).toBe(201)
    const groupId = ((await created.json()) as Json).id as string

    const patches = [
      ...toAdd.map((value) => ({
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value }] }],
      })),
      ...toRemove.map((value) => ({
        schemas: [PATCH_OP],
        Operations: [{ op: 'remove', path: `members[value eq "${value}"]` }],
      })),
      // Re-adding a member that is being added anyway changes nothing.
      ...toAdd.slice(0, 4).map((value) => ({
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value }] }],
      })),
    ]
    const responses = await Promise.all(
      patches.map((body, n) => scim(n, 'PATCH', `/Groups/${groupId}`, body)),
    )
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 204)).toEqual([])

    const res = await scim(1, 'GET', `/Groups/${groupId}`)
    const group = (await res.json()) as Json
    const members = ((group.members ?? []) as Json[]).map((m) => m.value as string).sort()
    expect(members).toEqual([...toAdd].sort())
    // Every membership change was one version step; the re-adds changed nothing.
    expect(group.meta.version).toBe(`W/"${1 + toAdd.length + toRemove.length}"`)
  })

  it('loses no concurrent PATCH of different attributes of one user', async () => {
    const id = await createUser(0, 'patched@example.com')
    const changes: Array<[string, string]> = [
      ['displayName', 'Pat Ched'],
      ['nickName', 'pat'],
      ['title', 'Engineer'],
      ['userType', 'Employee'],
      ['preferredLanguage', 'en-GB'],
      ['locale', 'en-GB'],
      ['timezone', 'Europe/London'],
      ['profileUrl', 'https://example.com/pat'],
      ['name.givenName', 'Pat'],
      ['name.familyName', 'Ched'],
      ['name.middleName', 'Q'],
      ['name.honorificPrefix', 'Dr'],
    ]
    const responses = await Promise.all(
      changes.map(([path, value], n) =>
        scim(n, 'PATCH', `/Users/${id}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path, value }],
        }),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual(changes.map(() => 200))

    const res = await scim(1, 'GET', `/Users/${id}`)
    const user = (await res.json()) as Json
    for (const [path, value] of changes) {
      const [head, sub] = path.split('.') as [string, string | undefined]
      expect(sub ? user[head]?.[sub] : user[head], path).toBe(value)
    }
    expect(user.meta.version).toBe(`W/"${1 + changes.length}"`)
  })

  it('answers a PATCH whose If-Match a concurrent change made stale with 412', async () => {
    const id = await createUser(0, 'guarded@example.com')
    const first = await scim(0, 'GET', `/Users/${id}`)
    const etag = first.headers.get('etag') ?? ''
    expect(etag).not.toBe('')
    const body = (value: string) => ({
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'title', value }],
    })
    const [a, b] = await Promise.all([
      fetch(`${instances[0]?.url}${scimPath}/Users/${id}`, {
        method: 'PATCH',
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/scim+json',
          'If-Match': etag,
        },
        body: JSON.stringify(body('A')),
      }),
      fetch(`${instances[1]?.url}${scimPath}/Users/${id}`, {
        method: 'PATCH',
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/scim+json',
          'If-Match': etag,
        },
        body: JSON.stringify(body('B')),
      }),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 412])
    const winner = a.status === 200 ? 'A' : 'B'
    const final = (await (await scim(1, 'GET', `/Users/${id}`)).json()) as Json
    expect(final.title).toBe(winner)
  })

  it('lets only one of two crosswise nestings through, so no membership cycle forms', async () => {
    const group = async (n: number, displayName: string) => {
      const res = await scim(n, 'POST', '/Groups', { schemas: [GROUP], displayName })
      expect(res.status).toBe(201)
      return ((await res.json()) as Json).id as string
    }
    const nest = (n: number, parent: string, child: string) =>
      scim(n, 'PATCH', `/Groups/${parent}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: child }] }],
      })
    for (let round = 0; round < 4; round++) {
      const a = await group(0, `nest-a-${round}`)
      const b = await group(1, `nest-b-${round}`)
      const [ab, ba] = await Promise.all([nest(0, a, b), nest(1, b, a)])
      const ok = (status: number) => (status === 200 || status === 204 ? 'ok' : status)
      expect([ok(ab.status), ok(ba.status)].sort()).toEqual([400, 'ok'])
    }
  })

  it('stops taking a key rotated elsewhere once PostgreSQL tells of the commit', async () => {
    const other = await sources.createSource(runtime.deps, { name: 'Rotated', slug: 'rotated' })
    const identifier = other.token?.identifier ?? ''
    const url = (i: number) => `${instances[i]?.url}/source/scim/rotated/v2/Users`
    const get = (i: number, bearer: string) =>
      fetch(url(i), { headers: { Authorization: `Bearer ${bearer}` } })
    // Twice each: the second is answered from the instance's cache of token lookups.
    for (const i of [0, 1, 0, 1]) expect((await get(i, other.key)).status).toBe(200)
    const fresh = await rotateKey(runtime.deps, identifier)
    // The instances learn of the rotation from PostgreSQL's notification (credential-watch.ts),
    // delivered moments after the commit: a request racing it may still pass, none after it.
    for (const i of [0, 1]) {
      const started = Date.now()
      await expect
        .poll(async () => (await get(i, other.key)).status, { timeout: 2_000, interval: 5 })
        .toBe(401)
      expect(Date.now() - started).toBeLessThan(1_000)
      expect((await get(i, fresh)).status).toBe(200)
      expect((await get(i, other.key)).status).toBe(401)
    }
  })

  it('runs a source mapping edited elsewhere once PostgreSQL tells of the commit', async () => {
    const other = await sources.createSource(runtime.deps, { name: 'Mapped', slug: 'mapped' })
    const mapping = await createMapping(runtime.deps, 'source', {
      name: 'tag',
      expression: '{ "attributes": { "tag": "first" } }',
    })
    await sources.updateSource(runtime.deps, 'mapped', { userPropertyMappings: [mapping.id] })
    let n = 0
    /** The tag a new user created through instance `i` gets. */
    const tagOfNewUser = async (i: number) => {
      const userName = `mapped-${n++}`
      const res = await fetch(`${instances[i]?.url}/source/scim/mapped/v2/Users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [USER], userName }),
      })
      expect(res.status).toBe(201)
      const { rows } = await sql<{ attributes: string }>`
        select attributes from users where username = ${userName}`.execute(runtime.deps.db)
      return (JSON.parse(rows[0]?.attributes ?? '{}') as Json).tag
    }
    // Twice each: the second create runs the definitions the instance kept.
    for (const i of [0, 1, 0, 1]) expect(await tagOfNewUser(i)).toBe('first')
    await updateMapping(runtime.deps, 'source', mapping.id, {
      expression: '{ "attributes": { "tag": "second" } }',
    })
    for (const i of [0, 1]) {
      const started = Date.now()
      await expect.poll(() => tagOfNewUser(i), { timeout: 2_000, interval: 5 }).toBe('second')
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(await tagOfNewUser(i)).toBe('second')
    }
  })

  it('keeps serving after PostgreSQL drops every connection (restart, failover)', async () => {
    for (let n = 0; n < 4; n++) expect((await scim(n, 'GET', '/Users?count=1')).status).toBe(200)
    const { rows } = await sql<{ app: string; n: string }>`
      select application_name as app, count(pg_terminate_backend(pid)) as n
      from pg_stat_activity
      where datname = ${database.name} and application_name in ('scimd-a', 'scimd-b')
      group by application_name`.execute(runtime.deps.db)
    expect(rows.map((r) => r.app).sort()).toEqual(['scimd-a', 'scimd-b'])
    // Each instance hears of every dropped connection (and logs it) instead of crashing:
    // the pool's, and the one it listens for credential changes on, which it opens again.
    const POOL_LOST = 'database connection lost'
    const LISTEN_LOST = /^credential change notifications lost/
    const HEARD = /^credential change notifications heard/
    for (const [i, app] of ['scimd-a', 'scimd-b'].entries()) {
      const dropped = Number(rows.find((r) => r.app === app)?.n)
      const logs = (msg: string | RegExp) =>
        (instances[i] as Instance).logs.filter((l) =>
          typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg)),
        )
      const lost = () => logs(POOL_LOST).length + logs(LISTEN_LOST).length
      await expect.poll(lost, { timeout: 20_000 }).toBe(dropped)
      expect(logs(LISTEN_LOST)).toHaveLength(1)
      await expect.poll(() => logs(HEARD).length, { timeout: 20_000 }).toBe(2)
    }
    for (let n = 0; n < 4; n++) expect((await scim(n, 'GET', '/Users?count=1')).status).toBe(200)
  })
})
