import { describe, expect, it } from 'vitest'
import * as sources from '../../src/services/sources.js'
import { ADMIN_KEY, createTestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const body = async (res: Response) => (await res.json()) as Json

async function sourceToken(t: Awaited<ReturnType<typeof createTestApp>>): Promise<string> {
  const source = await body(await t.admin('GET', `/sources/scim/${t.slug}/`))
  return source.token_obj.identifier
}

describe('/api/v3/core/tokens/', () => {
  it('lists and retrieves tokens with their users, never with a key', async () => {
    const t = await createTestApp()
    const list = await body(await t.admin('GET', '/core/tokens/'))
    expect(list.pagination.count).toBe(2)
    expect(list.results.map((r: Json) => r.identifier).sort()).toEqual(
      ['authentik-bootstrap-token', await sourceToken(t)].sort(),
    )
    const dump = JSON.stringify(list)
    expect(dump).not.toContain(t.key)
    expect(dump).not.toContain(ADMIN_KEY)
    for (const token of list.results) expect(Object.keys(token)).not.toContain('key')

    const one = await body(await t.admin('GET', '/core/tokens/authentik-bootstrap-token/'))
    expect(one).toMatchObject({
      identifier: 'authentik-bootstrap-token',
      intent: 'api',
      expiring: false,
      user_obj: { username: 'akadmin', is_superuser: true },
    })
    expect(JSON.stringify(one)).not.toContain(ADMIN_KEY)
    expect((await t.admin('GET', '/core/tokens/nope/')).status).toBe(404)
  })

  it('filters by user and managed, and searches', async () => {
    const t = await createTestApp()
    const ids = async (query: string) =>
      (await body(await t.admin('GET', `/core/tokens/?${query}`))).results.map(
        (r: Json) => r.identifier,
      )
    expect(await ids('user__username=akadmin')).toEqual(['authentik-bootstrap-token'])
    expect(await ids('search=BOOTSTRAP')).toEqual(['authentik-bootstrap-token'])
    expect(await ids('expiring=true')).toEqual([])
    expect(await ids('intent=api')).toHaveLength(2)
    const bad = await t.admin('GET', '/core/tokens/?intent=nope&expiring=perhaps')
    expect(Object.keys(await body(bad)).sort()).toEqual(['code', 'expiring', 'intent'])
  })

  it('rotates a key: the new key works at once and the old one is refused at once', async () => {
    const t = await createTestApp()
    const identifier = await sourceToken(t)
    // The old key in use first: its lookup is cached (services/tokens.ts), and must go.
    for (let i = 0; i < 2; i++) expect((await t.scim('GET', '/Users')).status).toBe(200)
    const res = await t.admin('POST', `/core/tokens/${identifier}/rotate/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const { key } = await body(res)
    expect(key).toMatch(/^[A-Za-z0-9_-]{64}$/)
    expect((await t.scim('GET', '/Users')).status).toBe(401)
    const fresh = await t.raw('GET', `/source/scim/${t.slug}/v2/Users`, {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(fresh.status).toBe(200)
    const view = await t.admin('GET', `/core/tokens/${identifier}/view_key/`)
    expect(view.headers.get('cache-control')).toBe('no-store')
    expect(await body(view)).toEqual({ key })
    expect((await t.admin('POST', '/core/tokens/nope/rotate/')).status).toBe(404)
  })

  it('sets a key with set_key and refuses a short, spaced or already used one', async () => {
    const t = await createTestApp()
    const identifier = await sourceToken(t)
    const newKey = 'my-own-key-0123456789abcdef'
    const set = await t.admin('POST', `/core/tokens/${identifier}/set_key/`, { key: newKey })
    expect(set.status).toBe(204)
    expect((await t.scim('GET', '/Users')).status).toBe(401)
    const ok = await t.raw('GET', `/source/scim/${t.slug}/v2/Users`, {
      headers: { authorization: `Bearer ${newKey}` },
    })
    expect(ok.status).toBe(200)

    const cases: Array<[unknown, string]> = [
      [{}, 'This field is required.'],
      [{ key: 'short' }, 'Ensure this field has at least 16 characters.'],
      [{ key: 'has spaces in it, sixteen+' }, 'printable ASCII'],
      [{ key: ADMIN_KEY }, 'This key is already in use.'],
    ]
    for (const [input, message] of cases) {
      const res = await t.admin('POST', `/core/tokens/${identifier}/set_key/`, input)
      expect(res.status, JSON.stringify(input)).toBe(400)
      expect((await body(res)).key[0]).toContain(message)
    }
    // The admin token still works: a refused key changed nothing.
    expect((await t.admin('GET', '/core/tokens/')).status).toBe(200)
  })

  it('refuses an expired token with 401 on the admin API and on SCIM', async () => {
    const t = await createTestApp()
    const { token, key } = await sources.createAdminToken(t.runtime.deps, {
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    })
    const asTemp = (path: string) =>
      t.raw('GET', `/api/v3${path}`, { headers: { authorization: `Bearer ${key}` } })
    expect((await asTemp('/core/users/')).status).toBe(200)

    const past = '2020-01-01T00:00:00Z'
    const patched = await t.admin('PATCH', `/core/tokens/${token.identifier}/`, { expires: past })
    expect(patched.status).toBe(200)
    expect(await body(patched)).toMatchObject({
      expires: '2020-01-01T00:00:00.000Z',
      expiring: true,
    })
    const refused = await asTemp('/core/users/')
    expect(refused.status).toBe(401)
    expect(await body(refused)).toMatchObject({ code: 'not_authenticated' })

    const identifier = await sourceToken(t)
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    await t.admin('PATCH', `/core/tokens/${identifier}/`, { expires: past })
    expect((await t.scim('GET', '/Users')).status).toBe(401)
    // expires: null lifts the expiry again.
    const lifted = await body(
      await t.admin('PATCH', `/core/tokens/${identifier}/`, { expires: null }),
    )
    expect(lifted).toMatchObject({ expires: null, expiring: false })
    expect((await t.scim('GET', '/Users')).status).toBe(200)
  })

  it('refuses an expiry on a day that does not exist, as DRF does, instead of rolling it over', async () => {
    const t = await createTestApp()
    for (const expires of [
      '2030-02-30T00:00:00Z',
      '2030-02-29',
      '2030-04-31T10:00:00Z',
      '2030-01-01T24:00:00Z',
      '0000-01-01',
    ]) {
      const res = await t.admin('PATCH', '/core/tokens/authentik-bootstrap-token/', { expires })
      expect(res.status).toBe(400)
      expect(await body(res)).toMatchObject({
        expires: [expect.stringContaining('Datetime has wrong format')],
      })
    }
    const leap = await t.admin('PATCH', '/core/tokens/authentik-bootstrap-token/', {
      expires: '2032-02-29T12:00:00+01:00',
    })
    expect(await body(leap)).toMatchObject({ expires: '2032-02-29T11:00:00.000Z' })
  })

  it('names invalid token fields and ignores read-only ones', async () => {
    const t = await createTestApp()
    const res = await t.admin('PATCH', '/core/tokens/authentik-bootstrap-token/', {
      expires: 'tomorrow-ish',
      expiring: 'no',
      key: 'x',
    })
    expect(await body(res)).toMatchObject({
      expires: [expect.stringContaining('Datetime has wrong format')],
      expiring: ['Must be a valid boolean.'],
      key: ['Unknown field.'],
    })
    const current = await body(await t.admin('GET', '/core/tokens/authentik-bootstrap-token/'))
    const back = await t.admin('PATCH', '/core/tokens/authentik-bootstrap-token/', {
      ...current,
      description: 'Bootstrap',
    })
    expect(back.status).toBe(200)
    expect(await body(back)).toEqual({ ...current, description: 'Bootstrap' })
  })

  it('refuses PUT on a token with 405 and an Allow header', async () => {
    const t = await createTestApp()
    const res = await t.admin('PUT', '/core/tokens/authentik-bootstrap-token/', {})
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, PATCH, DELETE')
    expect(await body(res)).toEqual({
      detail: 'Method "PUT" not allowed.',
      code: 'method_not_allowed',
    })
  })
})

describe('DELETE /api/v3/core/tokens/<identifier>/', () => {
  it('revokes an admin token: 204, its key is refused at once, and it is gone', async () => {
    const t = await createTestApp()
    const { token, key } = await sources.createAdminToken(t.runtime.deps)
    const asOther = { Authorization: `Bearer ${key}` }
    expect((await t.admin('GET', '/core/tokens/', undefined, asOther)).status).toBe(200)
    const res = await t.admin('DELETE', `/core/tokens/${token.identifier}/`)
    expect(res.status).toBe(204)
    expect((await t.admin('GET', '/core/tokens/', undefined, asOther)).status).toBe(401)
    expect((await t.admin('GET', `/core/tokens/${token.identifier}/`)).status).toBe(404)
    expect((await t.admin('DELETE', `/core/tokens/${token.identifier}/`)).status).toBe(404)
  })

  it("refuses a source's token and the caller's own token with 400, revoking nothing", async () => {
    const t = await createTestApp()
    const identifier = await sourceToken(t)
    const source = await t.admin('DELETE', `/core/tokens/${identifier}/`)
    expect(source.status).toBe(400)
    expect((await body(source)).non_field_errors[0]).toMatch(/rotate its key instead/)
    expect((await t.scim('GET', '/Users')).status).toBe(200)

    const own = await t.admin('DELETE', '/core/tokens/authentik-bootstrap-token/')
    expect(own.status).toBe(400)
    expect((await body(own)).non_field_errors[0]).toMatch(/with another admin token/)
    expect((await t.admin('GET', '/core/tokens/')).status).toBe(200)

    // With another admin token, the bootstrap token can go.
    const { key } = await sources.createAdminToken(t.runtime.deps)
    const other = { Authorization: `Bearer ${key}` }
    expect(
      (await t.admin('DELETE', '/core/tokens/authentik-bootstrap-token/', undefined, other)).status,
    ).toBe(204)
    expect((await t.admin('GET', '/core/tokens/')).status).toBe(401)
  })
})
