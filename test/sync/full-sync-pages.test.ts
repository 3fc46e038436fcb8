/**
 * A full sync over more users than one page (500), with 32 in flight across page boundaries:
 * every user arrives once, every created user is linked, and a remote that dies mid-sync
 * leaves no created user unlinked (the pages left unfinished write their links too), so the
 * next full sync creates only what is missing and sends no second create for anyone.
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, requestFullSync, worker } from './support.js'

const USERS = 1100

describe('full sync over several pages', () => {
  it('pushes and links every user, and a remote that dies mid-sync loses no link', async () => {
    const t = await createTestApp()
    for (let i = 0; i < USERS; i++) {
      const res = await t.scim('POST', '/Users', { userName: `user${i}` })
      expect(res.status).toBe(201)
    }
    const target = await startMemoryTarget({ downAfterWrites: 700 })
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()

    const linked = async () =>
      (
        await t.runtime.deps.db
          .selectFrom('provider_users')
          .select(['user_id', 'remote_id'])
          .where('provider_id', '=', pk)
          .where('remote_id', 'is not', null)
          .execute()
      ).map((r) => r.remote_id as string)
    // The remote died after about 700 writes: each user it holds is linked, none twice.
    const partial = target.users.size
    expect(partial).toBeGreaterThanOrEqual(700)
    expect(partial).toBeLessThan(USERS)
    expect((await linked()).sort()).toEqual([...target.users.keys()].sort())

    target.quirks.downAfterWrites = undefined
    await requestFullSync(t, pk)
    await w.runOnce()
    const names = [...target.users.values()].map((u) => u.userName as string)
    expect(names).toHaveLength(USERS + 1) // and the bootstrap admin
    expect(new Set(names).size).toBe(names.length)
    expect((await linked()).sort()).toEqual([...target.users.keys()].sort())
    // Nobody was created twice (no create answered 409 and was linked by its filter).
    const userCreates = target.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/Users') && r.status !== 503,
    )
    expect(userCreates.every((r) => r.status === 201)).toBe(true)
    expect(userCreates).toHaveLength(USERS + 1)
  })
})
