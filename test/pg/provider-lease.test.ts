/**
 * Several instances on one PostgreSQL: each outbox row is claimed by one of them (`for
 * update skip locked`), and the provider's lease lets exactly one push, so nothing is sent
 * twice and a full sync never runs twice at once. PostgreSQL only.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import * as providers from '../../src/services/providers.js'
import * as sources from '../../src/services/sources.js'
import * as users from '../../src/services/users.js'
import { claimOutbox } from '../../src/store/outbox.js'
import { SyncWorker } from '../../src/sync/worker.js'
import { createScratchSchema, isPostgres, PG_URL } from '../support/pg.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'

async function twoInstances() {
  const schema = await createScratchSchema()
  const config = loadConfig({
    DATABASE_URL: PG_URL,
    SCIMD_SECRET_KEY: 'provider-lease-secret-0123456789abcdef',
    LOG_LEVEL: 'silent',
  })
  const open = () =>
    startRuntime(config, { logger: createLogger('silent'), searchPath: schema.schema })
  const one = await open()
  const two = await open()
  onTestFinished(async () => {
    await one.close()
    await two.close()
    await schema.drop()
  })
  return [one, two] as const
}

describe.skipIf(!isPostgres)('providers on several instances (PostgreSQL)', () => {
  it('claims disjoint outbox rows in concurrent transactions', async () => {
    const [one, two] = await twoInstances()
    const { source } = await sources.createSource(one.deps, { name: 'E', slug: 'e' })
    const target = await startMemoryTarget()
    const provider = await providers.createProvider(one.deps, {
      name: 't',
      url: target.url,
      token: target.token,
    })
    for (let i = 0; i < 6; i++) {
      await users.createUser(one.deps, source, { userName: `u${i}` }, { withGroups: false })
    }
    const now = '9999'
    await one.deps.db.transaction().execute(async (tx1) => {
      const first = await claimOutbox(tx1, provider.pk, now, 3)
      const second = await two.deps.db
        .transaction()
        .execute((tx2) => claimOutbox(tx2, provider.pk, now, 10))
      expect(first).toHaveLength(3)
      expect(second).toHaveLength(3)
      const ids = new Set(first.map((e) => e.id))
      expect(second.some((e) => ids.has(e.id))).toBe(false)
    })
  })

  it('pushes each change once and runs one full sync at a time, whichever instance works', async () => {
    const [one, two] = await twoInstances()
    const { source } = await sources.createSource(one.deps, { name: 'E', slug: 'e' })
    const target = await startMemoryTarget({ writeDelayMs: 5 })
    for (let i = 0; i < 40; i++) {
      await users.createUser(one.deps, source, { userName: `u${i}` }, { withGroups: false })
    }
    await providers.createProvider(one.deps, {
      name: 't',
      url: target.url,
      token: target.token,
      excludeUsersServiceAccount: true,
    })
    const w1 = new SyncWorker(one.deps, { owner: 'one', timeoutMs: 5000, maxAttempts: 3 })
    const w2 = new SyncWorker(two.deps, { owner: 'two', timeoutMs: 5000, maxAttempts: 3 })
    const adding = (async () => {
      for (let i = 40; i < 60; i++) {
        await users.createUser(two.deps, source, { userName: `u${i}` }, { withGroups: false })
      }
    })()
    for (let round = 0; round < 4; round++) await Promise.all([w1.runOnce(), w2.runOnce()])
    await adding
    // Whoever holds the lease goes on; the other stays out until it lapses.
    for (let round = 0; round < 2; round++) await Promise.all([w1.runOnce(), w2.runOnce()])
    const holders = await one.deps.db.selectFrom('providers').select('lease_owner').execute()
    expect(holders.map((h) => h.lease_owner)).toHaveLength(1)
    const names = [...target.users.values()].map((u) => String(u.userName))
    expect(names.filter((n) => /^u\d+$/.test(n)).sort()).toHaveLength(60)
    expect(new Set(names).size).toBe(names.length)
    const posts = target.requests.filter((r) => r.method === 'POST')
    expect(posts.every((p) => p.status === 201)).toBe(true)
    expect(posts).toHaveLength(names.length)
  })
})
