/**
 * What an operator sees: one log line per SCIM write and per error, source and token changes,
 * never a secret; and GET /metrics in Prometheus's text format for an admin token.
 * @see issue 24
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { createScratchSchema, isPostgres } from '../support/pg.js'

// biome-ignore lint/suspicious/noExplicitAny: log lines and bodies are probed field by field
type Json = Record<string, any>

const ADMIN_KEY = 'observability-admin-token-0123456789'
const SECRET = 'observability-secret-0123456789abcdef01234'
const PASSWORD = 'correct horse battery staple 42'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** An app at LOG_LEVEL=info whose log lines are kept. */
async function loggedApp(env: Record<string, string> = {}) {
  const lines: string[] = []
  const schema = isPostgres ? await createScratchSchema() : undefined
  const config = loadConfig({
    DATABASE_URL: isPostgres ? (process.env.DATABASE_URL as string) : 'sqlite::memory:',
    SCIMD_BOOTSTRAP_TOKEN: ADMIN_KEY,
    SCIMD_SECRET_KEY: SECRET,
    ...env,
  })
  const runtime = await startRuntime(config, {
    logger: createLogger('info', (line) => lines.push(line)),
    serving: true,
    ...(schema ? { searchPath: schema.schema } : {}),
  })
  onTestFinished(async () => {
    await runtime.close()
    await schema?.drop()
  })
  const app = createApp(runtime.deps)
  const request = (method: string, path: string, key: string, body?: unknown) =>
    app.request(`http://scimd.test${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/scim+json',
        'user-agent': 'Test-IdP/1.0',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const logged = () => lines.map((l) => JSON.parse(l) as Json)
  return { app, request, lines, logged }
}

describe('logs at info', () => {
  it('have one line per SCIM write and per error, source and token changes, and no secret', async () => {
    const t = await loggedApp()
    const admin = (method: string, path: string, body?: unknown) =>
      t.request(method, `/api/v3${path}`, ADMIN_KEY, body)
    const source = (await (
      await admin('POST', '/sources/scim/', { name: 'Entra', slug: 'entra' })
    ).json()) as Json
    const identifier = source.token_obj.identifier as string
    const { key } = (await (
      await admin('GET', `/core/tokens/${identifier}/view_key/`)
    ).json()) as Json
    const scim = (method: string, path: string, body?: unknown, k = key as string) =>
      t.request(method, `/source/scim/entra/v2${path}`, k, body)

    const created = (await (
      await scim('POST', '/Users', { schemas: [USER], userName: 'ada', password: PASSWORD })
    ).json()) as Json
    expect((await scim('GET', `/Users/${created.id}`)).status).toBe(200)
    expect((await scim('GET', '/Users?filter=userName eq "ada"')).status).toBe(200)
    const patched = await scim('PATCH', `/Users/${created.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'password', value: `${PASSWORD}!` }],
    })
    expect(patched.status).toBe(200)
    expect((await scim('POST', '/Users', { schemas: [USER], userName: 'ada' })).status).toBe(409)
    expect((await scim('GET', '/Users?filter=userName eq')).status).toBe(400)
    expect((await scim('GET', '/Users', undefined, 'wrong-key-0123456789')).status).toBe(401)
    const rotated = (await (
      await admin('POST', `/core/tokens/${identifier}/rotate/`)
    ).json()) as Json
    const chosen = 'a-chosen-key-0123456789abcdef'
    expect(
      (await admin('POST', `/core/tokens/${identifier}/set_key/`, { key: chosen })).status,
    ).toBe(204)
    expect((await scim('DELETE', `/Users/${created.id}`, undefined, chosen)).status).toBe(204)
    expect((await admin('PATCH', '/sources/scim/entra/', { enabled: false })).status).toBe(200)
    expect((await admin('DELETE', '/sources/scim/entra/')).status).toBe(204)

    // No secret of the run in any line.
    const secrets = [ADMIN_KEY, SECRET, PASSWORD, `${PASSWORD}!`, key, rotated.key, chosen]
    for (const line of t.lines) {
      for (const secret of secrets) expect(line, line).not.toContain(secret)
    }

    const requests = t.logged().filter((l) => l.msg === 'request')
    // SCIM reads that succeeded are not logged at info; every SCIM write and every error is
    // (admin API changes have their own lines, below).
    expect(requests.map((l) => `${l.method} ${l.status}`)).toEqual([
      'POST 201',
      'PATCH 200',
      'POST 409',
      'GET 400',
      'GET 401',
      'DELETE 204',
    ])
    const write = requests[0] as Json
    expect(write).toMatchObject({
      level: 'info',
      requestId: expect.any(String),
      source: 'entra',
      method: 'POST',
      path: '/source/scim/entra/v2/Users',
      status: 201,
      userAgent: 'Test-IdP/1.0',
      time: expect.any(String),
      ms: expect.any(Number),
    })
    expect(requests[2]).toMatchObject({ level: 'warn', status: 409, scimType: 'uniqueness' })
    expect(requests[3]).toMatchObject({ status: 400, scimType: 'invalidFilter', source: 'entra' })
    expect(requests[4]).toMatchObject({ status: 401, source: 'entra' })

    const changes = t
      .logged()
      .filter((l) => l.msg !== 'request')
      .map((l) => l.msg)
    expect(changes).toEqual(
      expect.arrayContaining([
        'source_created',
        'secret_view',
        'token_rotated',
        'token_key_set',
        'source_updated',
        'source_deleted',
      ]),
    )
  })
})

describe('GET /metrics', () => {
  it('answers an admin token with requests, latency, provisioning and pool metrics', async () => {
    const t = await loggedApp()
    expect((await t.request('GET', '/metrics', 'nope-0123456789abcdef')).status).toBe(401)
    const source = (await (
      await t.request('POST', '/api/v3/sources/scim/', ADMIN_KEY, { name: 'Okta', slug: 'okta' })
    ).json()) as Json
    const { key } = (await (
      await t.request(
        'GET',
        `/api/v3/core/tokens/${source.token_obj.identifier}/view_key/`,
        ADMIN_KEY,
      )
    ).json()) as Json
    // A source's token is not an admin token.
    expect((await t.request('GET', '/metrics', key)).status).toBe(403)
    const created = (await (
      await t.request('POST', '/source/scim/okta/v2/Users', key, { schemas: [USER], userName: 'x' })
    ).json()) as Json
    await t.request('GET', `/source/scim/okta/v2/Users/${created.id}`, key)
    await t.request('GET', '/source/scim/okta/v2/Users/nope', key)

    const res = await t.request('GET', '/metrics', ADMIN_KEY)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    const text = await res.text()
    expect(text).toContain(
      'scimd_http_requests_total{source="okta",endpoint="/source/scim/:slug/v2/Users",method="POST",status="201"} 1',
    )
    // The route pattern, not the raw path: both GETs by id under one endpoint.
    expect(text).toContain(
      'scimd_http_requests_total{source="okta",endpoint="/source/scim/:slug/v2/Users/:id",method="GET",status="200"} 1',
    )
    expect(text).toContain(
      'scimd_http_requests_total{source="okta",endpoint="/source/scim/:slug/v2/Users/:id",method="GET",status="404"} 1',
    )
    expect(text).not.toContain(created.id)
    expect(text).toMatch(
      /scimd_http_request_duration_seconds_bucket\{le="0\.005",endpoint="\/source\/scim\/:slug\/v2\/Users",method="POST"\} \d/,
    )
    expect(text).toContain(
      'scimd_provisioning_operations_total{source="okta",resource="User",operation="create"} 1',
    )
    expect(text).toContain('scimd_process_resident_memory_bytes')
    if (isPostgres) expect(text).toMatch(/scimd_db_pool_connections\{state="max"\} 10/)
    else expect(text).not.toMatch(/scimd_db_pool_connections\{/)
    expect(text).not.toContain(key)
  })

  it('is absent with SCIMD_METRICS=off', async () => {
    const t = await loggedApp({ SCIMD_METRICS: 'off' })
    expect((await t.request('GET', '/metrics', ADMIN_KEY)).status).toBe(404)
  })
})

describe("the request log's client address (issue 29)", () => {
  const PROXY = '10.0.0.1'
  /** A request from the socket peer `peer`, as @hono/node-server hands the app its socket. */
  const from = (
    app: ReturnType<typeof createApp>,
    peer: string,
    forwardedFor: string | undefined,
    key: string,
  ) =>
    app.request(
      'http://scimd.test/api/v3/core/users/',
      {
        headers: {
          authorization: `Bearer ${key}`,
          ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
        },
      },
      { incoming: { socket: { remoteAddress: peer } } } as never,
    )

  it('is the one auth uses: X-Forwarded-For only from a trusted proxy', async () => {
    const t = await loggedApp({ SCIMD_TRUSTED_PROXIES: `${PROXY},10.1.0.0/16` })
    const wrong = 'wrong-key-0123456789abcdef0123456789'
    const cases: Array<[string, string | undefined, string]> = [
      // Not a proxy: its X-Forwarded-For is the client's own claim, and ignored.
      ['203.0.113.5', '198.51.100.9', '203.0.113.5'],
      // A trusted proxy: the hop it appended.
      [PROXY, '198.51.100.9', '198.51.100.9'],
      // What a client wrote at the left of the header is not believed; trusted hops are skipped.
      [PROXY, '192.0.2.66, 198.51.100.10, 10.1.2.3', '198.51.100.10'],
      // An IPv4-mapped peer is logged as IPv4.
      ['::ffff:203.0.113.6', undefined, '203.0.113.6'],
    ]
    for (const [peer, forwardedFor] of cases) {
      expect((await from(t.app, peer, forwardedFor, wrong)).status).toBe(401)
    }
    const logged = t
      .logged()
      .filter((l) => l.msg === 'request' && l.status === 401)
      .map((l) => l.ip)
    expect(logged).toEqual(cases.map(([, , ip]) => ip))
    expect(t.lines.join('\n')).not.toContain('192.0.2.66')

    // The failed-login events name the same addresses.
    const res = await t.request(
      'GET',
      '/api/v3/events/events/?action=login_failed&ordering=created',
      ADMIN_KEY,
    )
    const events = ((await res.json()) as Json).results as Json[]
    expect(events.map((e) => e.client_ip)).toEqual(logged)
  })
})
