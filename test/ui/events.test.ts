/** The events page, and what the UI records there: its changes as the admin's, failed sign-ins. */
import { describe, expect, it } from 'vitest'
import * as events from '../../src/services/events.js'
import { signedIn, uiClient } from './support.js'

async function allEvents(deps: Parameters<typeof events.listEvents>[0]) {
  return (await events.listEvents(deps, { filter: {}, order: [], page: 1, pageSize: 100 })).items
}

describe('events', () => {
  it("records the UI's changes as the signed-in admin's, from the UI", async () => {
    const c = await signedIn()
    expect((await c.post('/if/admin/sources/test/rotate')).status).toBe(200)
    const rotated = (await allEvents(c.t.runtime.deps)).find((e) => e.action === 'secret_rotate')
    expect(rotated?.user?.username).toBe('akadmin')
    expect(rotated?.app).toBe('scimd.ui')
  })

  it("records a local group made through the UI's form as the admin's model_created", async () => {
    const c = await signedIn()
    const res = await c.post('/if/admin/new/group', { name: 'made in the UI' })
    expect(res.status).toBe(303)
    const id = new URL(res.headers.get('location') as string, 'http://x').pathname.split('/').pop()
    const created = (await allEvents(c.t.runtime.deps)).filter(
      (e) => e.action === 'model_created' && e.context.model !== undefined,
    )
    expect(created.map((e) => [e.context.model, e.user?.username, e.app])).toContainEqual([
      { app: 'authentik_core', model_name: 'group', pk: id, name: 'made in the UI' },
      'akadmin',
      'scimd.ui',
    ])
  })

  it('records a wrong sign-in token as login_failed, without the token', async () => {
    const c = await uiClient()
    await c.post('/if/admin/sign-in', { token: 'guessed-token-123456' })
    const failed = (await allEvents(c.t.runtime.deps)).filter((e) => e.action === 'login_failed')
    expect(failed).toHaveLength(1)
    expect(JSON.stringify(failed)).not.toContain('guessed-token-123456')
  })

  it('lists events newest first, filtered by action and user, escaped', async () => {
    const c = await signedIn()
    await c.post('/if/admin/new/source', { name: '<b>Okta</b>', slug: 'okta', enabled: 'on' })
    await c.post('/if/admin/sources/okta/rotate')
    const all = await (await c.get('/if/admin/events')).text()
    expect(all.indexOf('secret_rotate')).toBeGreaterThan(0)
    expect(all.indexOf('secret_rotate')).toBeLessThan(all.lastIndexOf('model_created'))
    expect(all).toContain('&lt;b&gt;Okta&lt;/b&gt;')
    expect(all).not.toContain('<b>Okta</b>')
    const rotations = await (await c.get('/if/admin/events?action=secret_rotate')).text()
    expect(rotations).toContain('<td class="mono">secret_rotate</td>')
    expect(rotations).not.toContain('<td class="mono">model_created</td>')
    const nobody = await (await c.get('/if/admin/events?username=nobody')).text()
    expect(nobody).toContain('No events match.')
    // An action outside the list is ignored rather than an error.
    expect((await c.get('/if/admin/events?action=%3Cx%3E')).status).toBe(200)
  })
})
