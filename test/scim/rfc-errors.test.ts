/**
 * RFC 7644 §3.12: each scimType scimd answers, on the request the RFC names it for, and the
 * one rule for empty multi-valued attributes (RFC 7643 §2.5). docs/compatibility.md lists
 * where scimd still answers differently.
 * @see issue 25
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

async function user(t: TestApp, userName: string, more: Json = {}): Promise<Json> {
  const res = await t.scim('POST', '/Users', { schemas: [USER], userName, ...more })
  expect(res.status).toBe(201)
  return (await res.json()) as Json
}

const patch = (t: TestApp, path: string, ...operations: Json[]) =>
  t.scim('PATCH', path, { schemas: [PATCH_OP], Operations: operations })

async function expectError(res: Response, status: number, scimType?: string): Promise<void> {
  const body = (await res.json()) as Json
  expect(res.status, JSON.stringify(body)).toBe(status)
  expect(body.status).toBe(String(status))
  if (scimType) expect(body.scimType).toBe(scimType)
  else expect(body).not.toHaveProperty('scimType')
}

describe('RFC 7644 §3.12 scimType values', () => {
  it('noTarget: a remove without path (§3.5.2.2), and a replace whose filter matches nothing', async () => {
    const t = await createTestApp()
    const u = await user(t, 'a', { emails: [{ value: 'a@example.com', type: 'work' }] })
    await expectError(await patch(t, `/Users/${u.id}`, { op: 'remove' }), 400, 'noTarget')
    await expectError(
      await patch(t, `/Users/${u.id}`, {
        op: 'replace',
        path: 'emails[type eq "home"].value',
        value: 'x@example.com',
      }),
      400,
      'noTarget',
    )
  })

  it('invalidFilter, invalidPath, invalidSyntax, invalidValue, mutability, uniqueness', async () => {
    const t = await createTestApp()
    const u = await user(t, 'a')
    await expectError(await t.scim('GET', '/Users?filter=userName%20eq'), 400, 'invalidFilter')
    await expectError(await t.scim('GET', '/Users?filter=nope%20eq%201'), 400, 'invalidFilter')
    await expectError(
      await patch(t, `/Users/${u.id}`, { op: 'replace', path: 'emails[', value: 1 }),
      400,
      'invalidPath',
    )
    await expectError(
      await patch(t, `/Users/${u.id}`, { op: 'jump', path: 'x' }),
      400,
      'invalidSyntax',
    )
    await expectError(await t.scim('POST', '/Users', '{"userName":'), 400, 'invalidSyntax')
    await expectError(
      await t.scim('POST', '/Users', { schemas: [USER], userName: 'b', active: 'maybe' }),
      400,
      'invalidValue',
    )
    await expectError(await t.scim('POST', '/Groups', { schemas: [GROUP] }), 400, 'invalidValue')
    await expectError(
      await patch(t, `/Users/${u.id}`, { op: 'replace', path: 'id', value: 'x' }),
      400,
      'mutability',
    )
    await expectError(
      await t.scim('POST', '/Users', { schemas: [USER], userName: 'A' }),
      409,
      'uniqueness',
    )
  })

  it('tooMany: more PATCH operations than scimd takes', async () => {
    const t = await createTestApp()
    const u = await user(t, 'a')
    const operations = Array.from({ length: 1001 }, () => ({
      op: 'replace',
      path: 'displayName',
      value: 'x',
    }))
    await expectError(await patch(t, `/Users/${u.id}`, ...operations), 400, 'tooMany')
  })

  it('statuses without a scimType: 404, 405, 412, 501', async () => {
    const t = await createTestApp()
    const u = await user(t, 'a')
    await expectError(await t.scim('GET', '/Users/nope'), 404)
    await expectError(await t.scim('DELETE', '/Users'), 405)
    await expectError(
      await t.scim('DELETE', `/Users/${u.id}`, undefined, { 'If-Match': 'W/"9"' }),
      412,
    )
    await expectError(await t.scim('GET', '/Me'), 501)
  })
})

describe('empty multi-valued attributes (RFC 7643 §2.5)', () => {
  it('are omitted from every response, whichever attribute and however they became empty', async () => {
    const t = await createTestApp()
    const u = await user(t, 'a', { emails: [], phoneNumbers: [] })
    expect(u).not.toHaveProperty('emails')
    expect(u).not.toHaveProperty('phoneNumbers')
    expect(u).not.toHaveProperty('groups')
    const emptied = await patch(t, `/Users/${u.id}`, {
      op: 'add',
      path: 'emails',
      value: [{ value: 'a@example.com' }],
    })
    expect(((await emptied.json()) as Json).emails).toHaveLength(1)
    const removed = await patch(t, `/Users/${u.id}`, {
      op: 'remove',
      path: 'emails[value eq "a@example.com"]',
    })
    expect(await removed.json()).not.toHaveProperty('emails')

    const created = await t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'G',
      members: [],
    })
    const group = (await created.json()) as Json
    expect(group).not.toHaveProperty('members')
    expect(await (await t.scim('GET', `/Groups/${group.id}`)).json()).not.toHaveProperty('members')
    const listed = (await (await t.scim('GET', '/Groups?attributes=members')).json()) as Json
    expect(listed.Resources[0]).not.toHaveProperty('members')
    const read = (await (await t.scim('GET', `/Users/${u.id}?attributes=groups`)).json()) as Json
    expect(read).not.toHaveProperty('groups')
  })
})
