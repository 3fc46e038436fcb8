import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { ADMIN_KEY, createTestApp, isPostgres } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'

/**
 * An app that caches what keys open, as the server does: on a database file for SQLite (an
 * in-memory one has no version to follow, so nothing is cached there), as usual on PostgreSQL.
 */
async function appWithTokenCache() {
  if (isPostgres) return createTestApp()
  const dir = mkdtempSync(join(tmpdir(), 'scimd-auth-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return createTestApp({ env: { DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}` } })
}

describe('SCIM authentication', () => {
  it('answers a missing token with 401, a SCIM error and a Bearer challenge', async () => {
    const t = await createTestApp()
    const res = await t.raw('GET', '/source/scim/test/v2/Users')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="scimd"')
    expect(await res.json()).toMatchObject({
      schemas: [ERROR],
      status: '401',
      detail: expect.any(String),
    })
  })

  it('answers a wrong token with 401 invalid_token', async () => {
    const t = await appWithTokenCache()
    // The right key first, so that what it opened is cached: its near misses must not hit.
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    for (const authorization of ['Bearer nope', `Basic ${t.key}`, `Bearer ${t.key}x`, 'Bearer']) {
      const res = await t.raw('GET', '/source/scim/test/v2/Users', { headers: { authorization } })
      expect(res.status, authorization).toBe(401)
    }
    const res = await t.raw('GET', '/source/scim/test/v2/Users', {
      headers: { authorization: 'Bearer nope' },
    })
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('accepts the scheme in any case', async () => {
    const t = await createTestApp()
    const res = await t.raw('GET', '/source/scim/test/v2/Users', {
      headers: { authorization: `bearer ${t.key}` },
    })
    expect(res.status).toBe(200)
  })

  it('refuses another source’s token with 401, and an unknown source likewise', async () => {
    const t = await appWithTokenCache()
    const other = await t.createSource('other')
    // Each key opens its own source first (and is cached), then must not open the other.
    const own = await t.raw('GET', '/source/scim/other/v2/Users', {
      headers: { authorization: `Bearer ${other.key}` },
    })
    expect(own.status).toBe(200)
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    const cross = await t.raw('GET', '/source/scim/test/v2/Users', {
      headers: { authorization: `Bearer ${other.key}` },
    })
    expect(cross.status).toBe(401)
    const unknown = await t.raw('GET', '/source/scim/nope/v2/Users', {
      headers: { authorization: `Bearer ${t.key}` },
    })
    expect(unknown.status).toBe(401)
    const reverse = await t.raw('GET', '/source/scim/other/v2/Users', {
      headers: { authorization: `Bearer ${t.key}` },
    })
    expect(reverse.status).toBe(401)
  })

  it('refuses SCIM requests to a disabled source with 403', async () => {
    const t = await createTestApp()
    await t.runtime.deps.db
      .updateTable('sources')
      .set({ enabled: 0 })
      .where('slug', '=', 'test')
      .execute()
    const res = await t.scim('GET', '/Users')
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ schemas: [ERROR], status: '403' })
  })

  it('refuses an expired token with 401', async () => {
    const t = await createTestApp()
    await t.runtime.deps.db
      .updateTable('tokens')
      .set({ expiring: 1, expires: '2020-01-01T00:00:00.000Z' })
      .where('managed', 'like', 'goauthentik.io/sources/scim/%')
      .execute()
    expect((await t.scim('GET', '/Users')).status).toBe(401)
  })

  it('refuses a token that expires after what it opened was cached', async () => {
    const t = await appWithTokenCache()
    const expires = new Date(Date.now() + 3_600_000)
    await t.runtime.deps.db
      .updateTable('tokens')
      .set({ expiring: 1, expires: expires.toISOString() })
      .where('managed', 'like', 'goauthentik.io/sources/scim/%')
      .execute()
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    vi.useFakeTimers({ toFake: ['Date'] })
    onTestFinished(() => {
      vi.useRealTimers()
    })
    vi.setSystemTime(expires.getTime() + 1)
    expect((await t.scim('GET', '/Users')).status).toBe(401)
  })
})

describe('source isolation', () => {
  it('keeps one source’s users and groups invisible and untouchable for another', async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    const asOther = (method: string, path: string, body?: unknown) =>
      t.app.request(`http://scimd.test/source/scim/other/v2${path}`, {
        method,
        headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
    const mine = (await (await t.scim('POST', '/Users', { userName: 'alice' })).json()) as Json
    const myGroup = (await (await t.scim('POST', '/Groups', { displayName: 'G' })).json()) as Json
    expect((await asOther('GET', `/Users/${mine.id}`)).status).toBe(404)
    expect((await asOther('PUT', `/Users/${mine.id}`, { userName: 'x' })).status).toBe(404)
    expect(
      (
        await asOther('PATCH', `/Users/${mine.id}`, {
          Operations: [{ op: 'replace', path: 'userName', value: 'x' }],
        })
      ).status,
    ).toBe(404)
    expect((await asOther('DELETE', `/Users/${mine.id}`)).status).toBe(404)
    expect((await asOther('DELETE', `/Groups/${myGroup.id}`)).status).toBe(404)
    const list = (await (await asOther('GET', '/Users?filter=userName eq "alice"')).json()) as Json
    expect(list.totalResults).toBe(0)
    // The same userName is free in the other source: uniqueness is per source.
    expect((await asOther('POST', '/Users', { userName: 'alice' })).status).toBe(201)
    const still = (await (await t.scim('GET', `/Users/${mine.id}`)).json()) as Json
    expect(still.userName).toBe('alice')
  })
})

describe('admin API access', () => {
  it('refuses a source token with 403 and no token with 401', async () => {
    const t = await createTestApp()
    const asSource = await t.raw('GET', '/api/v3/sources/scim/test/', {
      headers: { authorization: `Bearer ${t.key}` },
    })
    expect(asSource.status).toBe(403)
    expect(await asSource.json()).toMatchObject({
      detail: expect.any(String),
      code: 'permission_denied',
    })
    expect((await t.raw('GET', '/api/v3/sources/scim/test/')).status).toBe(401)
  })

  it('creates a source whose view_key token works for SCIM, and keeps keys out of the database', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', { name: 'Entra', slug: 'entra' })
    expect(res.status).toBe(201)
    const source = (await res.json()) as Json
    expect(source).toMatchObject({
      name: 'Entra',
      slug: 'entra',
      enabled: true,
      component: 'ak-source-scim-form',
      verbose_name: 'SCIM Source',
      verbose_name_plural: 'SCIM Sources',
      meta_model_name: 'authentik_sources_scim.scimsource',
      root_url: 'http://scimd.test/source/scim/entra/v2',
      token_obj: {
        intent: 'api',
        expiring: false,
        expires: null,
        user_obj: { type: 'internal_service_account', is_active: true },
      },
    })
    for (const field of ['pk', 'managed', 'identifier', 'user', 'description'])
      expect(source.token_obj).toHaveProperty(field)
    for (const field of [
      'pk',
      'username',
      'name',
      'is_active',
      'last_login',
      'is_superuser',
      'groups',
      'groups_obj',
      'email',
      'avatar',
      'attributes',
      'uid',
      'path',
      'type',
      'uuid',
    ]) {
      expect(source.token_obj.user_obj).toHaveProperty(field)
    }
    const view = await t.admin('GET', `/core/tokens/${source.token_obj.identifier}/view_key/`)
    expect(view.status).toBe(200)
    const { key } = (await view.json()) as Json
    const scim = await t.raw('GET', '/source/scim/entra/v2/Users', {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(scim.status).toBe(200)
    const rows = await t.runtime.deps.db.selectFrom('tokens').selectAll().execute()
    const dump = JSON.stringify(rows)
    expect(dump).not.toContain(key)
    expect(dump).not.toContain(ADMIN_KEY)
  })
})

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas, each also by id', async () => {
    const t = await createTestApp()
    const spc = (await (await t.scim('GET', '/ServiceProviderConfig')).json()) as Json
    expect(spc).toMatchObject({
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000 },
      filter: { supported: true },
    })
    const types = (await (await t.scim('GET', '/ResourceTypes')).json()) as Json
    expect(types.Resources.map((r: Json) => r.endpoint)).toEqual(['/Users', '/Groups'])
    expect((await t.scim('GET', '/ResourceTypes/User')).status).toBe(200)
    const schemas = (await (await t.scim('GET', '/Schemas')).json()) as Json
    expect(schemas.totalResults).toBe(3)
    const user = (await (
      await t.scim('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')
    ).json()) as Json
    expect(user.attributes.find((a: Json) => a.name === 'userName')).toMatchObject({
      caseExact: false,
      uniqueness: 'server',
      required: true,
    })
    expect((await t.scim('GET', '/Schemas/urn:nope')).status).toBe(404)
  })

  it('answers Accept: application/json with application/json', async () => {
    const t = await createTestApp()
    const res = await t.scim('GET', '/Users', undefined, { Accept: 'application/json' })
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
  })
})

describe('health', () => {
  it('is live and ready once migrated', async () => {
    const t = await createTestApp()
    expect((await t.raw('GET', '/-/health/live/')).status).toBe(204)
    expect((await t.raw('GET', '/-/health/ready/')).status).toBe(204)
  })
})
