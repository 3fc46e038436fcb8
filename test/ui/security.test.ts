/** The admin UI's sign-in, session cookie, CSRF and header defences, driven like a browser. */
import { describe, expect, it } from 'vitest'
import * as sources from '../../src/services/sources.js'
import { createTestApp } from '../support/app.js'
import { ADMIN_KEY, csrfOf, sessionCookie, signedIn, uiClient } from './support.js'

describe('sign-in', () => {
  it('sends / and /if/admin/ to the sign-in page when signed out', async () => {
    const c = await uiClient()
    const root = await c.get('/')
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/if/admin/')
    const ui = await c.get('/if/admin/')
    expect(ui.status).toBe(303)
    expect(ui.headers.get('location')).toBe('/if/admin/sign-in?next=%2Fif%2Fadmin')
    const page = await c.get('/if/admin/sources/test')
    expect(page.headers.get('location')).toBe(
      '/if/admin/sign-in?next=%2Fif%2Fadmin%2Fsources%2Ftest',
    )
  })

  it('exchanges an admin token for an HttpOnly, SameSite=Strict session cookie', async () => {
    const c = await uiClient()
    const res = await c.post('/if/admin/sign-in', {
      token: ADMIN_KEY,
      next: '/if/admin/sources/test',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/if/admin/sources/test')
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^scimd_session=[A-Za-z0-9_-]{43};/)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/if/admin')
    // The test app's SCIMD_BASE_URL is http: no Secure flag a plain-HTTP browser would drop.
    expect(cookie).not.toContain('Secure')
    expect(cookie).not.toContain(ADMIN_KEY)
    c.cookie = sessionCookie(res)
    const page = await c.get('/if/admin/sources/test')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Source test')
  })

  it('marks the cookie Secure when SCIMD_BASE_URL is https', async () => {
    const t = await createTestApp({ env: { SCIMD_BASE_URL: 'https://scimd.example' } })
    const c = await uiClient(t)
    const res = await c.post(
      '/if/admin/sign-in',
      { token: ADMIN_KEY },
      { origin: 'https://scimd.example' },
    )
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toContain('Secure')
  })

  it('marks the cookie Secure when the request itself is HTTPS', async () => {
    const t = await createTestApp()
    const res = await t.app.request('https://scimd.test/if/admin/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ token: ADMIN_KEY }).toString(),
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://scimd.test',
      },
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toContain('Secure')
  })

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const c = await uiClient()
    const res = await c.post('/if/admin/sign-in', { token: 'not-a-token' })
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
    const html = await res.text()
    expect(html).toContain('not a valid admin token')
    expect(html).not.toContain('not-a-token')
  })

  it("refuses a source's token: it is no admin's", async () => {
    const c = await uiClient()
    const res = await c.post('/if/admin/sign-in', { token: c.t.key })
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
    // The key is not echoed back into the page.
    expect(await res.text()).not.toContain(c.t.key)
  })

  it('refuses a sign-in posted from another site', async () => {
    const c = await uiClient()
    const res = await c.post(
      '/if/admin/sign-in',
      { token: ADMIN_KEY },
      { origin: 'https://evil.example' },
    )
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('never redirects outside the UI after sign-in', async () => {
    const c = await uiClient()
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '/api/v3/',
    ]) {
      const res = await c.post('/if/admin/sign-in', { token: ADMIN_KEY, next })
      expect(res.headers.get('location')).toBe('/if/admin/')
    }
  })

  it('takes no token from the URL', async () => {
    const c = await uiClient()
    const res = await c.get(`/if/admin/sign-in?token=${ADMIN_KEY}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('keeps only a digest of the session id in the database', async () => {
    const c = await signedIn()
    const id = (c.cookie as string).split('=')[1] as string
    const rows = await c.t.runtime.deps.db.selectFrom('ui_sessions').selectAll().execute()
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(id)
    expect(JSON.stringify(rows)).not.toContain(ADMIN_KEY)
  })
})

describe('session', () => {
  it('sign-out deletes the session: the cookie opens nothing any more', async () => {
    const c = await signedIn()
    const out = await c.post('/if/admin/sign-out')
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toMatch(/scimd_session=;.*Max-Age=0/)
    expect(await c.t.runtime.deps.db.selectFrom('ui_sessions').selectAll().execute()).toEqual([])
    const after = await c.get('/if/admin/sources')
    expect(after.status).toBe(303)
    expect(after.headers.get('location')).toMatch(/^\/if\/admin\/sign-in/)
  })

  it('an expired session opens nothing and its row is deleted', async () => {
    const c = await signedIn()
    await c.t.runtime.deps.db
      .updateTable('ui_sessions')
      .set({ expires_at: '2000-01-01T00:00:00.000Z' })
      .execute()
    const res = await c.get('/if/admin/sources')
    expect(res.status).toBe(303)
    expect(await c.t.runtime.deps.db.selectFrom('ui_sessions').selectAll().execute()).toEqual([])
  })

  it('rotating the admin token that signed in ends its sessions', async () => {
    const c = await signedIn()
    const rotated = await c.t.admin('POST', '/core/tokens/authentik-bootstrap-token/rotate/')
    expect(rotated.status).toBe(200)
    const res = await c.get('/if/admin/sources')
    expect(res.status).toBe(303)
  })

  it('a made-up or malformed cookie opens nothing', async () => {
    const c = await uiClient()
    for (const value of ['x', 'A'.repeat(43), `${'A'.repeat(42)}!`]) {
      c.cookie = `scimd_session=${value}`
      const res = await c.get('/if/admin/sources')
      expect(res.status).toBe(303)
    }
  })
})

describe('CSRF', () => {
  it('refuses a POST without the CSRF token, and changes nothing', async () => {
    const c = await signedIn()
    const res = await c.post('/if/admin/sources/test/enabled', { enabled: '0' }, { csrf: null })
    expect(res.status).toBe(403)
    expect((await sources.getSource(c.t.runtime.deps, 'test')).source.enabled).toBe(true)
  })

  it('refuses a POST with a wrong CSRF token', async () => {
    const c = await signedIn()
    const wrong = `${(c.csrf as string).slice(0, -1)}${c.csrf?.endsWith('0') ? '1' : '0'}`
    const res = await c.post('/if/admin/sources/test/delete', {}, { csrf: wrong })
    expect(res.status).toBe(403)
    expect((await sources.getSource(c.t.runtime.deps, 'test')).source.slug).toBe('test')
  })

  it("refuses another session's CSRF token", async () => {
    const c = await signedIn()
    const other = await signedIn(c.t)
    expect(other.csrf).not.toBe(c.csrf)
    const res = await c.post('/if/admin/sources/test/delete', {}, { csrf: other.csrf ?? null })
    expect(res.status).toBe(403)
  })

  it('refuses a cross-origin POST even with the right token', async () => {
    const c = await signedIn()
    for (const origin of ['https://evil.example', 'null', 'http://scimd.test.evil.example']) {
      const res = await c.post('/if/admin/sources/test/delete', {}, { origin })
      expect(res.status).toBe(403)
    }
    const fetchSite = await c.post(
      '/if/admin/sources/test/delete',
      {},
      { origin: null, headers: { 'Sec-Fetch-Site': 'cross-site' } },
    )
    expect(fetchSite.status).toBe(403)
    expect((await sources.getSource(c.t.runtime.deps, 'test')).source.slug).toBe('test')
  })

  it('accepts the same POST from scimd itself', async () => {
    const c = await signedIn()
    const res = await c.post('/if/admin/sources/test/enabled', { enabled: '0' })
    expect(res.status).toBe(303)
    expect((await sources.getSource(c.t.runtime.deps, 'test')).source.enabled).toBe(false)
  })

  it('refuses sign-out without the CSRF token (no logout CSRF)', async () => {
    const c = await signedIn()
    const res = await c.post('/if/admin/sign-out', {}, { csrf: null })
    expect(res.status).toBe(403)
    expect((await c.get('/if/admin/sources')).status).toBe(200)
  })
})

describe('headers and escaping', () => {
  it('sends a restrictive CSP, no framing, nosniff and no-store on pages', async () => {
    const c = await signedIn()
    for (const path of ['/if/admin/sign-in', '/if/admin/sources', '/if/admin/sources/nope']) {
      const res = await c.get(path)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).not.toContain('unsafe-inline')
      expect(csp).toContain("frame-ancestors 'none'")
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })

  it('pages carry no inline script or style', async () => {
    const c = await signedIn()
    const html = await (await c.get('/if/admin/sources/test')).text()
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(html).not.toMatch(/\sstyle=/)
    expect(html).not.toMatch(/\son[a-z]+=/)
  })

  it('serves the stylesheet and script under hashed names, cached for long', async () => {
    const c = await signedIn()
    const html = await (await c.get('/if/admin/sources')).text()
    for (const match of html.matchAll(/(?:href|src)="(\/if\/admin\/static\/[^"]+)"/g)) {
      const path = match[1] as string
      expect(path).toMatch(/ui\.[0-9a-f]{12}\.(css|js)$/)
      const res = await c.get(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toContain('max-age=31536000')
      expect(res.headers.get('content-type')).toMatch(
        path.endsWith('.css') ? /text\/css/ : /javascript/,
      )
    }
    expect((await c.get('/if/admin/static/ui.000000000000.css')).status).toBe(404)
  })

  it('shows a displayName of <script>… escaped, wherever it appears', async () => {
    const c = await signedIn()
    const created = await c.t.scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'xss@example.com',
      displayName: '<script>alert(1)</script>',
      name: { givenName: '<img src=x onerror=alert(1)>' },
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    const pages = [
      '/if/admin/sources/test/users',
      `/if/admin/source-users/${id}`,
      '/if/admin/users?q=xss',
    ]
    for (const path of pages) {
      const html = await (await c.get(path)).text()
      expect(html).toContain('xss@example.com')
      expect(html).not.toContain('<script>alert(1)</script>')
      expect(html).not.toContain('<img src=x')
    }
    const detail = await (await c.get(`/if/admin/source-users/${id}`)).text()
    expect(detail).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('a search term is echoed escaped', async () => {
    const c = await signedIn()
    const html = await (await c.get('/if/admin/users?q=%22%3E%3Cscript%3Ex()%3C/script%3E')).text()
    expect(html).not.toContain('<script>x()')
    expect(html).toContain('&quot;&gt;&lt;script&gt;')
  })
})

describe('secrets', () => {
  it('shows a source token only on an explicit POST, never on the GET of the page', async () => {
    const c = await signedIn()
    const page = await (await c.get('/if/admin/sources/test')).text()
    expect(page).not.toContain(c.t.key)
    const viewed = await c.post('/if/admin/sources/test/token')
    expect(viewed.status).toBe(200)
    expect(viewed.headers.get('cache-control')).toBe('no-store')
    expect(await viewed.text()).toContain(c.t.key)
  })

  it('the CSRF token is not the session id, and neither shows in a page', async () => {
    const c = await signedIn()
    const id = (c.cookie as string).split('=')[1] as string
    expect(c.csrf).toBeDefined()
    expect(c.csrf).not.toBe(id)
    const html = await (await c.get('/if/admin/sources')).text()
    expect(html).not.toContain(id)
    expect(csrfOf(html)).toBe(c.csrf)
  })

  it('logs neither the admin token nor the session id', async () => {
    const lines: string[] = []
    const t = await createTestApp({ env: { LOG_LEVEL: 'debug' } })
    const { createLogger } = await import('../../src/logger.js')
    t.runtime.deps.logger = createLogger('debug', (line) => lines.push(line))
    const { createApp } = await import('../../src/http/app.js')
    const app = createApp(t.runtime.deps)
    const c = await uiClient({ ...t, app })
    const res = await c.post('/if/admin/sign-in', { token: ADMIN_KEY })
    c.cookie = sessionCookie(res)
    await c.get('/if/admin/sources')
    await c.post('/if/admin/sign-in', { token: 'wrong-token-value' })
    const text = lines.join('\n')
    expect(lines.length).toBeGreaterThan(0)
    expect(text).not.toContain(ADMIN_KEY)
    expect(text).not.toContain('wrong-token-value')
    expect(text).not.toContain((c.cookie as string).split('=')[1])
  })
})
