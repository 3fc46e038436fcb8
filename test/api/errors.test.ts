import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY, createTestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const body = async (res: Response) => (await res.json()) as Json

const ADMIN_PATHS = [
  '/sources/scim/',
  '/sources/scim/test/',
  '/sources/scim/test/used_by/',
  '/sources/scim_users/',
  '/sources/scim_groups/',
  '/core/users/',
  '/core/groups/',
  '/core/tokens/',
  '/core/tokens/authentik-bootstrap-token/view_key/',
]

describe('admin API authentication', () => {
  it('answers no token, a wrong token and an unknown scheme with 401 {detail, code}', async () => {
    const t = await createTestApp()
    for (const path of ADMIN_PATHS) {
      const none = await t.raw('GET', `/api/v3${path}`)
      expect(none.status, path).toBe(401)
      expect(none.headers.get('www-authenticate')).toContain('Bearer')
      expect(await body(none)).toEqual({
        detail: 'Authentication credentials were not provided.',
        code: 'not_authenticated',
      })
    }
    for (const authorization of ['Bearer wrong-key', 'Basic YWRtaW46YWRtaW4=', 'Bearer']) {
      const res = await t.raw('GET', '/api/v3/core/users/', { headers: { authorization } })
      expect(res.status, authorization).toBe(401)
      expect(await body(res)).toMatchObject({ code: 'not_authenticated' })
    }
  })

  it('answers a token that may not use the admin API with 403 on every endpoint', async () => {
    const t = await createTestApp()
    for (const path of ADMIN_PATHS) {
      const res = await t.raw('GET', `/api/v3${path}`, {
        headers: { authorization: `Bearer ${t.key}` },
      })
      expect(res.status, path).toBe(403)
      expect(await body(res)).toEqual({
        detail: 'You do not have permission to perform this action.',
        code: 'permission_denied',
      })
    }
  })

  it('names admin responses with X-Request-Id, refusals included', async () => {
    const t = await createTestApp()
    const ok = await t.admin('GET', '/sources/scim/', undefined, {
      'X-Request-Id': 'admin-1',
    })
    expect([ok.status, ok.headers.get('x-request-id')]).toEqual([200, 'admin-1'])
    const refused = await t.raw('GET', '/api/v3/sources/scim/')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('serves the OpenAPI document without a token', async () => {
    const t = await createTestApp()
    const res = await t.raw('GET', '/api/v3/schema/')
    expect(res.status).toBe(200)
    expect((await body(res)).openapi).toMatch(/^3\.0\./)
  })

  it('answers an unknown admin path with 404 {detail}', async () => {
    const t = await createTestApp()
    const res = await t.admin('GET', '/sources/ldap/')
    expect(res.status).toBe(404)
    expect(await body(res)).toEqual({ detail: 'Not found.', code: 'not_found' })
  })

  it('refuses a body that is not UTF-8 (400) or is compressed (415), and writes nothing', async () => {
    const t = await createTestApp()
    const post = (bytes: Buffer, headers: Record<string, string> = {}) =>
      t.raw('POST', '/api/v3/sources/scim/', {
        body: new Uint8Array(bytes),
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/json',
          ...headers,
        },
      })
    const latin1 = await post(Buffer.from('{"name":"caf\xe9","slug":"latin"}', 'latin1'))
    expect(latin1.status).toBe(400)
    expect(await body(latin1)).toEqual({
      non_field_errors: ['Request body is not valid UTF-8'],
      code: 'invalid',
    })
    const gzip = await post(gzipSync('{"name":"g","slug":"gz"}'), { 'content-encoding': 'gzip' })
    expect(gzip.status).toBe(415)
    expect(await body(gzip)).toMatchObject({ code: 'unsupported_media_type' })
    const slugs = (await body(await t.admin('GET', '/sources/scim/'))).results.map(
      (s: Json) => s.slug,
    )
    expect(slugs).toEqual(['test'])
    const utf8 = await post(Buffer.from('{"name":"café","slug":"utf8"}'), {
      'content-encoding': 'identity',
    })
    expect(utf8.status).toBe(201)
    expect((await body(utf8)).name).toBe('café')
  })
})

describe('no input produces a 500', () => {
  it('names fields called like Object.prototype members (a 500 found by the property test)', async () => {
    const t = await createTestApp()
    for (const key of ['valueOf', 'toString', '__proto__', 'constructor']) {
      const res = await t.admin('POST', '/sources/scim/', `{"${key}": null}`)
      expect(res.status, key).toBe(400)
      const errors = await body(res)
      expect(Object.hasOwn(errors, key), key).toBe(true)
      expect(errors[key], key).toEqual(['Unknown field.'])
    }
  })

  const isAdminError = (status: number, json: Json) =>
    status === 400
      ? Object.values(json).every((v) => typeof v === 'string' || Array.isArray(v))
      : typeof json.detail === 'string'

  it('survives arbitrary JSON bodies on every write endpoint', async () => {
    const t = await createTestApp()
    // The source's token, not the admin's: an expiry set by chance must not lock the test out.
    const { token_obj } = await body(await t.admin('GET', '/sources/scim/test/'))
    const writes: Array<[string, string]> = [
      ['POST', '/sources/scim/'],
      ['PUT', '/sources/scim/test/'],
      ['PATCH', '/sources/scim/test/'],
      ['PATCH', `/core/tokens/${token_obj.identifier}/`],
      ['POST', '/core/tokens/nope/set_key/'],
    ]
    const field = fc.constantFrom(
      'name',
      'slug',
      'enabled',
      'user_path_template',
      'user_property_mappings',
      'user_matching_mode',
      'expires',
      'expiring',
      'description',
      'key',
      'pk',
    )
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(field, fc.jsonValue(), { maxKeys: 5 }),
      fc.record({ name: fc.string(), slug: fc.string({ maxLength: 60 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...writes), payload, async ([method, path], value) => {
        const res = await t.admin(method, path, JSON.stringify(value))
        expect(res.status, `${method} ${path} ${JSON.stringify(value)}`).toBeLessThan(500)
        if (res.status >= 400) expect(isAdminError(res.status, await body(res))).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('survives arbitrary query strings and path segments on every list and lookup', async () => {
    const t = await createTestApp()
    const lists = ADMIN_PATHS.filter((p) => !p.includes('test') && !p.includes('view_key'))
    const key = fc.constantFrom(
      'page',
      'page_size',
      'ordering',
      'search',
      'name',
      'slug',
      'type',
      'is_active',
      'groups_by_pk',
      'members_by_pk',
      'user__id',
      'source__slug',
      'expiring',
    )
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom('1e400', '-1', '0', '99999999999999999999999', '%', '_', '\\', '\u0000'),
      fc.bigInt().map(String),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...lists),
        fc.array(fc.tuple(key, text), { maxLength: 4 }),
        async (path, params) => {
          const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
          const res = await t.admin('GET', `${path}?${query}`)
          expect(res.status, `${path}?${query}`).toBeLessThan(500)
          if (res.status === 200) expect((await body(res)).pagination).toBeDefined()
        },
      ),
      { numRuns: 300 },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/sources/scim/',
          '/sources/scim_users/',
          '/sources/scim_groups/',
          '/core/users/',
          '/core/groups/',
          '/core/tokens/',
        ),
        text,
        async (prefix, segment) => {
          const res = await t.admin('GET', `${prefix}${encodeURIComponent(segment)}/`)
          expect(res.status, `${prefix}${segment}`).toBeLessThan(500)
        },
      ),
      { numRuns: 200 },
    )
  })
})
