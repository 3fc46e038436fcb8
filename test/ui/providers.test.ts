/** The providers pages: create and edit with field errors, status, full sync, one object in dry run. */
import { describe, expect, it } from 'vitest'
import * as providers from '../../src/services/providers.js'
import { signedIn } from './support.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

describe('providers', () => {
  it('creates a provider, refusing a bad URL and a missing token first', async () => {
    const c = await signedIn()
    const bad = await c.post('/if/admin/new/provider', {
      name: 'AWS',
      url: 'ftp://nope',
      token: '',
      compatibility_mode: 'aws',
    })
    expect(bad.status).toBe(400)
    const html = await bad.text()
    expect(html).toContain('This field may not be blank.')
    const badUrl = await c.post('/if/admin/new/provider', {
      name: 'AWS',
      url: 'ftp://nope',
      token: 'secret-token-value',
      compatibility_mode: 'aws',
    })
    expect(badUrl.status).toBe(400)
    expect(await badUrl.text()).toContain('Enter a valid URL.')
    const ok = await c.post('/if/admin/new/provider', {
      name: 'AWS',
      url: 'https://scim.example.com/scim/v2/',
      token: 'secret-token-value',
      compatibility_mode: 'aws',
      dry_run: 'on',
    })
    expect(ok.status).toBe(303)
    const detail = await (await c.get(ok.headers.get('location') as string)).text()
    expect(detail).toContain('Provider saved.')
    expect(detail).toContain('https://scim.example.com/scim/v2')
    expect(detail).toContain('Dry run')
    // The token is never shown again.
    expect(detail).not.toContain('secret-token-value')
    const list = await (await c.get('/if/admin/providers')).text()
    expect(list).toContain('AWS')
  })

  it('edits a provider, keeping its token when the field is blank', async () => {
    const c = await signedIn()
    const p = await providers.createProvider(c.t.runtime.deps, {
      name: 'Slack',
      url: 'https://api.slack.example/scim/v2',
      token: 'keep-me-token',
    })
    const res = await c.post(`/if/admin/providers/${p.pk}/edit`, {
      name: 'Slack EU',
      url: 'https://api.slack.example/scim/v2',
      token: '',
      compatibility_mode: 'slack',
      verify_certificates: 'on',
    })
    expect(res.status).toBe(303)
    const after = await providers.getProvider(c.t.runtime.deps, String(p.pk))
    expect(after.name).toBe('Slack EU')
    expect(after.compatibilityMode).toBe('slack')
    expect(await c.t.runtime.deps.secrets.unseal(after.tokenSealed)).toBe('keep-me-token')
    expect((await c.get('/if/admin/providers/999999')).status).toBe(404)
  })

  it('requests a full sync and shows it pending', async () => {
    const c = await signedIn()
    const p = await providers.createProvider(c.t.runtime.deps, {
      name: 'App',
      url: 'https://app.example/scim/v2',
      token: 't0ken-value',
    })
    const res = await c.post(`/if/admin/providers/${p.pk}/sync`)
    expect(res.status).toBe(303)
    const page = await (await c.get(`/if/admin/providers/${p.pk}?done=sync`)).text()
    expect(page).toContain('Full sync requested')
    expect((await providers.syncStatus(c.t.runtime.deps, String(p.pk))).fullSyncPending).toBe(true)
  })

  it('syncs one user in dry run and shows the log, sending nothing', async () => {
    const c = await signedIn()
    await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'dry@example.com' })
    const users = await (await c.get('/if/admin/users?q=dry')).text()
    const pk = /href="\/if\/admin\/users\/(\d+)">dry@example.com/.exec(users)?.[1] as string
    const p = await providers.createProvider(c.t.runtime.deps, {
      name: 'Nowhere',
      // Nothing listens here: a dry run must not try.
      url: 'http://127.0.0.1:9/scim/v2',
      token: 't0ken-value',
      dryRun: true,
    })
    const res = await c.post(`/if/admin/providers/${p.pk}/sync-object`, {
      model: 'user',
      object_id: pk,
    })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Sync log: user')
    expect(html).toContain('dry')
    const unknown = await c.post(`/if/admin/providers/${p.pk}/sync-object`, {
      model: 'user',
      object_id: '999999',
    })
    expect(unknown.status).toBe(400)
    expect(await unknown.text()).toContain('No user with this id.')
  })

  it('deletes a provider', async () => {
    const c = await signedIn()
    const p = await providers.createProvider(c.t.runtime.deps, {
      name: 'Gone',
      url: 'https://gone.example/scim/v2',
      token: 't0ken-value',
    })
    const res = await c.post(`/if/admin/providers/${p.pk}/delete`)
    expect(res.headers.get('location')).toBe('/if/admin/providers?done=deleted')
    expect((await c.get(`/if/admin/providers/${p.pk}`)).status).toBe(404)
  })
})
