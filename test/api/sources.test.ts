import { describe, expect, it } from 'vitest'
import { createTestApp, fixture } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const body = async (res: Response) => (await res.json()) as Json

describe('/api/v3/sources/scim/ list', () => {
  it('answers authentik’s pagination envelope, pages, and an empty page beyond the end', async () => {
    const t = await createTestApp()
    for (const slug of ['b-source', 'c-source', 'a-source', 'd-source']) await t.createSource(slug)
    const first = await body(await t.admin('GET', '/sources/scim/?page_size=2'))
    expect(first.pagination).toEqual({
      next: 2,
      previous: 0,
      count: 5,
      current: 1,
      total_pages: 3,
      start_index: 1,
      end_index: 2,
    })
    // Default ordering is by name ("Source a-source", …, "Source test").
    expect(first.results.map((s: Json) => s.slug)).toEqual(['a-source', 'b-source'])
    const last = await body(await t.admin('GET', '/sources/scim/?page_size=2&page=3'))
    expect(last.pagination).toMatchObject({ next: 0, previous: 2, start_index: 5, end_index: 5 })
    expect(last.results.map((s: Json) => s.slug)).toEqual(['test'])
    for (const page of ['4', '1000', '99999999999999999999999999']) {
      const res = await t.admin('GET', `/sources/scim/?page_size=2&page=${page}`)
      expect(res.status, page).toBe(200)
      const beyond = await body(res)
      expect(beyond.results).toEqual([])
      expect(beyond.pagination).toMatchObject({ count: 5, next: 0, previous: 3, total_pages: 3 })
    }
  })

  it('filters by name and slug, searches, and orders', async () => {
    const t = await createTestApp()
    await t.admin('POST', '/sources/scim/', { name: 'Okta prod', slug: 'okta' })
    await t.admin('POST', '/sources/scim/', { name: 'Entra ID', slug: 'entra' })
    const slugs = async (query: string) =>
      (await body(await t.admin('GET', `/sources/scim/?${query}`))).results.map((s: Json) => s.slug)
    expect(await slugs('slug=okta')).toEqual(['okta'])
    expect(await slugs('name=Entra%20ID')).toEqual(['entra'])
    expect(await slugs('name=entra')).toEqual([]) // exact, as authentik's filter
    expect(await slugs('search=OKTA')).toEqual(['okta']) // search ignores case
    expect(await slugs('search=ak-source-scim')).toHaveLength(3) // token identifier
    expect(await slugs('search=50%25')).toEqual([]) // LIKE wildcards are literal
    expect(await slugs('ordering=-slug')).toEqual(['test', 'okta', 'entra'])
    expect(await slugs('ordering=slug')).toEqual(['entra', 'okta', 'test'])
  })

  it('names an unknown ordering field and a bad page in a 400', async () => {
    const t = await createTestApp()
    const res = await t.admin('GET', '/sources/scim/?ordering=token&page=0&page_size=x')
    expect(res.status).toBe(400)
    const errors = await body(res)
    expect(Object.keys(errors).sort()).toEqual(['code', 'ordering', 'page', 'page_size'])
    expect(errors.ordering[0]).toContain('name, slug')
  })

  it('reads page and page_size as decimal digits only, and a page past 2^53 as an integer', async () => {
    const t = await createTestApp()
    for (const bad of ['1e3', '0x10', '1.5', '', '-1']) {
      const res = await t.admin('GET', `/sources/scim/?page=${bad}&page_size=${bad}`)
      expect(res.status, bad).toBe(400)
      expect(Object.keys(await body(res)).sort(), bad).toEqual(['code', 'page', 'page_size'])
    }
    expect(
      (await body(await t.admin('GET', '/sources/scim/?page=%201&page_size=2'))).pagination,
    ).toMatchObject({ current: 1, end_index: 1 })
    const far = await body(await t.admin('GET', `/sources/scim/?page=${'9'.repeat(30)}`))
    expect(far.pagination.current).toBe(Number.MAX_SAFE_INTEGER)
    expect(far.results).toEqual([])
  })
})

describe('/api/v3/sources/scim/ create', () => {
  it('names every invalid field: blank name, slug pattern and length, unknown fields', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', {
      name: '  ',
      slug: `bad slug!${'x'.repeat(50)}`,
      colour: 'red',
      icon: null,
    })
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({
      name: ['This field may not be blank.'],
      slug: [
        'Ensure this field has no more than 50 characters.',
        'Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.',
      ],
      colour: ['Unknown field.'],
      icon: ['Unknown field.'],
      code: 'invalid',
    })
    expect((await t.admin('GET', '/sources/scim/')).status).toBe(200)
  })

  it('requires name and slug, and rejects wrong types and null', async () => {
    const t = await createTestApp()
    const missing = await body(await t.admin('POST', '/sources/scim/', {}))
    expect(missing).toEqual({
      name: ['This field is required.'],
      slug: ['This field is required.'],
      code: 'invalid',
    })
    const wrong = await body(
      await t.admin('POST', '/sources/scim/', {
        name: 42,
        slug: null,
        enabled: 'yes',
        user_property_mappings: ['00000000-0000-0000-0000-000000000000'],
      }),
    )
    expect(wrong).toEqual({
      name: ['Not a valid string.'],
      slug: ['This field may not be null.'],
      enabled: ['Must be a valid boolean.'],
      code: 'invalid',
    })
    // Mapping pks are checked once the body is well-formed (they name rows).
    const unknownMapping = await body(
      await t.admin('POST', '/sources/scim/', {
        name: 'x',
        slug: 'x',
        user_property_mappings: ['00000000-0000-0000-0000-000000000000'],
      }),
    )
    expect(unknownMapping).toEqual({
      user_property_mappings: [
        'Invalid pk "00000000-0000-0000-0000-000000000000" - object does not exist.',
      ],
      code: 'invalid',
    })
  })

  it('accepts a slug of exactly 50 characters and refuses 51', async () => {
    const t = await createTestApp()
    const ok = await t.admin('POST', '/sources/scim/', { name: 'Long', slug: 'a'.repeat(50) })
    expect(ok.status).toBe(201)
    const long = await t.admin('POST', '/sources/scim/', { name: 'Long', slug: 'b'.repeat(51) })
    expect(await body(long)).toEqual({
      slug: ['Ensure this field has no more than 50 characters.'],
      code: 'invalid',
    })
  })

  it('answers a taken slug with a slug field error', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', { name: 'Again', slug: 'test' })
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({
      slug: ['SCIM Source with this slug already exists.'],
      code: 'invalid',
    })
  })

  it('answers bodies that are not a JSON object with 400 and non_field_errors', async () => {
    const t = await createTestApp()
    for (const raw of ['{"name": ', '[]', 'null', '"text"', '42', '']) {
      const res = await t.admin('POST', '/sources/scim/', raw, {
        'Content-Type': 'application/json',
      })
      expect(res.status, raw).toBe(400)
      expect((await body(res)).non_field_errors, raw).toHaveLength(1)
    }
  })

  it('takes JSON that curl -d labelled as a form, and refuses a real form with 415', async () => {
    const t = await createTestApp()
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' }
    const json = await t.admin('POST', '/sources/scim/', '{"name":"Curl","slug":"curl"}', form)
    expect(json.status).toBe(201)
    const res = await t.admin('POST', '/sources/scim/', 'name=a&slug=b', form)
    expect(res.status).toBe(415)
    expect(await body(res)).toMatchObject({
      detail: expect.stringContaining('application/x-www-form-urlencoded'),
      code: 'unsupported_media_type',
    })
  })

  it('refuses NUL characters (PostgreSQL cannot store them) with a field error', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', { name: 'a\u0000b', slug: 'nul' })
    expect(await body(res)).toEqual({
      name: ['Null characters are not allowed.'],
      code: 'invalid',
    })
  })

  it('refuses a lone surrogate, which PostgreSQL would store as U+FFFD, and creates nothing', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', '{"name":"x\\ud800","slug":"sur"}', {
      'Content-Type': 'application/json',
    })
    expect(res.status).toBe(400)
    expect(await body(res)).toEqual({
      name: ['Strings must be valid Unicode (a lone surrogate is not).'],
      code: 'invalid',
    })
    expect((await t.admin('GET', '/sources/scim/sur/')).status).toBe(404)
  })

  it('takes each of authentik’s five user matching modes, and refuses any other', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/sources/scim/', {
      name: 'Adopt',
      slug: 'adopt',
      user_matching_mode: 'username_link',
    })
    expect(res.status).toBe(201)
    expect(await body(res)).toMatchObject({ user_matching_mode: 'username_link' })
    const bad = await t.admin('POST', '/sources/scim/', {
      name: 'Bad',
      slug: 'bad',
      user_matching_mode: 'adopt_everyone',
    })
    expect(bad.status).toBe(400)
    expect(Object.keys(await body(bad))).toEqual(['user_matching_mode', 'code'])
  })
})

describe('/api/v3/sources/scim/<slug>/', () => {
  it('answers an unknown slug with 404 {detail}', async () => {
    const t = await createTestApp()
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      const withBody = method === 'PUT' || method === 'PATCH'
      const res = await t.admin(
        method,
        '/sources/scim/nope/',
        withBody ? { name: 'x', slug: 'y' } : undefined,
      )
      expect(res.status, method).toBe(404)
      expect(await body(res)).toEqual({ detail: 'Not found.', code: 'not_found' })
    }
    expect((await t.admin('GET', '/sources/scim/nope/used_by/')).status).toBe(404)
  })

  it('takes back a retrieved object unchanged with PUT (read-only fields are ignored)', async () => {
    const t = await createTestApp()
    const retrieved = await body(await t.admin('GET', '/sources/scim/test/'))
    const res = await t.admin('PUT', '/sources/scim/test/', { ...retrieved, name: 'Renamed' })
    expect(res.status).toBe(200)
    expect(await body(res)).toEqual({ ...retrieved, name: 'Renamed' })
  })

  it('requires name and slug on PUT but not on PATCH', async () => {
    const t = await createTestApp()
    const put = await t.admin('PUT', '/sources/scim/test/', { enabled: false })
    expect(await body(put)).toMatchObject({
      name: ['This field is required.'],
      slug: ['This field is required.'],
    })
    // In use first, so that its token lookup is cached (services/tokens.ts).
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    const patch = await t.admin('PATCH', '/sources/scim/test/', { enabled: false })
    expect(patch.status).toBe(200)
    expect(await body(patch)).toMatchObject({ slug: 'test', enabled: false })
    // A disabled source refuses its identity provider.
    expect((await t.scim('GET', '/Users')).status).toBe(403)
  })

  it('keeps every user, group and the token when the slug changes, and moves root_url', async () => {
    const t = await createTestApp()
    const user = await body(await t.scim('POST', '/Users', fixture('entra/create-user.json')))
    const group = await body(
      await t.scim('POST', '/Groups', {
        displayName: 'Engineers',
        members: [{ value: user.id }],
      }),
    )
    const res = await t.admin('PATCH', '/sources/scim/test/', { slug: 'entra-prod' })
    expect(res.status).toBe(200)
    const moved = await body(res)
    expect(moved.root_url).toBe('http://scimd.test/source/scim/entra-prod/v2')
    expect(moved.token_obj.description).toBe('Token for SCIM source entra-prod')
    const asSource = (path: string) =>
      t.raw('GET', path, { headers: { authorization: `Bearer ${t.key}` } })
    expect((await asSource('/source/scim/test/v2/Users')).status).toBe(401)
    const read = await asSource(`/source/scim/entra-prod/v2/Groups/${group.id}`)
    expect(read.status).toBe(200)
    expect((await body(read)).members).toEqual([
      expect.objectContaining({ value: user.id, type: 'User' }),
    ])
    expect((await t.admin('GET', '/sources/scim/test/')).status).toBe(404)
  })

  it('answers a slug change onto a taken slug with a field error and changes nothing', async () => {
    const t = await createTestApp()
    await t.createSource('other')
    const res = await t.admin('PATCH', '/sources/scim/test/', { slug: 'other', name: 'New' })
    expect(res.status).toBe(400)
    expect(await body(res)).toMatchObject({ slug: ['SCIM Source with this slug already exists.'] })
    expect((await body(await t.admin('GET', '/sources/scim/test/'))).name).toBe('Source test')
  })

  it('deletes the source with its token, service account, users and groups', async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    const user = await body(await t.scim('POST', '/Users', { userName: 'alice' }))
    await t.scim('POST', '/Groups', { displayName: 'G', members: [{ value: user.id }] })
    const otherUser = await t.app.request('http://scimd.test/source/scim/other/v2/Users', {
      method: 'POST',
      headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'alice' }),
    })
    expect(otherUser.status).toBe(201)
    const source = await body(await t.admin('GET', '/sources/scim/test/'))

    const usedBy = await body(await t.admin('GET', '/sources/scim/test/used_by/'))
    expect(usedBy.map((u: Json) => `${u.model_name}:${u.name}`).sort()).toEqual(
      [
        'scimsourcegroup:G',
        'scimsourceuser:alice',
        `token:${source.token_obj.identifier}`,
        `user:${source.token_obj.user_obj.username}`,
      ].sort(),
    )
    expect(usedBy.every((u: Json) => u.action === 'cascade')).toBe(true)

    expect((await t.admin('DELETE', '/sources/scim/test/')).status).toBe(204)
    expect((await t.admin('GET', '/sources/scim/test/')).status).toBe(404)
    expect((await t.scim('GET', '/Users')).status).toBe(401) // the token is gone
    const tokenRes = await t.admin('GET', `/core/tokens/${source.token_obj.identifier}/`)
    expect(tokenRes.status).toBe(404)
    const account = await t.admin('GET', `/core/users/${source.token_obj.user_obj.pk}/`)
    expect(account.status).toBe(404)
    const users = await body(await t.admin('GET', '/core/users/?username=alice'))
    expect(users.pagination.count).toBe(1) // only the other source's alice is left
    expect(await body(await t.admin('GET', '/core/groups/?name=G'))).toMatchObject({
      pagination: { count: 0 },
    })
  })
})
