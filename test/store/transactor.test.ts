/**
 * Group commit (src/store/transactor.ts) on a real SQLite file: concurrent transactions share
 * one commit, each still all-or-nothing, and a promise settles only once its write is durable.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, type Store } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { preparedQuery } from '../../src/store/prepared.js'

let dir: string
let store: Store

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-transactor-'))
  store = connect({ kind: 'sqlite', path: join(dir, 'scimd.db') })
  await migrateToLatest(store.db)
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Inserts a group row (the simplest table with no foreign keys). */
const insertGroup = (name: string) => async (tx: typeof store.db) => {
  await tx
    .insertInto('groups')
    .values({ id: name, name, created_at: 'now', last_updated: 'now' })
    .execute()
  return name
}

async function groupNames(): Promise<string[]> {
  const rows = await store.reader.selectFrom('groups').select('name').orderBy('name').execute()
  return rows.map((r) => r.name).filter((n) => n.startsWith('g'))
}

describe('groupCommit', () => {
  it('commits concurrent transactions together, and settles each only after the commit', async () => {
    const events: string[] = []
    const runs = Array.from({ length: 10 }, (_, i) =>
      store.transactor
        .run(async (tx) => {
          events.push(`work ${i}`)
          // Each sees the writes of the ones before it in the batch: one transaction.
          const seen = await tx
            .selectFrom('groups')
            .select('name')
            .where('name', 'like', 'g%')
            .execute()
          await insertGroup(`g${i}`)(tx)
          return seen.length
        })
        .then((seen) => {
          events.push(`settled ${i}`)
          return seen
        }),
    )
    const seen = await Promise.all(runs)
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Every work ran before the first promise settled: they shared one commit.
    expect(events.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `work ${i}`))
    expect(await groupNames()).toHaveLength(10)
  })

  it('rolls back only the transaction that failed; the others of its batch commit', async () => {
    const results = await Promise.allSettled([
      store.transactor.run(insertGroup('g1')),
      store.transactor.run(async (tx) => {
        await insertGroup('g2')(tx)
        throw new Error('refused half-way')
      }),
      // A constraint violation: the same primary key as g1.
      store.transactor.run(insertGroup('g1')),
      store.transactor.run(insertGroup('g3')),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('refused half-way')
    expect(await groupNames()).toEqual(['g1', 'g3'])
  })

  it('runs prepared queries inside the savepoint of their work, beside builder queries', async () => {
    // Prepared queries of a batch run on the writer directly (not through Kysely's driver).
    const insertPrepared = preparedQuery((db, name: string) =>
      db
        .insertInto('groups')
        .values({ id: name, name, created_at: name, last_updated: name })
        .returning('name')
        .compile(),
    )
    const results = await Promise.allSettled([
      store.transactor.run(async (tx) => {
        await insertPrepared(tx, 'g1')
        await insertGroup('g2')(tx)
        // The builder sees the prepared write: one connection, one transaction.
        return (await tx.selectFrom('groups').select('name').where('name', '=', 'g1').execute())
          .length
      }),
      store.transactor.run(async (tx) => {
        await insertGroup('g3')(tx)
        await insertPrepared(tx, 'g4')
        throw new Error('refused half-way')
      }),
      // The same primary key as g1, from a prepared insert.
      store.transactor.run((tx) => insertPrepared(tx, 'g1')),
      store.transactor.run((tx) => insertPrepared(tx, 'g5')),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(1)
    expect(await groupNames()).toEqual(['g1', 'g2', 'g5'])
  })

  it('refuses a prepared query on a transaction that has ended, as Kysely does a builder one', async () => {
    const insertPrepared = preparedQuery((db, name: string) =>
      db
        .insertInto('groups')
        .values({ id: name, name, created_at: name, last_updated: name })
        .compile(),
    )
    let kept: typeof store.db | undefined
    await store.transactor.run(async (tx) => {
      kept = tx
      await insertPrepared(tx, 'g1')
    })
    const stale = kept as typeof store.db
    await expect(insertPrepared(stale, 'g2')).rejects.toThrow(/already committed/)
    await expect(insertGroup('g3')(stale)).rejects.toThrow(/already committed/)
    expect(await groupNames()).toEqual(['g1'])
  })

  it('runs the innocent transactions again when one ends the whole SQLite transaction', async () => {
    let attempts = 0
    const results = await Promise.allSettled([
      store.transactor.run(async (tx) => {
        attempts++
        return insertGroup('g1')(tx)
      }),
      store.transactor.run(async (tx) => {
        // What SQLite does on some errors (e.g. a full disk): the transaction is gone.
        await sql`rollback`.execute(tx)
        throw new Error('transaction lost')
      }),
      store.transactor.run(insertGroup('g2')),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    // g1's first write was lost with the transaction, so it ran again.
    expect(attempts).toBe(2)
    expect(await groupNames()).toEqual(['g1', 'g2'])
  })

  it('lets the read connection see a write as soon as its promise settles, and not before', async () => {
    let seenInside: string[] = []
    await store.transactor.run(async (tx) => {
      await insertGroup('g1')(tx)
      seenInside = await groupNames()
    })
    expect(seenInside).toEqual([])
    expect(await groupNames()).toEqual(['g1'])
  })
})
