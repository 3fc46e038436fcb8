/**
 * A group new to the remote gets its members as they are read, maxMemberOps a PATCH: every
 * member arrives, no request exceeds the limit, and the remote's (empty) member list is never
 * read. @see issue 27
 */
import { describe, expect, it } from 'vitest'
import { forgetCapabilities } from '../../src/sync/capabilities.js'
import { createTestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, worker } from './support.js'

const MEMBERS = 1100

describe('a new group over several member pages', () => {
  it('adds 1,100 members in PATCHes of at most 1,000 without reading them back', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const ids: string[] = []
    for (let i = 0; i < MEMBERS; i++) {
      const res = await t.scim('POST', '/Users', { userName: `member${i}` })
      ids.push(((await res.json()) as { id: string }).id)
    }
    const res = await t.scim('POST', '/Groups', {
      displayName: 'everyone',
      members: ids.map((value) => ({ value })),
    })
    expect(res.status).toBe(201)
    const target = await startMemoryTarget()
    await addProvider(t, target, { excludeServiceAccounts: true })
    await worker(t).runOnce()

    const group = [...target.groups.values()].find((g) => g.displayName === 'everyone')
    expect(group?.members).toHaveLength(MEMBERS)
    const remoteUserIds = new Set(target.users.keys())
    for (const m of group?.members ?? []) expect(remoteUserIds.has(m.value)).toBe(true)
    const groupPath = `/v2/Groups/${group?.id}`
    const patches = target.requests.filter((r) => r.method === 'PATCH' && r.path === groupPath)
    for (const p of patches) expect(p.status).toBeLessThan(300)
    const sizes = patches.map((p) => {
      const ops = (p.body as { Operations: { value: unknown[] }[] }).Operations
      return ops.reduce((n, op) => n + op.value.length, 0)
    })
    expect(sizes).toEqual([1000, 100])
    expect(target.requests.some((r) => r.method === 'GET' && r.path.startsWith(groupPath))).toBe(
      false,
    )
  })
})
