/**
 * scimd as it runs in production: a SQLite file (writer connection with group commit, plus
 * the query-only read connection) behind @hono/node-server on 127.0.0.1, over real HTTP.
 * Bodies are read from Node's request stream there, not through a fetch Request.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { batchResponses } from '../../src/http/batch-responses.js'
import { createLogger } from '../../src/logger.js'
import { type Runtime, startRuntime } from '../../src/runtime.js'
import * as sources from '../../src/services/sources.js'
import * as tokens from '../../src/services/tokens.js'

const MAX_BODY = 64 * 1024
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
let dir: string
let runtime: Runtime
let server: ReturnType<typeof serve>
let base: string
let key: string
let tokenIdentifier: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-served-'))
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}`,
    SCIMD_SECRET_KEY: 'served-test-secret-key-0123456789abcdef',
    SCIMD_MAX_BODY_BYTES: String(MAX_BODY),
    // A map smaller than the file soon is: reads go through it and past its end.
    SCIMD_SQLITE_MMAP_MB: '1',
    LOG_LEVEL: 'silent',
  })
  runtime = await startRuntime(config, { logger: createLogger('silent') })
  const created = await sources.createSource(runtime.deps, { name: 'Served', slug: 'served' })
  key = created.key
  tokenIdentifier = created.token?.identifier ?? ''
  server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: batchResponses(createApp(runtime.deps).fetch), hostname: '127.0.0.1', port: 0 },
      () => resolve(s),
    )
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  base = `http://127.0.0.1:${port}/source/scim/served/v2`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await runtime.close()
  rmSync(dir, { recursive: true, force: true })
})

const headers = () => ({
  Authorization: `Bearer ${key}`,
  'Content-Type': 'application/scim+json',
})

const user = (userName: string) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  emails: [{ value: userName, primary: true }],
})

async function existence(userName: string): Promise<number> {
  const filter = encodeURIComponent(`userName eq "${userName}"`)
  const res = await fetch(`${base}/Users?filter=${filter}`, { headers: headers() })
  expect(res.status).toBe(200)
  return ((await res.json()) as { totalResults: number }).totalResults
}

/** A POST whose body arrives in chunks without a Content-Length (Transfer-Encoding: chunked). */
function chunkedPost(path: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers: headers() }, (res) => {
      let body = ''
      res.on('data', (c) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('served over HTTP on a SQLite file', () => {
  it('answers concurrent creates one by one: duplicates 409, the rest 201 and readable at once', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `served-${i % 16}@example.com`)
    const responses = await Promise.all(
      names.map((name) =>
        fetch(`${base}/Users`, {
          method: 'POST',
          headers: headers(),
          body: JSON.stringify(user(name)),
        }),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(16)
    expect(statuses.filter((s) => s === 409)).toHaveLength(8)
    for (const res of responses.filter((r) => r.status === 201)) {
      const created = (await res.json()) as { id: string; userName: string }
      // Read back on the read connection right after the 201: the commit is visible.
      const got = await fetch(`${base}/Users/${created.id}`, { headers: headers() })
      expect(got.status).toBe(200)
      expect(((await got.json()) as { userName: string }).userName).toBe(created.userName)
      expect(await existence(created.userName.toUpperCase())).toBe(1)
    }
  })

  it('reads a chunked body without a Content-Length', async () => {
    const body = JSON.stringify(user('chunked@example.com'))
    const res = await chunkedPost('/Users', [body.slice(0, 10), body.slice(10, 40), body.slice(40)])
    expect(res.status).toBe(201)
    expect(await existence('chunked@example.com')).toBe(1)
  })

  it('refuses a chunked body over the limit with 413 and writes nothing', async () => {
    const padding = 'x'.repeat(8 * 1024)
    const body = JSON.stringify({ ...user('too-big@example.com'), displayName: padding.repeat(10) })
    const chunks = body.match(/[\s\S]{1,8192}/g) as string[]
    const res = await chunkedPost('/Users', chunks)
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toMatchObject({ status: '413' })
    expect(await existence('too-big@example.com')).toBe(0)
  })

  it('refuses a declared Content-Length over the limit with 413', async () => {
    const body = JSON.stringify({
      ...user('declared@example.com'),
      displayName: 'x'.repeat(MAX_BODY),
    })
    const res = await fetch(`${base}/Users`, { method: 'POST', headers: headers(), body })
    expect(res.status).toBe(413)
    expect(await existence('declared@example.com')).toBe(0)
  })

  it("names every response with X-Request-Id: the client's own if sane, else a new UUID", async () => {
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
    const send = (
      method: string,
      path: string,
      extra: Record<string, string> = {},
      body?: unknown,
    ) =>
      fetch(`${base}${path}`, {
        method,
        headers: { ...headers(), ...extra },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const created = await send('POST', '/Users', {}, user('request-id@example.com'))
    expect(created.status).toBe(201)
    expect(created.headers.get('x-request-id')).toMatch(UUID)
    const { id } = (await created.json()) as { id: string }
    const etag = created.headers.get('etag') ?? ''

    const echoed = await send('GET', `/Users/${id}`, { 'X-Request-Id': 'trace-42=a_b' })
    expect(echoed.headers.get('x-request-id')).toBe('trace-42=a_b')
    const replaced = await send('GET', `/Users/${id}`, { 'X-Request-Id': 'not sane!' })
    expect(replaced.headers.get('x-request-id')).toMatch(UUID)
    const tooLong = await send('GET', `/Users/${id}`, { 'X-Request-Id': 'a'.repeat(256) })
    expect(tooLong.headers.get('x-request-id')).toMatch(UUID)

    // Without a body (304, 204), an error, a discovery document, a health check.
    const notModified = await send('GET', `/Users/${id}`, {
      'If-None-Match': etag,
      'X-Request-Id': 'r304',
    })
    expect([notModified.status, notModified.headers.get('x-request-id')]).toEqual([304, 'r304'])
    const missing = await send('GET', '/Users/nope', { 'X-Request-Id': 'r404' })
    expect([missing.status, missing.headers.get('x-request-id')]).toEqual([404, 'r404'])
    const config = await send('GET', '/ServiceProviderConfig', { 'X-Request-Id': 'rspc' })
    expect([config.status, config.headers.get('x-request-id')]).toEqual([200, 'rspc'])
    const live = await fetch(new URL('/-/health/live', base), {
      headers: { 'X-Request-Id': 'rlive' },
    })
    expect([live.status, live.headers.get('x-request-id')]).toEqual([204, 'rlive'])
    const deleted = await send('DELETE', `/Users/${id}`, { 'X-Request-Id': 'r204' })
    expect([deleted.status, deleted.headers.get('x-request-id')]).toEqual([204, 'r204'])

    // Refusals before any route: a wrong token, a NUL in the URL, no such endpoint.
    const refused = await send('GET', '/Users', {
      Authorization: 'Bearer nope',
      'X-Request-Id': 'r401',
    })
    expect([refused.status, refused.headers.get('x-request-id')]).toEqual([401, 'r401'])
    const nul = await send('GET', '/Users?filter=userName%00', { 'X-Request-Id': 'rnul' })
    expect([nul.status, nul.headers.get('x-request-id')]).toEqual([400, 'rnul'])
    const nowhere = await send('GET', '/Nowhere', { 'X-Request-Id': 'rnowhere' })
    expect([nowhere.status, nowhere.headers.get('x-request-id')]).toEqual([404, 'rnowhere'])
    const group = await send('POST', '/Groups', {}, { displayName: 'request-id group' })
    const groupId = ((await group.json()) as { id: string }).id
    const patched = await send(
      'PATCH',
      `/Groups/${groupId}`,
      { 'X-Request-Id': 'rpatch' },
      {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'renamed' }],
      },
    )
    expect([patched.status, patched.headers.get('x-request-id')]).toEqual([204, 'rpatch'])
  })

  describe('token checks, which are cached while the database is unchanged', () => {
    const status = async (bearer: string) =>
      (await fetch(`${base}/Users?count=1`, { headers: { Authorization: `Bearer ${bearer}` } }))
        .status

    it('refuse a rotated key at once, and take the new one', async () => {
      const old = key
      expect(await status(old)).toBe(200)
      expect(await status(old)).toBe(200)
      key = await tokens.rotateKey(runtime.deps, tokenIdentifier)
      expect(await status(old)).toBe(401)
      expect(await status(key)).toBe(200)
    })

    it('see a change another process commits: a disabled source, then a new key', async () => {
      expect(await status(key)).toBe(200)
      // The CLI's own connection to the same file.
      const cli = new SQLite(join(dir, 'scimd.db'))
      try {
        cli.prepare("update sources set enabled = 0 where slug = 'served'").run()
        expect(await status(key)).toBe(403)
        cli.prepare("update sources set enabled = 1 where slug = 'served'").run()
        expect(await status(key)).toBe(200)
        cli
          .prepare('update tokens set key_digest = ? where identifier = ?')
          .run('x', tokenIdentifier)
        expect(await status(key)).toBe(401)
      } finally {
        cli.close()
      }
      key = await tokens.rotateKey(runtime.deps, tokenIdentifier)
      expect(await status(key)).toBe(200)
    })

    it('never take a wrong key, however often a right one was seen', async () => {
      for (let i = 0; i < 3; i++) expect(await status(key)).toBe(200)
      // The last character changed (a random key ends in `x` one time in 64).
      expect(await status(`${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`)).toBe(401)
      expect(await status('')).toBe(401)
    })
  })

  it('keeps list totals exact across writes, though totals are cached between them', async () => {
    const total = async (filter?: string) => {
      const query = `startIndex=2&count=1${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`
      const res = await fetch(`${base}/Users?${query}`, { headers: headers() })
      expect(res.status).toBe(200)
      return ((await res.json()) as { totalResults: number }).totalResults
    }
    const filter = 'userName sw "total-"'
    const before = await total()
    expect(await total()).toBe(before)
    expect(await total(filter)).toBe(0)
    const created = await fetch(`${base}/Users`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(user('total-1@example.com')),
    })
    expect(created.status).toBe(201)
    expect(await total()).toBe(before + 1)
    expect(await total(filter)).toBe(1)
    const { id } = (await created.json()) as { id: string }
    const removed = await fetch(`${base}/Users/${id}`, { method: 'DELETE', headers: headers() })
    expect(removed.status).toBe(204)
    expect(await total()).toBe(before)
    expect(await total(filter)).toBe(0)
  })

  it('reads the file through the map it was given, and writes without one', async () => {
    const mmapSize = async (db: Runtime['deps']['db']) =>
      (await sql<{ mmap_size: number }>`pragma mmap_size`.execute(db)).rows[0]?.mmap_size
    expect(await mmapSize(runtime.deps.reader)).toBe(2 ** 20)
    expect(await mmapSize(runtime.deps.db)).toBe(0)
  })
})
