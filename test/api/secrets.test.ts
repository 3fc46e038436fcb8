/**
 * Item 6 of issue 29: no token or password a client or admin used is anywhere on disk (the
 * SQLite database, its WAL and shared-memory files) or in any log line, in plaintext, base64
 * or base64url (at any byte alignment), or hex.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import { createAdminToken } from '../../src/services/sources.js'
import { createTestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BASE = 'http://scimd.test'

/**
 * How `secret` looks inside a longer base64 text, whatever bytes came before it: for each of
 * the three alignments, the characters that depend on the secret's bytes alone.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret)
  const forms: string[] = []
  for (const k of [0, 1, 2]) {
    let text = Buffer.concat([Buffer.alloc(k), bytes])
      .toString('base64')
      .replace(/=+$/, '')
    if (((k + bytes.length) * 8) % 6 !== 0) text = text.slice(0, -1)
    text = text.slice(Math.ceil((8 * k) / 6))
    forms.push(text, text.replaceAll('+', '-').replaceAll('/', '_'))
  }
  return forms
}

function encodings(secret: string): Array<[string, string]> {
  return [
    ['plaintext', secret],
    ['hex', Buffer.from(secret).toString('hex')],
    ...base64Forms(secret).map((form): [string, string] => ['base64', form]),
  ]
}

function findings(haystack: string, secrets: ReadonlyMap<string, string>, where: string) {
  const found: string[] = []
  for (const [name, secret] of secrets) {
    for (const [encoding, form] of encodings(secret)) {
      if (haystack.includes(form)) found.push(`${name} (${encoding}) in ${where}`)
    }
  }
  return found
}

describe('secrets', () => {
  it('finds its own encodings (the scan works)', () => {
    const secret = 'a-secret-key-0123456789'
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const text = Buffer.from(`${prefix}${secret}tail`).toString('base64')
      expect(findings(text, new Map([['s', secret]]), 'probe')).not.toEqual([])
      const url = Buffer.from(`${prefix}${secret}`).toString('base64url')
      expect(findings(url, new Map([['s', secret]]), 'probe')).not.toEqual([])
    }
    expect(findings('nothing here', new Map([['s', secret]]), 'probe')).toEqual([])
  })

  it('keeps every token and password out of the database files and the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimd-secrets-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const secrets = new Map<string, string>([
      ['bootstrap token', 'bootstrap-Tok3n-for-the-secret-scan-0001'],
      ['server secret', 'server-secret-key-for-the-scan-0123456789abcdef'],
    ])
    const lines: string[] = []
    const config = loadConfig({
      DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}`,
      SCIMD_BOOTSTRAP_TOKEN: secrets.get('bootstrap token') as string,
      SCIMD_SECRET_KEY: secrets.get('server secret') as string,
      LOG_LEVEL: 'debug',
      SCIMD_AUTH_FAILURE_LIMIT: '3',
    })
    const runtime = await startRuntime(config, {
      logger: createLogger('debug', (line) => lines.push(line)),
      serving: true,
    })
    let closed = false
    onTestFinished(async () => {
      if (!closed) await runtime.close()
    })
    const app = createApp(runtime.deps)
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const text = body === undefined ? undefined : JSON.stringify(body)
      // As @hono/node-server hands it over: Node's request stream, with its socket.
      const incoming = Object.assign(Readable.from(text === undefined ? [] : [Buffer.from(text)]), {
        socket: { remoteAddress: '198.51.100.99' },
      })
      const res = await app.request(
        `${BASE}${path}`,
        {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(text === undefined ? {} : { body: text }),
        },
        { incoming } as never,
      )
      const answer = await res.text()
      return { status: res.status, json: (answer ? JSON.parse(answer) : {}) as Json }
    }
    const admin = (method: string, path: string, body?: unknown) =>
      call(method, `/api/v3${path}`, secrets.get('bootstrap token') as string, body)

    // Admin: a source (its key is returned once), view_key, rotate, set_key, a CLI admin token.
    const source = await admin('POST', '/sources/scim/', { name: 'Entra', slug: 'entra' })
    expect(source.status).toBe(201)
    const identifier = source.json.token_obj.identifier as string
    const viewed = await admin('GET', `/core/tokens/${identifier}/view_key/`)
    secrets.set('source key', viewed.json.key)
    const rotated = await admin('POST', `/core/tokens/${identifier}/rotate/`)
    secrets.set('rotated key', rotated.json.key)
    secrets.set('set key', 'an-admin-chosen-key-0123456789')
    expect(
      (await admin('POST', `/core/tokens/${identifier}/set_key/`, { key: secrets.get('set key') }))
        .status,
    ).toBe(204)
    const cli = await createAdminToken(runtime.deps)
    secrets.set('admin token', cli.key)
    expect((await call('GET', '/api/v3/core/users/', cli.key)).status).toBe(200)

    // Provisioning with passwords: create, PUT, Okta's PATCH password sync.
    const scim = (method: string, path: string, body?: unknown) =>
      call(method, `/source/scim/entra/v2${path}`, secrets.get('set key') as string, body)
    secrets.set('password on create', 'Pa55word-on-create!')
    secrets.set('password on put', 'Pa55word-on-put!')
    secrets.set('password on patch', 'Pa55word-on-patch!')
    const user = await scim('POST', '/Users', {
      schemas: [USER],
      userName: 'grace@example.com',
      password: secrets.get('password on create'),
      emails: [{ value: 'grace@example.com', primary: true }],
    })
    expect(user.status).toBe(201)
    const id = user.json.id as string
    expect(
      (
        await scim('PUT', `/Users/${id}`, {
          schemas: [USER],
          userName: 'grace@example.com',
          password: secrets.get('password on put'),
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await scim('PATCH', `/Users/${id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'replace', value: { password: secrets.get('password on patch') } }],
        })
      ).status,
    ).toBe(200)
    const group = await scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      members: [{ value: id }],
    })
    expect(group.status).toBe(201)

    // Failed authentications, up to the block: the keys presented are secrets too.
    for (const n of [1, 2, 3, 4]) {
      const wrong = `presented-wrong-key-number-${n}-xyz`
      secrets.set(`wrong key ${n}`, wrong)
      await call('GET', '/source/scim/entra/v2/Users', wrong)
    }
    await call('GET', '/api/v3/core/users/', secrets.get('rotated key') as string)

    const scan = () => {
      const found: string[] = []
      for (const name of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, name))
        // latin1 keeps every byte as one character: ASCII secrets are found wherever they are.
        found.push(...findings(bytes.toString('latin1'), secrets, name))
      }
      lines.forEach((line, i) => {
        found.push(...findings(line, secrets, `log line ${i + 1}`))
      })
      return found
    }
    const files = readdirSync(dir)
    expect(files).toEqual(expect.arrayContaining(['scimd.db', 'scimd.db-wal']))
    expect(lines.length).toBeGreaterThan(10)
    expect(scan()).toEqual([])
    // Once closed, the WAL is checkpointed into the database file: scanned again.
    await runtime.close()
    closed = true
    expect(scan()).toEqual([])
  })
})

describe('admin API security headers', () => {
  it('are on every admin answer, errors included, with no-store where a key is returned', async () => {
    const t = await createTestApp()
    const made = await t.admin('POST', '/sources/scim/', { name: 'Okta', slug: 'okta' })
    const identifier = ((await made.json()) as Json).token_obj.identifier
    const answers = {
      'source create': made,
      list: await t.admin('GET', '/sources/scim/'),
      view_key: await t.admin('GET', `/core/tokens/${identifier}/view_key/`),
      rotate: await t.admin('POST', `/core/tokens/${identifier}/rotate/`),
      'no token': await t.raw('GET', '/api/v3/core/users/'),
      'not found': await t.admin('GET', '/nope/'),
      'bad input': await t.admin('POST', '/sources/scim/', { slug: 'x y' }),
      events: await t.admin('GET', '/events/events/'),
    }
    for (const [name, res] of Object.entries(answers)) {
      expect(res.headers.get('x-content-type-options'), name).toBe('nosniff')
      expect(res.headers.get('x-frame-options'), name).toBe('DENY')
      expect(res.headers.get('referrer-policy'), name).toBe('no-referrer')
      expect(res.headers.get('content-security-policy'), name).toContain("default-src 'none'")
      expect(res.headers.get('content-security-policy'), name).toContain("frame-ancestors 'none'")
      expect(res.headers.get('cache-control'), name).toBe('no-store')
    }
    expect(answers['source create'].status).toBe(201)
    expect(answers['no token'].status).toBe(401)
  })
})
