/**
 * Prepared queries (src/store/prepared.ts): built once per dialect, then run with new
 * arguments on the database or inside any of its transactions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, type Store } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { preparedQuery, preparedRowQuery } from '../../src/store/prepared.js'

let store: Store

beforeEach(async () => {
  store = connect({ kind: 'sqlite', path: ':memory:' })
  await migrateToLatest(store.db)
})

afterEach(async () => {
  await store.close()
})

interface GroupInsert {
  id: string
  name: string
  created_at: string
  last_updated: string
  attributes?: string
}

describe('preparedQuery', () => {
  it('is built once and runs with each call’s arguments, also inside a transaction', async () => {
    let builds = 0
    const insertGroup = preparedRowQuery((db, row: GroupInsert) => {
      builds++
      return db.insertInto('groups').values(row).compile()
    })
    const groupName = preparedQuery((db, id: string) => {
      builds++
      return db.selectFrom('groups').select('name').where('id', '=', id).compile()
    })
    const now = '2026-01-01T00:00:00Z'
    await insertGroup(store.db, { id: 'a', name: 'Alpha', created_at: now, last_updated: now })
    await store.db.transaction().execute(async (tx) => {
      await insertGroup(tx, { id: 'b', name: 'Beta', created_at: now, last_updated: now })
      expect(await groupName(tx, 'b')).toEqual([{ name: 'Beta' }])
    })
    expect(await groupName(store.db, 'a')).toEqual([{ name: 'Alpha' }])
    expect(await groupName(store.db, 'b')).toEqual([{ name: 'Beta' }])
    expect(await groupName(store.db, 'c')).toEqual([])
    expect(builds).toBe(2)
  })

  it('prepares a row query per set of columns, leaving undefined ones to their default', async () => {
    const insertGroup = preparedRowQuery((db, row: GroupInsert) =>
      db.insertInto('groups').values(row).compile(),
    )
    const now = '2026-01-01T00:00:00Z'
    await insertGroup(store.db, {
      id: 'a',
      name: 'A',
      created_at: now,
      last_updated: now,
      attributes: '{"x":1}',
    })
    await insertGroup(store.db, {
      id: 'b',
      name: 'B',
      created_at: now,
      last_updated: now,
      attributes: undefined,
    })
    const rows = await store.db
      .selectFrom('groups')
      .select(['id', 'attributes'])
      .where('id', 'in', ['a', 'b'])
      .orderBy('id')
      .execute()
    expect(rows).toEqual([
      { id: 'a', attributes: '{"x":1}' },
      { id: 'b', attributes: '{}' },
    ])
  })

  it('refuses a build that computes with its arguments instead of passing them on', async () => {
    const bad = preparedQuery((db, id: string) =>
      db.selectFrom('groups').select('name').where('id', 'in', [id, 'other']).compile(),
    )
    await expect(bad(store.db, 'a')).rejects.toThrow(/may only take its arguments/)
  })
})
