/**
 * Long member lists in one request: added, re-added and refused as a whole, whatever pieces
 * the statements cut them into (store/prepared.ts, listPieces). @see issue 27
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function users(t: TestApp, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, async (_, k) => {
      const res = await t.scim('POST', '/Users', { userName: `member${i + k}` })
      return ((await res.json()) as { id: string }).id
    })
    ids.push(...(await Promise.all(batch)))
  }
  return ids
}

const add = (ids: readonly string[]) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }],
})

async function group(t: TestApp, id: string) {
  const res = await t.scim('GET', `/Groups/${id}`)
  const body = (await res.json()) as { members?: { value: string }[] }
  return { etag: res.headers.get('ETag'), members: (body.members ?? []).map((m) => m.value) }
}

describe('long member lists', () => {
  it('adds 700 members in one PATCH, then only the new ones of a longer list', async () => {
    const t = await createTestApp()
    const ids = await users(t, 750)
    const { id } = (await (await t.scim('POST', '/Groups', { displayName: 'many' })).json()) as {
      id: string
    }
    expect((await t.scim('PATCH', `/Groups/${id}`, add(ids.slice(0, 700)))).status).toBe(204)
    const first = await group(t, id)
    expect(new Set(first.members)).toEqual(new Set(ids.slice(0, 700)))

    // 600 members already there and 50 new ones: the group holds 750, and it changed.
    expect((await t.scim('PATCH', `/Groups/${id}`, add(ids.slice(100)))).status).toBe(204)
    const second = await group(t, id)
    expect(new Set(second.members)).toEqual(new Set(ids))
    expect(second.etag).not.toBe(first.etag)

    // All 750 again: nothing is added, so the version stays (a client's If-Match still holds).
    expect((await t.scim('PATCH', `/Groups/${id}`, add(ids))).status).toBe(204)
    expect((await group(t, id)).etag).toBe(second.etag)
  })

  it('refuses a 700-member add whose last id is unknown, and adds none of it', async () => {
    const t = await createTestApp()
    const ids = await users(t, 699)
    const { id } = (await (await t.scim('POST', '/Groups', { displayName: 'refused' })).json()) as {
      id: string
    }
    const res = await t.scim('PATCH', `/Groups/${id}`, add([...ids, 'no-such-member']))
    expect(res.status).toBe(400)
    expect(((await res.json()) as { detail: string }).detail).toContain('no-such-member')
    expect((await group(t, id)).members).toEqual([])
  })
})
