/**
 * sortBy / sortOrder (RFC 7644 §3.4.2.3) and paging combined with filters, over HTTP on a
 * real database: case rules from the schema, multi-valued attributes by their primary value,
 * resources without a value last (ascending) or first (descending).
 */
import { describe, expect, it } from 'vitest'
import { ENTERPRISE_USER_URN } from '../../src/scim/schema/resource-types.js'
import { createTestApp, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

async function users(t: TestApp, bodies: Json[]): Promise<void> {
  for (const body of bodies) {
    const res = await t.scim('POST', '/Users', { schemas: [USER], ...body })
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201)
  }
}

async function list(t: TestApp, path: string): Promise<Json> {
  const res = await t.scim('GET', path)
  const body = (await res.json()) as Json
  expect(res.status, JSON.stringify(body)).toBe(200)
  return body
}

async function userNames(t: TestApp, query: string): Promise<string[]> {
  return ((await list(t, `/Users?${query}`)).Resources as Json[]).map((r) => r.userName)
}

describe('sortBy', () => {
  it('sorts users by any attribute, as the schema says, absent values last ascending', async () => {
    const t = await createTestApp()
    await users(t, [
      {
        userName: 'bob',
        title: 'b',
        externalId: 'a1',
        active: true,
        name: { familyName: 'Zed' },
        emails: [{ value: 'z@x.org' }, { value: 'b@x.org', primary: true }],
        [ENTERPRISE_USER_URN]: { manager: { value: 'm2' } },
      },
      {
        userName: 'Émile',
        title: 'A',
        externalId: 'B2',
        active: false,
        emails: [{ value: 'e@x.org' }],
      },
      { userName: 'Alice', title: 'c', name: { familyName: 'adams' } },
      { userName: 'carol', externalId: 'b3', [ENTERPRISE_USER_URN]: { manager: { value: 'm1' } } },
      { userName: 'Dave', title: '_', emails: [{ value: 'a@x.org', type: 'work' }] },
    ])
    const cases: Array<[string, string[]]> = [
      ['sortBy=userName', ['Alice', 'bob', 'carol', 'Dave', 'Émile']],
      ['sortBy=USERNAME&sortOrder=descending', ['Émile', 'Dave', 'carol', 'bob', 'Alice']],
      // caseExact false: compared folded; `_` sorts by code point, before letters
      ['sortBy=title', ['Dave', 'Émile', 'bob', 'Alice', 'carol']],
      // caseExact true: code point order, upper case first
      ['sortBy=externalId', ['Émile', 'bob', 'carol', 'Alice', 'Dave']],
      // ties (here: no value) keep creation order, reversed when descending
      ['sortBy=name.familyName', ['Alice', 'bob', 'Émile', 'carol', 'Dave']],
      ['sortBy=name.familyName&sortOrder=descending', ['Dave', 'carol', 'Émile', 'bob', 'Alice']],
      // multi-valued: the primary value, else the first (bob's primary is b@x.org)
      ['sortBy=emails', ['Dave', 'bob', 'Émile', 'Alice', 'carol']],
      ['sortBy=emails.value&sortOrder=descending', ['carol', 'Alice', 'Émile', 'bob', 'Dave']],
      ['sortBy=active', ['Émile', 'bob', 'Alice', 'carol', 'Dave']],
      [`sortBy=${ENTERPRISE_USER_URN}:manager.value`, ['carol', 'bob', 'Émile', 'Alice', 'Dave']],
      ['sortBy=manager', ['carol', 'bob', 'Émile', 'Alice', 'Dave']],
      ['sortBy=meta.created', ['bob', 'Émile', 'Alice', 'carol', 'Dave']],
      ['sortBy=meta.created&sortOrder=descending', ['Dave', 'carol', 'Alice', 'Émile', 'bob']],
      // sortOrder alone does nothing: the default order is creation order
      ['sortOrder=descending', ['bob', 'Émile', 'Alice', 'carol', 'Dave']],
    ]
    for (const [query, expected] of cases) {
      expect(await userNames(t, query), query).toEqual(expected)
    }
  })

  it('pages filtered, sorted lists without gaps or repeats', async () => {
    const t = await createTestApp()
    const names = Array.from(
      { length: 23 },
      (_, i) => `user${String((i * 7) % 23).padStart(2, '0')}`,
    )
    await users(
      t,
      names.map((userName, i) => ({ userName, title: i % 3 === 0 ? 'skip' : 'keep' })),
    )
    const expected = names
      .filter((_, i) => i % 3 !== 0)
      .sort()
      .reverse()
    const seen: string[] = []
    for (let start = 1; start <= expected.length + 4; start += 4) {
      const page = await list(
        t,
        `/Users?filter=${encodeURIComponent('title eq "keep"')}&sortBy=userName&sortOrder=descending&startIndex=${start}&count=4`,
      )
      expect(page).toMatchObject({ totalResults: expected.length, startIndex: start })
      expect(page.itemsPerPage).toBe(page.Resources.length)
      seen.push(...(page.Resources as Json[]).map((r) => r.userName))
    }
    expect(seen).toEqual(expected)
  })

  it('answers count=0 with totalResults only', async () => {
    const t = await createTestApp()
    await users(t, [{ userName: 'a' }, { userName: 'b' }, { userName: 'c' }])
    const page = await list(t, `/Users?count=0&filter=${encodeURIComponent('userName ne "b"')}`)
    expect(page).toMatchObject({ totalResults: 2, itemsPerPage: 0, Resources: [] })
  })

  it('sorts groups, and rejects attributes it cannot sort by with 400 invalidValue', async () => {
    const t = await createTestApp()
    for (const displayName of ['beta', 'Alpha', 'gamma']) {
      await t.scim('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName,
      })
    }
    const groups = await list(t, '/Groups?sortBy=displayName&sortOrder=descending')
    expect((groups.Resources as Json[]).map((g) => g.displayName)).toEqual([
      'gamma',
      'beta',
      'Alpha',
    ])
    for (const sortBy of ['nope', 'name', 'addresses', 'password']) {
      const res = await t.scim('GET', `/Users?sortBy=${sortBy}`)
      expect(res.status, sortBy).toBe(400)
      expect(await res.json(), sortBy).toMatchObject({ scimType: 'invalidValue' })
    }
    expect((await t.scim('GET', '/Groups?sortBy=userName')).status).toBe(400)
  })
})
