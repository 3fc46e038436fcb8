import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { clientKey } from '../../src/services/limits.js'
import * as sources from '../../src/services/sources.js'
import { ADMIN_KEY, BASE, createTestApp, isPostgres } from '../support/app.js'
import { createScratchSchema } from '../support/pg.js'

type App = { request: ReturnType<typeof createApp>['request'] }

/** A request from a client at `ip` (the socket's peer), as @hono/node-server hands it over. */
function from(
  app: App,
  ip: string,
  path: string,
  key: string,
  headers: Record<string, string> = {},
) {
  return app.request(
    `${BASE}${path}`,
    { headers: { authorization: `Bearer ${key}`, ...headers } },
    { incoming: { socket: { remoteAddress: ip } } } as never,
  )
}

const USERS = '/source/scim/test/v2/Users'

describe('failed authentication limit', () => {
  it('answers 429 with Retry-After after the limit, even to a right key from that address, and to no other', async () => {
    const t = await createTestApp({
      env: { SCIMD_AUTH_FAILURE_LIMIT: '3', SCIMD_AUTH_FAILURE_WINDOW: '120' },
    })
    for (let i = 0; i < 3; i++) {
      expect((await from(t.app, '203.0.113.9', USERS, `wrong-${i}`)).status).toBe(401)
    }
    const blocked = await from(t.app, '203.0.113.9', USERS, 'wrong-again')
    expect(blocked.status).toBe(429)
    const wait = Number(blocked.headers.get('retry-after'))
    expect(wait).toBeGreaterThanOrEqual(1)
    expect(wait).toBeLessThanOrEqual(120)
    expect(await blocked.json()).toMatchObject({ status: '429' })
    // Refused before the key is looked at: the right key learns nothing either.
    expect((await from(t.app, '203.0.113.9', USERS, t.key)).status).toBe(429)
    expect((await from(t.app, '203.0.113.9', '/api/v3/core/users/', ADMIN_KEY)).status).toBe(429)
    // Other clients are not slowed: another address, right or wrong key.
    expect((await from(t.app, '203.0.113.10', USERS, t.key)).status).toBe(200)
    expect((await from(t.app, '203.0.113.10', USERS, 'wrong')).status).toBe(401)
    // Blocked requests write nothing: three failures were recorded, no more.
    const list = await t.admin('GET', '/events/events/?action=login_failed&client_ip=203.0.113.9')
    expect(((await list.json()) as { pagination: { count: number } }).pagination.count).toBe(3)
  })

  it('counts admin API failures too, and answers 429 in authentik’s shape there', async () => {
    const t = await createTestApp({ env: { SCIMD_AUTH_FAILURE_LIMIT: '2' } })
    for (let i = 0; i < 2; i++) {
      expect((await from(t.app, '192.0.2.1', '/api/v3/core/users/', 'nope-nope')).status).toBe(401)
    }
    const res = await from(t.app, '192.0.2.1', '/api/v3/core/users/', ADMIN_KEY)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toMatch(/^[0-9]+$/)
    expect(await res.json()).toMatchObject({ code: 'throttled' })
  })

  it('does not count a request without credentials, and limits nothing when the limit is 0', async () => {
    const t = await createTestApp({ env: { SCIMD_AUTH_FAILURE_LIMIT: '1' } })
    for (let i = 0; i < 3; i++) {
      const res = await t.app.request(`${BASE}${USERS}`, {}, {
        incoming: { socket: { remoteAddress: '192.0.2.50' } },
      } as never)
      expect(res.status).toBe(401)
    }
    expect((await from(t.app, '192.0.2.50', USERS, t.key)).status).toBe(200)
    const off = await createTestApp({ env: { SCIMD_AUTH_FAILURE_LIMIT: '0' } })
    for (let i = 0; i < 5; i++)
      expect((await from(off.app, '192.0.2.51', USERS, 'x')).status).toBe(401)
    expect((await from(off.app, '192.0.2.51', USERS, off.key)).status).toBe(200)
  })

  it('counts an IPv6 client by its /64', async () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(clientKey('2001:0db8:0001:0002:ffff:0:0:7')).toBe('2001:db8:1:2::/64')
    expect(clientKey('::1')).toBe('0:0:0:0::/64')
    expect(clientKey('198.51.100.1')).toBe('198.51.100.1')
    const t = await createTestApp({ env: { SCIMD_AUTH_FAILURE_LIMIT: '2' } })
    await from(t.app, '2001:db8::1', USERS, 'bad-1')
    await from(t.app, '2001:db8::2', USERS, 'bad-2')
    expect((await from(t.app, '2001:db8::3', USERS, t.key)).status).toBe(429)
    expect((await from(t.app, '2001:db8:0:1::3', USERS, t.key)).status).toBe(200)
  })

  it('shares the count between instances on one database', async () => {
    const [a, b] = await twoInstances({ SCIMD_AUTH_FAILURE_LIMIT: '4' })
    expect((await from(a.app, '198.51.100.20', USERS, 'bad-a1')).status).toBe(401)
    expect((await from(b.app, '198.51.100.20', USERS, 'bad-b1')).status).toBe(401)
    expect((await from(a.app, '198.51.100.20', USERS, 'bad-a2')).status).toBe(401)
    // The fourth failure, on b, reaches the limit of both together: b blocks at once.
    expect((await from(b.app, '198.51.100.20', USERS, 'bad-b2')).status).toBe(401)
    expect((await from(b.app, '198.51.100.20', USERS, b.key)).status).toBe(429)
    // a learns of the block at the next failure it sees, which is answered 429 already.
    expect((await from(a.app, '198.51.100.20', USERS, 'bad-a3')).status).toBe(429)
    expect((await from(a.app, '198.51.100.20', USERS, a.key)).status).toBe(429)
  })
})

describe('client address', () => {
  it('believes X-Forwarded-For only from a trusted proxy, read from the right', async () => {
    const t = await createTestApp({
      env: { SCIMD_AUTH_FAILURE_LIMIT: '1', SCIMD_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' },
    })
    // From an untrusted peer the header is ignored: the failure counts against the peer.
    await from(t.app, '192.0.2.77', USERS, 'bad', { 'x-forwarded-for': '198.51.100.1' })
    expect((await from(t.app, '192.0.2.77', USERS, t.key)).status).toBe(429)
    // Through the proxy, the client is the right-most untrusted hop; what the client wrote
    // at the left (a spoofed address) is not believed.
    await from(t.app, '10.1.2.3', USERS, 'bad', {
      'x-forwarded-for': '203.0.113.1, 198.51.100.66, 10.9.9.9',
    })
    expect(
      (await from(t.app, '10.1.2.3', USERS, t.key, { 'x-forwarded-for': '198.51.100.66' })).status,
    ).toBe(429)
    expect(
      (await from(t.app, '10.1.2.3', USERS, t.key, { 'x-forwarded-for': '203.0.113.1' })).status,
    ).toBe(200)
    const failed = await t.admin('GET', '/events/events/?action=login_failed&ordering=created')
    const ips = ((await failed.json()) as { results: Array<{ client_ip: string }> }).results.map(
      (e) => e.client_ip,
    )
    expect(ips).toEqual(['192.0.2.77', '198.51.100.66'])
  })

  it('refuses a malformed SCIMD_TRUSTED_PROXIES at start', () => {
    expect(() => loadConfig({ SCIMD_TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/)
    expect(() => loadConfig({ SCIMD_TRUSTED_PROXIES: 'proxy.local' })).toThrow(/TRUSTED_PROXIES/)
    expect(loadConfig({ SCIMD_TRUSTED_PROXIES: '::1, 10.0.0.0/8' }).trustedProxies).toEqual([
      '::1',
      '10.0.0.0/8',
    ])
  })
})

describe('per-source request rate', () => {
  it('is off by default', async () => {
    const t = await createTestApp()
    for (let i = 0; i < 30; i++) expect((await t.scim('GET', '/Users')).status).toBe(200)
  })

  it('answers 429 with Retry-After above the rate, for that source only', async () => {
    const t = await createTestApp({
      env: { SCIMD_SOURCE_RATE_LIMIT: '0.5', SCIMD_SOURCE_RATE_BURST: '3' },
    })
    const other = await t.createSource('other')
    for (let i = 0; i < 3; i++) expect((await t.scim('GET', '/Users')).status).toBe(200)
    const res = await t.scim('GET', '/Users')
    expect(res.status).toBe(429)
    // One request's worth at half a request a second: two seconds at most.
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(2)
    const own = await t.raw('GET', '/source/scim/other/v2/Users', {
      headers: { authorization: `Bearer ${other.key}` },
    })
    expect(own.status).toBe(200)
  })
})

/** Two runtimes and apps on one database: a SQLite file, or one PostgreSQL schema. */
async function twoInstances(env: Record<string, string>) {
  const scratch = isPostgres ? await createScratchSchema() : undefined
  const dir = isPostgres ? undefined : mkdtempSync(join(tmpdir(), 'scimd-limits-'))
  const config = loadConfig({
    DATABASE_URL: isPostgres ? (process.env.DATABASE_URL as string) : `sqlite:${dir}/scimd.db`,
    SCIMD_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    LOG_LEVEL: 'silent',
    ...env,
  })
  const runtimes: Awaited<ReturnType<typeof startRuntime>>[] = []
  onTestFinished(async () => {
    for (const r of runtimes) await r.close()
    await scratch?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  const options = {
    logger: createLogger('silent'),
    ...(scratch ? { searchPath: scratch.schema } : {}),
  }
  runtimes.push(await startRuntime(config, options))
  runtimes.push(await startRuntime(config, options))
  const [first, second] = runtimes as [
    Awaited<ReturnType<typeof startRuntime>>,
    Awaited<ReturnType<typeof startRuntime>>,
  ]
  const { key } = await sources.createSource(first.deps, { name: 'test', slug: 'test' })
  return [
    { app: createApp(first.deps), key },
    { app: createApp(second.deps), key },
  ] as const
}
