/**
 * POST /.search (RFC 7644 §3.4.3) at a source's root, /Users and /Groups, and GET on the
 * root (§3.4.2.1): one filter, sort order and page over Users and Groups together.
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'

async function seed(t: TestApp) {
  const ids: Record<string, string> = {}
  for (const [userName, displayName] of [
    ['ann', 'Ann Arbor'],
    ['zed', 'Zed Zulu'],
    ['mia', undefined],
  ] as const) {
    const res = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName,
      ...(displayName ? { displayName } : {}),
    })
    ids[userName] = ((await res.json()) as Json).id
  }
  for (const displayName of ['Admins', 'beta']) {
    const res = await t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName,
      members: displayName === 'Admins' ? [{ value: ids.ann }] : [],
    })
    ids[displayName] = ((await res.json()) as Json).id
  }
  return ids
}

async function search(t: TestApp, body: Json, path = '/.search'): Promise<Json> {
  const res = await t.scim('POST', path, { schemas: [SEARCH], ...body })
  const json = (await res.json()) as Json
  expect(res.status, JSON.stringify(json)).toBe(200)
  return json
}

const label = (r: Json) => `${r.meta.resourceType}:${r.userName ?? r.displayName}`

describe('POST /.search at the source root', () => {
  it('searches users and groups with one filter, treating the other type’s attributes as absent', async () => {
    const t = await createTestApp()
    await seed(t)
    const all = await search(t, {})
    expect(all).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 5,
      itemsPerPage: 5,
    })
    expect((all.Resources as Json[]).map(label)).toEqual([
      'User:ann',
      'User:zed',
      'User:mia',
      'Group:Admins',
      'Group:beta',
    ])
    const cases: Array<[string, string[]]> = [
      ['displayName sw "a"', ['Group:Admins', 'User:ann']],
      ['userName pr', ['User:ann', 'User:mia', 'User:zed']],
      ['not (userName pr)', ['Group:Admins', 'Group:beta']],
      ['members pr or userName eq "zed"', ['Group:Admins', 'User:zed']],
      ['meta.resourceType eq "Group"', ['Group:Admins', 'Group:beta']],
      ['displayName eq null', ['User:mia']],
    ]
    for (const [filter, expected] of cases) {
      const found = await search(t, { filter })
      expect((found.Resources as Json[]).map(label).sort(), filter).toEqual(expected)
      expect(found.totalResults, filter).toBe(expected.length)
    }
  })

  it('sorts and pages across both types, and answers count=0 with totalResults only', async () => {
    const t = await createTestApp()
    await seed(t)
    const sorted = await search(t, { sortBy: 'displayName', sortOrder: 'descending' })
    expect((sorted.Resources as Json[]).map(label)).toEqual([
      'User:mia', // no displayName: first when descending
      'User:zed',
      'Group:beta',
      'User:ann',
      'Group:Admins',
    ])
    const pages: string[] = []
    for (const startIndex of [1, 3, 5]) {
      const page = await search(t, { sortBy: 'displayName', startIndex, count: 2 })
      expect(page).toMatchObject({ totalResults: 5, startIndex })
      pages.push(...(page.Resources as Json[]).map(label))
    }
    expect(pages).toEqual([...(sorted.Resources as Json[]).map(label)].reverse())
    const counted = await search(t, { filter: 'displayName pr', count: 0 })
    expect(counted).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] })
  })

  it('projects each resource by its own schema', async () => {
    const t = await createTestApp()
    await seed(t)
    const found = await search(t, {
      filter: 'displayName sw "a"',
      attributes: ['userName', 'members'],
    })
    const byType = Object.fromEntries(
      (found.Resources as Json[]).map((r) => [r.meta.resourceType, r]),
    )
    expect(Object.keys(byType.User).sort()).toEqual(['id', 'meta', 'schemas', 'userName'])
    expect(Object.keys(byType.Group).sort()).toEqual(['id', 'members', 'meta', 'schemas'])
    const excluded = await search(t, {
      filter: 'displayName sw "a"',
      excludedAttributes: ['displayName'],
    })
    for (const r of excluded.Resources as Json[]) expect(r.displayName).toBeUndefined()
  })

  it('answers a bad search request with 400', async () => {
    const t = await createTestApp()
    await seed(t)
    const bad: Array<[unknown, string]> = [
      [{ filter: 'userName pr' }, 'invalidSyntax'],
      [{ schemas: [USER], filter: 'userName pr' }, 'invalidSyntax'],
      [{ schemas: [SEARCH], filter: 'nope eq "x"' }, 'invalidFilter'],
      [{ schemas: [SEARCH], filter: 'userName eq' }, 'invalidFilter'],
      [{ schemas: [SEARCH], sortBy: 'nope' }, 'invalidValue'],
      [{ schemas: [SEARCH], count: 'ten' }, 'invalidValue'],
      [[SEARCH], 'invalidSyntax'],
    ]
    for (const [body, scimType] of bad) {
      const res = await t.scim('POST', '/.search', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(await res.json(), JSON.stringify(body)).toMatchObject({ scimType })
    }
  })

  it('sees only the calling source’s resources', async () => {
    const t = await createTestApp()
    await seed(t)
    const other = await t.createSource('other')
    const res = await t.raw('POST', `/source/scim/${other.slug}/v2/.search`, {
      body: JSON.stringify({ schemas: [SEARCH] }),
      headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
    })
    expect(await res.json()).toMatchObject({ totalResults: 0 })
  })
})

describe('GET on the root and POST /Users/.search, /Groups/.search', () => {
  it('requires the SearchRequest schema on every .search endpoint', async () => {
    const t = await createTestApp()
    for (const path of ['/.search', '/Users/.search', '/Groups/.search']) {
      const res = await t.scim('POST', path, { filter: 'userName pr' })
      expect(res.status, path).toBe(400)
      expect(await res.json()).toMatchObject({ scimType: 'invalidSyntax' })
    }
  })

  it('answers GET /?filter= across both types', async () => {
    const t = await createTestApp()
    await seed(t)
    const res = await t.scim(
      'GET',
      `/?filter=${encodeURIComponent('displayName co "a"')}&sortBy=displayName`,
    )
    const body = (await res.json()) as Json
    expect(res.status).toBe(200)
    expect((body.Resources as Json[]).map(label)).toEqual([
      'Group:Admins',
      'User:ann',
      'Group:beta',
    ])
  })

  it('searches one type with attributes given as an array', async () => {
    const t = await createTestApp()
    const ids = await seed(t)
    const users = await search(
      t,
      {
        filter: 'userName sw "z" or userName eq "ANN"',
        sortBy: 'userName',
        attributes: ['userName'],
      },
      '/Users/.search',
    )
    expect(users.Resources).toEqual([
      expect.objectContaining({ id: ids.ann, userName: 'ann' }),
      expect.objectContaining({ id: ids.zed, userName: 'zed' }),
    ])
    expect(users.Resources[0].displayName).toBeUndefined()
    const groups = await search(t, { filter: `members.value eq "${ids.ann}"` }, '/Groups/.search')
    expect((groups.Resources as Json[]).map((g) => g.displayName)).toEqual(['Admins'])
  })
})
