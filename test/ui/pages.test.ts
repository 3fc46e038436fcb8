/** The admin UI's pages and forms against a real app and database: good and bad input. */
import { describe, expect, it } from 'vitest'
import * as sources from '../../src/services/sources.js'
import { BASE, signedIn } from './support.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'

/** The value of the read-only input with this id. */
function inputValue(html: string, id: string): string | undefined {
  return new RegExp(`id="${id}" value="([^"]*)"`).exec(html)?.[1]
}

async function scimWith(key: string, slug: string, method: string, path: string, body?: unknown) {
  return fetchApp(`/source/scim/${slug}/v2${path}`, key, method, body)
}
let fetchApp: (path: string, key: string, method: string, body?: unknown) => Promise<Response>

async function client() {
  const c = await signedIn()
  fetchApp = async (path, key, method, body) =>
    c.t.app.request(`${BASE}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/scim+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return c
}

describe('sources', () => {
  it('creates a source whose shown token provisions through SCIM', async () => {
    const c = await client()
    const res = await c.post('/if/admin/new/source', {
      name: 'Entra ID',
      slug: 'entra',
      enabled: 'on',
    })
    expect(res.status).toBe(201)
    const html = await res.text()
    expect(inputValue(html, 'scim-url')).toBe(`${BASE}/source/scim/entra/v2`)
    const key = inputValue(html, 'token') as string
    expect(key.length).toBeGreaterThan(20)
    const created = await scimWith(key, 'entra', 'POST', '/Users', {
      schemas: [USER],
      userName: 'ada@example.com',
    })
    expect(created.status).toBe(201)
    const list = await (await c.get('/if/admin/sources/entra/users?q=ada')).text()
    expect(list).toContain('ada@example.com')
  })

  it('lists sources, searched on the server', async () => {
    const c = await client()
    await c.t.createSource('okta-prod')
    const all = await (await c.get('/if/admin/sources')).text()
    expect(all).toContain('okta-prod')
    expect(all).toContain('>test<')
    const found = await (await c.get('/if/admin/sources?q=okta')).text()
    expect(found).toContain('okta-prod')
    expect(found).not.toContain('>test<')
  })

  it('refuses a blank name and a bad slug with field errors, creating nothing', async () => {
    const c = await client()
    const res = await c.post('/if/admin/new/source', { name: '  ', slug: 'no spaces!' })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('This field may not be blank.')
    expect(html).toContain('Letters, digits, hyphens and underscores only.')
    expect(html).toContain('aria-invalid="true"')
    // What was typed is kept.
    expect(html).toContain('value="no spaces!"')
    const long = await c.post('/if/admin/new/source', { name: 'x', slug: 'a'.repeat(51) })
    expect(long.status).toBe(400)
    expect((await sources.listSources(c.t.runtime.deps)).count).toBe(1)
  })

  it('refuses a taken slug with 409 and a field error', async () => {
    const c = await client()
    const res = await c.post('/if/admin/new/source', { name: 'Again', slug: 'test' })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('A source with this slug already exists.')
  })

  it('edits a source: a new slug keeps its token and users', async () => {
    const c = await client()
    await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'kept@example.com' })
    const res = await c.post('/if/admin/sources/test/edit', {
      name: 'Renamed',
      slug: 'renamed',
      enabled: 'on',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/if/admin/sources/renamed?done=updated')
    expect((await c.get('/if/admin/sources/test')).status).toBe(404)
    const page = await (await c.get('/if/admin/sources/renamed?done=updated')).text()
    expect(page).toContain('Source saved.')
    expect(page).toContain('Renamed')
    const users = await scimWith(c.t.key, 'renamed', 'GET', '/Users')
    expect(((await users.json()) as { totalResults: number }).totalResults).toBe(1)
  })

  it('edit refuses bad input and a taken slug', async () => {
    const c = await client()
    await c.t.createSource('other')
    expect((await c.post('/if/admin/sources/test/edit', { name: '', slug: 'test' })).status).toBe(
      400,
    )
    const taken = await c.post('/if/admin/sources/test/edit', { name: 'x', slug: 'other' })
    expect(taken.status).toBe(409)
    expect((await sources.getSource(c.t.runtime.deps, 'test')).source.name).toBe('Source test')
  })

  it('disables and enables a source: a disabled source refuses its token', async () => {
    const c = await client()
    expect((await c.post('/if/admin/sources/test/enabled', { enabled: '0' })).status).toBe(303)
    expect((await c.t.scim('GET', '/Users')).status).toBe(403)
    expect(await (await c.get('/if/admin/sources/test?done=disabled')).text()).toContain('Disabled')
    await c.post('/if/admin/sources/test/enabled', { enabled: '1' })
    expect((await c.t.scim('GET', '/Users')).status).toBe(200)
  })

  it('rotates the token: the old one stops, the shown one works', async () => {
    const c = await client()
    const res = await c.post('/if/admin/sources/test/rotate')
    expect(res.status).toBe(200)
    const key = inputValue(await res.text(), 'token') as string
    expect(key).not.toBe(c.t.key)
    expect((await c.t.scim('GET', '/Users')).status).toBe(401)
    expect((await scimWith(key, 'test', 'GET', '/Users')).status).toBe(200)
  })

  it('a GET cannot rotate or delete (those are POSTs)', async () => {
    const c = await client()
    expect((await c.get('/if/admin/sources/test/rotate')).status).toBe(404)
    expect((await c.t.scim('GET', '/Users')).status).toBe(200)
  })

  it('the delete confirmation names what goes with the source, then deletes it all', async () => {
    const c = await client()
    const u = await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'gone@example.com' })
    const { id } = (await u.json()) as { id: string }
    await c.t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Doomed',
      members: [{ value: id }],
    })
    const confirm = await (await c.get('/if/admin/sources/test/delete')).text()
    expect(confirm).toContain('gone@example.com')
    expect(confirm).toContain('Doomed')
    expect(confirm).toMatch(/<strong>1<\/strong> provisioned user\b/)
    expect(confirm).toContain('ak-source-scim-')
    // Still there until the POST.
    expect((await c.get('/if/admin/sources/test')).status).toBe(200)
    const res = await c.post('/if/admin/sources/test/delete')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/if/admin/sources?done=deleted')
    expect((await c.get('/if/admin/sources/test')).status).toBe(404)
    expect(await (await c.get('/if/admin/users?q=gone')).text()).not.toContain('gone@example.com')
  })

  it('an unknown source is a 404 page', async () => {
    const c = await client()
    const res = await c.get('/if/admin/sources/nope')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(await res.text()).toContain('Source not found')
    expect((await c.post('/if/admin/sources/nope/rotate')).status).toBe(404)
  })

  it('refuses a form body over the limit with 413', async () => {
    const c = await client()
    const res = await c.post('/if/admin/new/source', { name: 'x'.repeat(70_000), slug: 'big' })
    expect(res.status).toBe(413)
  })
})

describe('what a source provisioned', () => {
  it("shows a user's directory fields and its stored SCIM document", async () => {
    const c = await client()
    const res = await c.t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'grace@example.com',
      externalId: 'ext-grace',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      emails: [{ value: 'grace@example.com', primary: true }],
    })
    const { id } = (await res.json()) as { id: string }
    const html = await (await c.get(`/if/admin/source-users/${id}`)).text()
    expect(html).toContain('ext-grace')
    expect(html).toContain('&quot;givenName&quot;: &quot;Grace&quot;')
    expect(html).toContain('Grace Hopper')
    expect((await c.get('/if/admin/source-users/not-an-id')).status).toBe(404)
  })

  it('pages users and a group of members on the server', async () => {
    const c = await client()
    const ids: string[] = []
    for (let i = 0; i < 30; i++) {
      const r = await c.t.scim('POST', '/Users', {
        schemas: [USER],
        userName: `u${String(i).padStart(2, '0')}@example.com`,
      })
      ids.push(((await r.json()) as { id: string }).id)
    }
    const g = await c.t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Everyone',
      members: ids.map((value) => ({ value })),
    })
    const groupId = ((await g.json()) as { id: string }).id
    const first = await (await c.get('/if/admin/sources/test/users')).text()
    expect(first).toContain('1–25 of 30')
    expect(first).toContain('u00@example.com')
    expect(first).not.toContain('u29@example.com')
    const second = await (await c.get('/if/admin/sources/test/users?page=2')).text()
    expect(second).toContain('26–30 of 30')
    expect(second).toContain('u29@example.com')
    const groups = await (await c.get('/if/admin/sources/test/groups')).text()
    expect(groups).toContain('Everyone')
    const members = await (await c.get(`/if/admin/source-groups/${groupId}?page=2`)).text()
    expect(members).toContain('Members (30)')
    expect(members).toContain('26–30 of 30')
    const searched = await (await c.get(`/if/admin/source-groups/${groupId}?q=u07`)).text()
    expect(searched).toContain('1–1 of 1')
    // A page number that is no number is page 1, not an error.
    expect((await c.get('/if/admin/sources/test/users?page=abc')).status).toBe(200)
    expect((await c.get('/if/admin/sources/test/users?page=999999')).status).toBe(200)
  })
})

describe('search', () => {
  it("finds a source's user by userName prefix (any case), SCIM id, externalId or email", async () => {
    const c = await client()
    const r = await c.t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'Ada.Lovelace@Example.com',
      externalId: 'EXT-42',
      emails: [{ value: 'ada@analytical.example', primary: true }],
    })
    const { id } = (await r.json()) as { id: string }
    await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'adam@example.com' })
    await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'bob@example.com' })
    const found = async (q: string) =>
      (await (await c.get(`/if/admin/sources/test/users?q=${encodeURIComponent(q)}`)).text()).match(
        /of (\d+)/,
      )?.[1] ?? '0'
    expect(await found('ada')).toBe('2')
    expect(await found('ADA.')).toBe('1')
    expect(await found(id)).toBe('1')
    expect(await found('EXT-42')).toBe('1')
    expect(await found('ADA@analytical.example')).toBe('1')
    // Not a prefix: an infix of the userName is no match (each term is an index probe).
    expect(await found('lovelace')).toBe('0')
    // LIKE wildcards are plain characters.
    expect(await found('%')).toBe('0')
  })

  it('lists exact matches first, then the prefix range, paged across both', async () => {
    const c = await client()
    for (let i = 0; i < 30; i++) {
      await c.t.scim('POST', '/Users', {
        schemas: [USER],
        userName: `p${String(i).padStart(2, '0')}`,
      })
    }
    await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'zed', externalId: 'p' })
    const first = await (await c.get('/if/admin/sources/test/users?q=p')).text()
    expect(first).toContain('1–25 of 31')
    expect(first.indexOf('>zed<')).toBeGreaterThan(0)
    expect(first.indexOf('>zed<')).toBeLessThan(first.indexOf('>p00<'))
    expect(first).toContain('>p23<')
    expect(first).not.toContain('>p24<')
    const second = await (await c.get('/if/admin/sources/test/users?q=p&page=2')).text()
    expect(second).toContain('26–31 of 31')
    expect(second).toContain('>p24<')
    expect(second).toContain('>p29<')
    expect(second).not.toContain('>zed<')
  })

  it("finds a source's group by displayName prefix, SCIM id or externalId", async () => {
    const c = await client()
    const r = await c.t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Sales EMEA',
      externalId: 'g-sales',
    })
    const { id } = (await r.json()) as { id: string }
    await c.t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Support' })
    const found = async (q: string) =>
      (
        await (await c.get(`/if/admin/sources/test/groups?q=${encodeURIComponent(q)}`)).text()
      ).match(/of (\d+)/)?.[1] ?? '0'
    expect(await found('s')).toBe('2')
    expect(await found('sales')).toBe('1')
    expect(await found(id)).toBe('1')
    expect(await found('g-sales')).toBe('1')
  })
})

describe('directory', () => {
  it('lists and shows users and groups, with where a user came from', async () => {
    const c = await client()
    const r = await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'linus@example.com' })
    const { id } = (await r.json()) as { id: string }
    await c.t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Kernel',
      members: [{ value: id }],
    })
    const users = await (await c.get('/if/admin/users?q=linus')).text()
    const pk = /href="\/if\/admin\/users\/(\d+)">linus@example.com/.exec(users)?.[1]
    expect(pk).toBeDefined()
    const user = await (await c.get(`/if/admin/users/${pk}`)).text()
    expect(user).toContain('Kernel')
    expect(user).toContain(`SCIM user ${id}`)
    const groups = await (await c.get('/if/admin/groups?q=kern')).text()
    const gid = /href="\/if\/admin\/groups\/([^"]+)">Kernel/.exec(groups)?.[1]
    const group = await (await c.get(`/if/admin/groups/${gid}`)).text()
    expect(group).toContain('linus@example.com')
    expect((await c.get('/if/admin/users/99999999999')).status).toBe(404)
    expect((await c.get('/if/admin/groups/nope')).status).toBe(404)
  })
})

describe('admin tokens', () => {
  it('creates an admin token, shown once, that can sign in', async () => {
    const c = await client()
    const res = await c.post('/if/admin/tokens', { identifier: 'ci-bot', expires: '30d' })
    expect(res.status).toBe(201)
    const key = inputValue(await res.text(), 'new-token') as string
    expect(key.length).toBeGreaterThan(20)
    const list = await (await c.get('/if/admin/tokens')).text()
    expect(list).toContain('ci-bot')
    expect(list).not.toContain(key)
    const other = await signedIn(c.t)
    const again = await other.post('/if/admin/sign-in', { token: key })
    expect(again.status).toBe(303)
  })

  it('refuses a taken identifier and an unknown lifetime', async () => {
    const c = await client()
    await c.post('/if/admin/tokens', { identifier: 'dup', expires: 'never' })
    const dup = await c.post('/if/admin/tokens', { identifier: 'dup', expires: 'never' })
    expect(dup.status).toBe(409)
    expect(await dup.text()).toContain('A token with this identifier exists.')
    const bad = await c.post('/if/admin/tokens', { identifier: 'x', expires: 'forever' })
    expect(bad.status).toBe(400)
  })
})
