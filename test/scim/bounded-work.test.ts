/**
 * Bounded work per request (issue 29 item 0): limits that answer 400 with a clear detail,
 * de-duplication that stays linear at the sizes that used to take minutes (checked by their
 * results: quadratic work at these sizes ran far past the test timeout), and statements that
 * bind long lists in chunks. @see issue 29
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, MAX_OBJECT_KEYS } from '../../src/http/scim-response.js'
import {
  deepEqual,
  jsonKey,
  MAX_ENTRIES,
  MAX_STRING_LENGTH,
  MAX_VALUES,
} from '../../src/scim/normalize.js'
import { MAX_PATCH_OPERATIONS } from '../../src/scim/patch/request.js'
import { createTestApp } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const emails = (n: number, repeat = 1) =>
  Array.from({ length: n * repeat }, (_, i) => ({
    value: `u${i % n}@example.com`,
    type: 'work',
  }))

async function errorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { detail: string; scimType?: string } }
}

describe('limits', () => {
  it(`refuses more than ${MAX_VALUES} values of one attribute with 400 and says so`, async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'many',
      emails: emails(MAX_VALUES + 1),
    })
    const { status, body } = await errorOf(res)
    expect(status).toBe(400)
    expect(body.scimType).toBe('invalidValue')
    expect(body.detail).toContain(`at most ${MAX_VALUES}`)
  })

  it(`refuses more than ${MAX_ENTRIES} entries of one attribute, duplicates included`, async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'copies',
      emails: emails(1, MAX_ENTRIES + 1),
    })
    const { status, body } = await errorOf(res)
    expect(status).toBe(400)
    expect(body.detail).toContain(`at most ${MAX_ENTRIES}`)
  })

  it(`keeps ${MAX_VALUES} distinct emails sent three times each, once each, in order`, async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'dupes',
      emails: emails(MAX_VALUES, 3),
    })
    expect(res.status).toBe(201)
    const user = (await res.json()) as { id: string; emails: { value: string }[] }
    expect(user.emails.map((e) => e.value)).toEqual(emails(MAX_VALUES).map((e) => e.value))
    // Every email row was written (more rows than one insert statement takes): the filter
    // finds the last one.
    const filter = encodeURIComponent(`emails.value eq "u${MAX_VALUES - 1}@example.com"`)
    const found = (await (await t.scim('GET', `/Users?filter=${filter}`)).json()) as {
      totalResults: number
    }
    expect(found.totalResults).toBe(1)
  })

  it('applies 999 filtered adds in one PATCH and refuses the one that would pass the limit', async () => {
    const t = await createTestApp()
    const created = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'patched',
      emails: [{ value: 'first@example.com', type: 'work' }],
    })
    const { id } = (await created.json()) as { id: string }
    const ops = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        op: 'add',
        path: `emails[type eq "t${from + i}"].value`,
        value: `p${from + i}@example.com`,
      }))
    const res = await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: ops(999) })
    expect(res.status).toBe(200)
    const user = (await res.json()) as { emails: { value: string; type: string }[] }
    expect(user.emails).toHaveLength(MAX_VALUES)
    expect(user.emails[999]).toEqual({ value: 'p998@example.com', type: 't998' })
    const more = await t.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: ops(1, 999),
    })
    const { status, body } = await errorOf(more)
    expect(status).toBe(400)
    expect(body.detail).toContain(`at most ${MAX_VALUES}`)
  })

  it(`refuses more than ${MAX_PATCH_OPERATIONS} PATCH operations with 400 tooMany`, async () => {
    const t = await createTestApp()
    const created = await t.scim('POST', '/Users', { schemas: [USER], userName: 'ops' })
    const { id } = (await created.json()) as { id: string }
    const Operations = Array.from({ length: MAX_PATCH_OPERATIONS + 1 }, (_, i) => ({
      op: 'replace',
      path: 'title',
      value: `t${i}`,
    }))
    const { status, body } = await errorOf(
      await t.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations }),
    )
    expect(status).toBe(400)
    expect(body.scimType).toBe('tooMany')
    expect(body.detail).toContain(String(MAX_PATCH_OPERATIONS))
  })

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with 400, however deep`, async () => {
    const t = await createTestApp()
    for (const depth of [MAX_JSON_DEPTH, 5_000, 200_000]) {
      // The lone surrogate made the old recursive check overflow the stack: a 500.
      const nested = `${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}`
      const res = await t.scim(
        'POST',
        '/Users',
        `{"schemas":["${USER}"],"userName":"n","x":${nested}}`,
      )
      const { status, body } = await errorOf(res)
      expect(status).toBe(400)
      expect(body.detail).toContain(`deeper than ${MAX_JSON_DEPTH}`)
    }
    // Brackets inside strings are not nesting.
    const res = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: `${'[{'.repeat(1000)}"\\`,
    })
    expect(res.status).toBe(201)
  })

  it(`refuses an object with more than ${MAX_OBJECT_KEYS} members, on SCIM and admin paths`, async () => {
    const t = await createTestApp()
    const keys = Array.from({ length: MAX_OBJECT_KEYS + 1 }, (_, i) => `"k${i}":1`).join(',')
    const scim = await errorOf(
      await t.scim('POST', '/Users', `{"schemas":["${USER}"],"userName":"k",${keys}}`),
    )
    expect(scim.status).toBe(400)
    expect(scim.body.detail).toContain(`more than ${MAX_OBJECT_KEYS} members`)
    const admin = await t.admin('POST', '/sources/scim/', `{"name":"x","slug":"x",${keys}}`)
    expect(admin.status).toBe(400)
    const nested = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`
    expect((await t.admin('POST', '/sources/scim/', `{"name":${nested}}`)).status).toBe(400)
  })

  it(`refuses a string longer than ${MAX_STRING_LENGTH} characters with 400`, async () => {
    const t = await createTestApp()
    const ok = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'long',
      title: 'x'.repeat(MAX_STRING_LENGTH),
    })
    expect(ok.status).toBe(201)
    const { status, body } = await errorOf(
      await t.scim('POST', '/Users', {
        schemas: [USER],
        userName: 'y'.repeat(MAX_STRING_LENGTH + 1),
      }),
    )
    expect(status).toBe(400)
    expect(body.detail).toContain(`at most ${MAX_STRING_LENGTH}`)
  })
})

describe('members, bounded by the body size only', () => {
  it('a PUT listing 600 users three times each (more than one statement) keeps each once', async () => {
    const t = await createTestApp()
    const ids: string[] = []
    for (let i = 0; i < 600; i++) {
      const res = await t.scim('POST', '/Users', { schemas: [USER], userName: `m${i}` })
      ids.push(((await res.json()) as { id: string }).id)
    }
    const created = await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'big' })
    const { id } = (await created.json()) as { id: string }
    const members = [...ids, ...ids, ...ids].map((value) => ({ value }))
    const res = await t.scim('PUT', `/Groups/${id}`, {
      schemas: [GROUP],
      displayName: 'big',
      members,
    })
    expect(res.status).toBe(200)
    const group = (await res.json()) as { members: { value: string }[] }
    expect(group.members.map((m) => m.value).sort()).toEqual([...ids].sort())
    // 20,000 entries of one member (Okta-sized lists): de-duplicated to one.
    const same = Array.from({ length: 20_000 }, () => ({ value: ids[0] }))
    const again = await t.scim('PUT', `/Groups/${id}?attributes=members`, {
      schemas: [GROUP],
      displayName: 'big',
      members: same,
    })
    expect(((await again.json()) as { members: unknown[] }).members).toEqual([
      expect.objectContaining({ value: ids[0] }),
    ])
  })
})

describe('jsonKey, the key duplicates are found by', () => {
  const json = fc.jsonValue({ maxDepth: 3 })
  it('is equal for two values exactly when deepEqual says they are', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(jsonKey(a) === jsonKey(b)).toBe(deepEqual(a, b))
      }),
    )
  })
  it('ignores key order and tells apart what only looks alike', () => {
    expect(jsonKey({ a: 1, b: [1, '2'] })).toBe(jsonKey({ b: [1, '2'], a: 1 }))
    expect(jsonKey({ a: '1' })).not.toBe(jsonKey({ a: 1 }))
    expect(jsonKey(['a,b'])).not.toBe(jsonKey(['a', 'b']))
  })
})
