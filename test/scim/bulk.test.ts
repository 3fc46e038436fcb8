import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const BASE_PATH = 'http://scimd.test/source/scim/test/v2'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

async function bulk(
  t: TestApp,
  operations: unknown[],
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Json }> {
  const res = await t.scim('POST', '/Bulk', { schemas: [BULK], ...extra, Operations: operations })
  return { status: res.status, body: (await res.json()) as Json }
}

const postUser = (bulkId: string, userName: string, more: Record<string, unknown> = {}) => ({
  method: 'POST',
  path: '/Users',
  bulkId,
  data: { schemas: [USER], userName, ...more },
})

const postGroup = (bulkId: string, displayName: string, members: string[] = []) => ({
  method: 'POST',
  path: '/Groups',
  bulkId,
  data: { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) },
})

async function get(t: TestApp, location: string): Promise<Json> {
  const res = await t.scim('GET', location.slice(BASE_PATH.length))
  expect(res.status).toBe(200)
  return (await res.json()) as Json
}

async function count(t: TestApp, endpoint: '/Users' | '/Groups'): Promise<number> {
  return ((await (await t.scim('GET', endpoint)).json()) as Json).totalResults
}

describe('POST /Bulk', () => {
  it('creates users and a group whose members refer to them by bulkId, forward too', async () => {
    const t = await createTestApp()
    // The group comes first and refers to users created after it (RFC 7644 §3.7.2).
    const { status, body } = await bulk(t, [
      postGroup('g', 'Tour Guides', ['bulkId:alice', 'bulkId:bob']),
      postUser('alice', 'alice@example.com'),
      postUser('bob', 'bob@example.com'),
    ])
    expect(status).toBe(200)
    expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:BulkResponse'])
    const [g, alice, bob] = body.Operations
    expect(alice).toMatchObject({
      method: 'POST',
      bulkId: 'alice',
      status: '201',
      version: 'W/"1"',
    })
    expect(bob).toMatchObject({ method: 'POST', bulkId: 'bob', status: '201' })
    expect(g).toMatchObject({ method: 'POST', bulkId: 'g', status: '201' })
    expect(alice.location).toMatch(new RegExp(`^${BASE_PATH}/Users/[0-9a-f-]{36}$`))
    expect(g.location).toMatch(new RegExp(`^${BASE_PATH}/Groups/[0-9a-f-]{36}$`))
    expect(g).not.toHaveProperty('response')
    const group = await get(t, g.location)
    expect(group.members.map((m: Json) => m.value).sort()).toEqual(
      [alice.location.split('/').pop(), bob.location.split('/').pop()].sort(),
    )
    expect((await get(t, alice.location)).userName).toBe('alice@example.com')
  })

  it('resolves bulkId in a path, and runs PUT, PATCH and DELETE with their statuses', async () => {
    const t = await createTestApp()
    const { body } = await bulk(t, [
      {
        method: 'PATCH',
        path: '/Users/bulkId:u',
        data: {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: 'displayName', value: 'Patched' }],
        },
      },
      postUser('u', 'u@example.com'),
      postGroup('g', 'Group G'),
      {
        method: 'PUT',
        path: '/Groups/bulkId:g',
        data: { schemas: [GROUP], displayName: 'Group G2', members: [{ value: 'bulkId:u' }] },
      },
      { method: 'DELETE', path: '/Groups/bulkId:g' },
    ])
    const [patch, post, , put, del] = body.Operations
    expect(post.status).toBe('201')
    expect(patch).toMatchObject({ method: 'PATCH', status: '200', version: 'W/"2"' })
    expect(patch.location).toBe(post.location)
    expect((await get(t, post.location)).displayName).toBe('Patched')
    expect(put).toMatchObject({ method: 'PUT', status: '200', version: 'W/"2"' })
    expect(del).toMatchObject({ method: 'DELETE', status: '204' })
    expect(del).not.toHaveProperty('response')
    expect(await count(t, '/Groups')).toBe(0)
  })

  it('refuses circular bulkId references with 409 and creates nothing of them', async () => {
    const t = await createTestApp()
    const { status, body } = await bulk(t, [
      postGroup('a', 'A', ['bulkId:b']),
      postGroup('b', 'B', ['bulkId:a']),
      postGroup('c', 'C', ['bulkId:c']),
      postGroup('d', 'D', ['bulkId:a']),
      postUser('ok', 'ok@example.com'),
    ])
    expect(status).toBe(200)
    const ops = body.Operations
    expect(ops.map((o: Json) => [o.bulkId, o.status])).toEqual([
      ['a', '409'],
      ['b', '409'],
      ['c', '409'],
      ['d', '409'],
      ['ok', '201'],
    ])
    expect(ops[0].response).toMatchObject({ status: '409' })
    expect(ops[0].response.detail).toMatch(/Circular bulkId references/)
    expect(ops[0]).not.toHaveProperty('location')
    expect(await count(t, '/Groups')).toBe(0)
  })

  it('fails what refers to a failed POST, and goes on with the rest', async () => {
    const t = await createTestApp()
    const { body } = await bulk(t, [
      postUser('first', 'same@example.com'),
      postUser('dup', 'SAME@example.com'),
      postGroup('g', 'Needs dup', ['bulkId:dup']),
      postUser('last', 'last@example.com'),
    ])
    const ops = body.Operations
    expect(ops.map((o: Json) => o.status)).toEqual(['201', '409', '409', '201'])
    expect(ops[1].response).toMatchObject({ status: '409', scimType: 'uniqueness' })
    expect(ops[2].response.detail).toMatch(/bulkId 'dup'/)
    expect(await count(t, '/Users')).toBe(2)
    expect(await count(t, '/Groups')).toBe(0)
  })

  it('stops after failOnErrors errors and reports only what ran', async () => {
    const t = await createTestApp()
    const { status, body } = await bulk(
      t,
      [
        postUser('a', 'a@example.com'),
        postUser('bad1', ''),
        postUser('b', 'b@example.com'),
        postUser('bad2', ''),
        postUser('c', 'c@example.com'),
      ],
      { failOnErrors: 2 },
    )
    expect(status).toBe(200)
    expect(body.Operations.map((o: Json) => [o.bulkId, o.status])).toEqual([
      ['a', '201'],
      ['bad1', '400'],
      ['b', '201'],
      ['bad2', '400'],
    ])
    expect(await count(t, '/Users')).toBe(2)
    // An operation refused before running counts where it stands in the request.
    const again = await bulk(
      t,
      [postUser('c', 'c@example.com'), { method: 'GET', path: '/Users' }, postUser('d', 'd@x')],
      { failOnErrors: 1 },
    )
    expect(again.body.Operations.map((o: Json) => o.status)).toEqual(['201', '400'])
    expect(await count(t, '/Users')).toBe(3)
  })

  it('keeps each operation all or nothing: a PATCH whose last op fails changes nothing', async () => {
    const t = await createTestApp()
    const created = await bulk(t, [postUser('u', 'u@example.com', { displayName: 'Before' })])
    const location = created.body.Operations[0].location as string
    const id = location.split('/').pop()
    const { body } = await bulk(t, [
      {
        method: 'PATCH',
        path: `/Users/${id}`,
        data: {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'replace', path: 'displayName', value: 'After' },
            { op: 'replace', path: 'noSuchAttribute.x', value: 1 },
          ],
        },
      },
    ])
    expect(body.Operations[0]).toMatchObject({ status: '400', location })
    expect((await get(t, location)).displayName).toBe('Before')
    expect((await get(t, location)).meta.version).toBe('W/"1"')
  })

  it('applies version as If-Match: a stale one is 412, the current one passes', async () => {
    const t = await createTestApp()
    const created = await bulk(t, [postUser('u', 'u@example.com')])
    const id = (created.body.Operations[0].location as string).split('/').pop()
    const patch = (version: string) => ({
      method: 'PATCH',
      path: `/Users/${id}`,
      version,
      data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
    })
    const { body } = await bulk(t, [patch('W/"7"'), patch('W/"1"'), patch('W/"1"')])
    expect(body.Operations.map((o: Json) => o.status)).toEqual(['412', '200', '412'])
    const del = await bulk(t, [{ method: 'DELETE', path: `/Users/${id}`, version: 'W/"1"' }])
    expect(del.body.Operations[0].status).toBe('412')
  })

  it("never reaches another source's resources, by path or by member value", async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    const res = await t.raw('POST', '/source/scim/other/v2/Users', {
      body: JSON.stringify({ schemas: [USER], userName: 'theirs@example.com' }),
      headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
    })
    const theirs = ((await res.json()) as Json).id as string
    const { body } = await bulk(t, [
      { method: 'DELETE', path: `/Users/${theirs}` },
      {
        method: 'PATCH',
        path: `/Users/${theirs}`,
        data: {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        },
      },
      postGroup('g', 'Mine', [theirs]),
    ])
    expect(body.Operations.map((o: Json) => o.status)).toEqual(['404', '404', '400'])
    const still = await t.raw('GET', `/source/scim/other/v2/Users/${theirs}`, {
      headers: { Authorization: `Bearer ${other.key}` },
    })
    expect(still.status).toBe(200)
    expect(((await still.json()) as Json).meta.version).toBe('W/"1"')
  })

  it('refuses bad operations one by one with a clear error', async () => {
    const t = await createTestApp()
    const { status, body } = await bulk(t, [
      { method: 'GET', path: '/Users' },
      { method: 'POST', path: '/Users', data: { schemas: [USER], userName: 'x' } },
      { method: 'POST', path: '/Sources', bulkId: 's', data: {} },
      { method: 'PUT', path: '/Users', data: {} },
      { method: 'PATCH', path: '/Users/abc' },
      postUser('ref', 'ref@example.com', { displayName: 'bulkId:nowhere' }),
      postUser('x', 'x1@example.com'),
      postUser('x', 'x2@example.com'),
      'not an object',
    ])
    expect(status).toBe(200)
    const ops = body.Operations
    expect(ops.map((o: Json) => o.status)).toEqual([
      '400',
      '400',
      '400',
      '400',
      '400',
      '400',
      '201',
      '400',
      '400',
    ])
    expect(ops[2].response.scimType).toBe('invalidPath')
    expect(ops[5].response.detail).toMatch(/bulkId 'nowhere'/)
    expect(ops[7].response.detail).toMatch(/earlier POST/)
    expect(await count(t, '/Users')).toBe(1)
  })

  it('refuses a request that is not a BulkRequest', async () => {
    const t = await createTestApp()
    const noSchema = await t.scim('POST', '/Bulk', { Operations: [] })
    expect(noSchema.status).toBe(400)
    expect(await noSchema.json()).toMatchObject({ scimType: 'invalidSyntax' })
    const noOps = await t.scim('POST', '/Bulk', { schemas: [BULK] })
    expect(noOps.status).toBe(400)
    const badFail = await t.scim('POST', '/Bulk', {
      schemas: [BULK],
      failOnErrors: 0,
      Operations: [],
    })
    expect(badFail.status).toBe(400)
    expect(await badFail.json()).toMatchObject({ scimType: 'invalidValue' })
    const get = await t.scim('GET', '/Bulk')
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })

  it('advertises its limits and enforces them with 413 (RFC 7644 §3.7.4)', async () => {
    const t = await createTestApp({
      env: { SCIMD_BULK_MAX_OPERATIONS: '3', SCIMD_BULK_MAX_PAYLOAD_BYTES: '2000' },
    })
    const spc = (await (await t.scim('GET', '/ServiceProviderConfig')).json()) as Json
    expect(spc.bulk).toEqual({ supported: true, maxOperations: 3, maxPayloadSize: 2000 })
    const four = [1, 2, 3, 4].map((i) => postUser(`u${i}`, `u${i}@example.com`))
    const tooMany = await bulk(t, four)
    expect(tooMany.status).toBe(413)
    expect(tooMany.body).toMatchObject({ status: '413', scimType: 'tooMany' })
    expect(tooMany.body.detail).toMatch(/maxOperations \(3\)/)
    const big = await bulk(t, [
      postUser('big', 'big@example.com', { displayName: 'x'.repeat(3000) }),
    ])
    expect(big.status).toBe(413)
    expect(big.body.detail).toMatch(/maxPayloadSize \(2000\)/)
    expect(await count(t, '/Users')).toBe(0)
    const three = await bulk(t, four.slice(0, 3))
    expect(three.status).toBe(200)
    expect(await count(t, '/Users')).toBe(3)
  })

  it('creates a thousand users in one request', async () => {
    const t = await createTestApp()
    const operations = Array.from({ length: 1000 }, (_, i) =>
      postUser(`u${i}`, `user${i}@example.com`, { emails: [{ value: `user${i}@example.com` }] }),
    )
    const { status, body } = await bulk(t, operations)
    expect(status).toBe(200)
    expect(body.Operations.every((o: Json) => o.status === '201')).toBe(true)
    expect(new Set(body.Operations.map((o: Json) => o.location)).size).toBe(1000)
    expect(await count(t, '/Users')).toBe(1000)
    const found = await t.scim('GET', '/Users?filter=emails.value eq "user999@example.com"')
    expect(((await found.json()) as Json).totalResults).toBe(1)
  })
})
