import { describe, expect, it } from 'vitest'
import { purgeExpired, recordStandaloneEvent } from '../../src/services/events.js'
import { createAdminToken } from '../../src/services/sources.js'
import { ADMIN_KEY, BASE, createTestApp, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function events(t: TestApp, query = ''): Promise<Json[]> {
  const res = await t.admin('GET', `/events/events/${query}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as Json).results
}

/** A request from a client at `ip`, as @hono/node-server hands the app its socket. */
function from(t: TestApp, ip: string, method: string, path: string, key: string) {
  return t.app.request(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${key}` } }, {
    incoming: { socket: { remoteAddress: ip } },
  } as never)
}

describe('event log', () => {
  it('records each provisioning change of a source with the source, the object and its service account', async () => {
    const t = await createTestApp()
    const created = await t.scim('POST', '/Users', { schemas: [USER], userName: 'ada' })
    const user = (await created.json()) as Json
    const patched = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Ada L.' }],
    })
    expect(patched.status).toBe(200)
    const group = (await (
      await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'eng' })
    ).json()) as Json
    await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
    })
    expect((await t.scim('DELETE', `/Users/${user.id}`)).status).toBe(204)

    // The source's own creation is an event of the source too: only its users and groups here.
    const list = await events(
      t,
      '?context__source=test&context_model_app=authentik_core&ordering=created',
    )
    expect(list.map((e) => [e.action, e.context.model.model_name, e.context.model.name])).toEqual([
      ['model_created', 'user', 'ada'],
      ['model_updated', 'user', 'ada'],
      ['model_created', 'group', 'eng'],
      ['model_updated', 'group', 'eng'],
      ['model_deleted', 'user', 'ada'],
    ])
    const [first] = list as [Json]
    const source = ((await (await t.admin('GET', '/sources/scim/test/')).json()) as Json).pk
    expect(first).toEqual({
      pk: expect.stringMatching(/^[0-9a-f-]{36}$/),
      user: { pk: expect.any(Number), username: `ak-source-scim-${source}` },
      action: 'model_created',
      app: 'scimd.sources.scim',
      context: {
        model: { app: 'authentik_core', model_name: 'user', pk: expect.any(Number), name: 'ada' },
        source: { pk: source, slug: 'test' },
      },
      client_ip: null,
      created: expect.any(String),
      expires: expect.any(String),
    })
    // The model pk is the directory user's (/core/users/{pk}), known only once it was inserted.
    expect(first.context.model.pk).toBeGreaterThan(0)
    // The source's pk finds the same events as its slug.
    expect(
      await events(
        t,
        `?context__source=${source}&context_model_app=authentik_core&ordering=created`,
      ),
    ).toEqual(list)
    // Retrieve by pk.
    const one = await t.admin('GET', `/events/events/${first.pk}/`)
    expect(await one.json()).toEqual(first)
  })

  it('records nothing for a change that fails, and nothing for a PATCH that changes nothing', async () => {
    const t = await createTestApp()
    const user = (await (
      await t.scim('POST', '/Users', { schemas: [USER], userName: 'bob' })
    ).json()) as Json
    expect((await t.scim('POST', '/Users', { schemas: [USER], userName: 'bob' })).status).toBe(409)
    const failing = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Bob' },
        { op: 'remove', path: 'userName' },
      ],
    })
    expect(failing.status).toBe(400)
    const same = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: 'bob' }],
    })
    expect(same.status).toBe(200)
    const list = await events(t, '?context__source=test&context_model_name=user')
    expect(list.map((e) => e.action)).toEqual(['model_created'])
  })

  it('with SCIMD_PROVISIONING_EVENTS=off records no provisioning change, and still the admin’s', async () => {
    const t = await createTestApp({ env: { SCIMD_PROVISIONING_EVENTS: 'off' } })
    const user = (await (
      await t.scim('POST', '/Users', { schemas: [USER], userName: 'cy', emails: [] })
    ).json()) as Json
    const group = (await (
      await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'ops' })
    ).json()) as Json
    const patched = await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
    })
    expect(patched.status).toBe(204)
    expect((await t.scim('DELETE', `/Users/${user.id}`)).status).toBe(204)
    expect(await events(t, '?context__source=test&context_model_app=authentik_core')).toEqual([])
    expect((await t.admin('PATCH', '/sources/scim/test/', { name: 'Renamed' })).status).toBe(200)
    const admin = await events(t, '?action=model_updated')
    expect(admin.map((e) => [e.app, e.context.model.model_name])).toEqual([
      ['scimd.api', 'scimsource'],
    ])
  })

  it('records admin changes and every view or rotation of a key, by the admin', async () => {
    const t = await createTestApp()
    const made = await t.admin('POST', '/sources/scim/', { name: 'Okta', slug: 'okta' })
    expect(made.status).toBe(201)
    const identifier = ((await made.json()) as Json).token_obj.identifier
    await t.admin('PATCH', '/sources/scim/okta/', { name: 'Okta prod' })
    const viewed = await t.admin('GET', `/core/tokens/${identifier}/view_key/`)
    const key = ((await viewed.json()) as Json).key as string
    const rotated = await t.admin('POST', `/core/tokens/${identifier}/rotate/`)
    const newKey = ((await rotated.json()) as Json).key as string
    await t.admin('POST', `/core/tokens/${identifier}/set_key/`, { key: 'k'.repeat(32) })
    await t.admin('PATCH', `/core/tokens/${identifier}/`, { description: 'rotated' })
    expect((await t.admin('DELETE', '/sources/scim/okta/')).status).toBe(204)

    const list = await events(t, '?username=akadmin&ordering=created')
    expect(list.map((e) => [e.action, e.context.model.model_name])).toEqual([
      ['model_created', 'scimsource'],
      ['model_updated', 'scimsource'],
      ['secret_view', 'token'],
      ['secret_rotate', 'token'],
      ['model_updated', 'token'],
      ['model_updated', 'token'],
      ['model_deleted', 'scimsource'],
    ])
    for (const e of list) {
      expect(e.user).toMatchObject({ username: 'akadmin' })
      expect(e.app).toBe('scimd.api')
    }
    expect(list[1]?.context.fields).toEqual(['name'])
    // No key, old or new, is in any event.
    const text = JSON.stringify(await events(t, '?page_size=1000'))
    for (const secret of [key, newKey, 'k'.repeat(32), ADMIN_KEY])
      expect(text).not.toContain(secret)
  })

  it('records a revoked admin token', async () => {
    const t = await createTestApp()
    const { token } = await createAdminToken(t.runtime.deps)
    expect((await t.admin('DELETE', `/core/tokens/${token.identifier}/`)).status).toBe(204)
    const list = await events(t, '?action=model_deleted&context_model_name=token')
    expect(list).toMatchObject([
      {
        user: { username: 'akadmin' },
        context: { model: { pk: token.id, name: token.identifier } },
      },
    ])
  })

  it('filters by action (contains), model and search; orders; pages; 404 for an unknown pk', async () => {
    const t = await createTestApp()
    for (const userName of ['u1', 'u2', 'u3']) {
      await t.scim('POST', '/Users', { schemas: [USER], userName })
    }
    await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'g1' })
    expect(await events(t, '?action=CREATED&context_model_name=group')).toHaveLength(1)
    expect(
      (await events(t, '?context_model_name=user&ordering=-created')).map(
        (e) => e.context.model.name,
      ),
    ).toEqual(['u3', 'u2', 'u1'])
    expect((await events(t, '?search=u2')).map((e) => e.context.model.name)).toEqual(['u2'])
    expect(await events(t, '?context__source=nope')).toEqual([])
    const page = (await (
      await t.admin('GET', '/events/events/?context__source=test&page_size=2&page=2')
    ).json()) as Json
    // Three users, a group, and the source's own creation.
    expect(page.pagination).toMatchObject({
      count: 5,
      current: 2,
      total_pages: 3,
      previous: 1,
      next: 3,
    })
    expect(page.results).toHaveLength(2)
    expect((await t.admin('GET', '/events/events/?ordering=nope')).status).toBe(400)
    expect(
      (await t.admin('GET', '/events/events/0190a0a0-0000-7000-8000-000000000000/')).status,
    ).toBe(404)
    expect((await t.admin('GET', '/events/events/not-a-uuid/')).status).toBe(404)
    expect((await t.admin('DELETE', '/events/events/')).status).toBe(405)
  })

  it('records a failed authentication with the source and client address, never the key', async () => {
    const t = await createTestApp()
    const wrong = 'wrong-key-that-must-not-be-stored-0123'
    expect((await from(t, '198.51.100.7', 'GET', '/source/scim/test/v2/Users', wrong)).status).toBe(
      401,
    )
    expect((await from(t, '198.51.100.8', 'GET', '/api/v3/core/users/', wrong)).status).toBe(401)
    const failed = await events(t, '?action=login_failed&ordering=created')
    expect(failed).toMatchObject([
      {
        user: {},
        client_ip: '198.51.100.7',
        context: {
          reason: 'invalid token',
          source: { slug: 'test' },
          http_request: { method: 'GET' },
        },
      },
      { client_ip: '198.51.100.8', context: { reason: 'invalid token' } },
    ])
    expect(await events(t, '?client_ip=198.51.100.8')).toHaveLength(1)
    expect(JSON.stringify(failed)).not.toContain(wrong)
  })

  it('records a request to a disabled source as a configuration error, once a minute', async () => {
    const t = await createTestApp()
    await t.admin('PATCH', '/sources/scim/test/', { enabled: false })
    for (let i = 0; i < 3; i++) expect((await t.scim('GET', '/Users')).status).toBe(403)
    const list = await events(t, '?action=configuration_error')
    expect(list).toHaveLength(1)
    expect(list[0]?.context).toMatchObject({ source: { slug: 'test' } })
  })

  it('sets expires from the retention and deletes expired events', async () => {
    const t = await createTestApp({ env: { SCIMD_EVENT_RETENTION_DAYS: '2' } })
    await t.scim('POST', '/Users', { schemas: [USER], userName: 'kept' })
    const [event] = (await events(t, '?context_model_name=user')) as [Json]
    expect(Date.parse(event.expires) - Date.parse(event.created)).toBe(2 * 86_400_000)
    const deps = t.runtime.deps
    await recordStandaloneEvent(deps, { action: 'custom_probe' })
    // Three days on, all three (with the source's creation) have expired.
    expect(await purgeExpired(deps, new Date(Date.now() + 3 * 86_400_000))).toBe(3)
    expect(await events(t)).toEqual([])
    // Today, nothing has.
    await recordStandaloneEvent(deps, { action: 'custom_probe' })
    expect(await purgeExpired(deps)).toBe(0)
  })
})
