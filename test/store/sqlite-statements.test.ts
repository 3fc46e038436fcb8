/**
 * The SQLite statement cache (src/store/sqlite/statements.ts) on real SQLite: rows built in
 * JS from raw arrays must be the objects better-sqlite3 itself would have made, through
 * Kysely, through its driver's streaming, and after a schema change re-prepares a kept
 * statement.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { withStatementCache } from '../../src/store/sqlite/statements.js'

let dir: string
let sqlite: SQLite.Database

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-statements-'))
  sqlite = new SQLite(join(dir, 'test.db'))
  sqlite.exec(`create table t (id integer primary key, name text, score real, data blob);
    insert into t values (1, 'one', 1.5, x'01'), (2, null, null, null)`)
})

afterEach(() => {
  sqlite.close()
  rmSync(dir, { recursive: true, force: true })
})

/** What better-sqlite3 returns for `query` on its own. */
function plainRows(query: string, ...parameters: unknown[]): unknown[] {
  return sqlite.prepare(query).all(...parameters)
}

describe('rows of a kept statement', () => {
  it('are the objects better-sqlite3 makes, every type and null included', () => {
    const statements = withStatementCache(sqlite)
    const query = 'select id, name, score, data, id * 2 as twice from t order by id'
    const rows = statements.prepare(query).all([])
    expect(rows).toStrictEqual(plainRows(query))
    expect(rows).toStrictEqual([
      { id: 1, name: 'one', score: 1.5, data: Buffer.from([1]), twice: 2 },
      { id: 2, name: null, score: null, data: null, twice: 4 },
    ])
    // Kept: the second run reuses the statement, and builds the rows the same way.
    expect(statements.prepare(query).all([])).toStrictEqual(rows)
  })

  it('keep the last value of a name that appears twice, as better-sqlite3 does', () => {
    const query = 'select id as x, name as x from t where id = 1'
    expect(withStatementCache(sqlite).prepare(query).all([])).toStrictEqual(plainRows(query))
    expect(plainRows(query)).toStrictEqual([{ x: 'one' }])
  })

  it('come as objects through Kysely, streamed or not, and writes still run', async () => {
    const db = new Kysely<{ t: { id: number; name: string | null } }>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    })
    const inserted = await db
      .insertInto('t')
      .values({ id: 3, name: 'three' })
      .returning(['id', 'name'])
      .execute()
    expect(inserted).toStrictEqual([{ id: 3, name: 'three' }])
    const updated = await db.updateTable('t').set({ name: 'uno' }).where('id', '=', 1).execute()
    expect(updated[0]?.numUpdatedRows).toBe(1n)
    const streamed: unknown[] = []
    for await (const row of db.selectFrom('t').select(['id', 'name']).orderBy('id').stream()) {
      streamed.push(row)
    }
    expect(streamed).toStrictEqual([
      { id: 1, name: 'uno' },
      { id: 2, name: null },
      { id: 3, name: 'three' },
    ])
    const { rows } = await sql`select count(*) as n from t`.execute(db)
    expect(rows).toStrictEqual([{ n: 3 }])
  })

  it('follow a schema change another connection makes under a kept `select *`', () => {
    const statements = withStatementCache(sqlite)
    const query = 'select * from t where id = 1'
    expect(statements.prepare(query).all([])).toStrictEqual(plainRows(query))
    const other = new SQLite(join(dir, 'test.db'))
    try {
      other.exec(`alter table t add column extra text default 'x'`)
    } finally {
      other.close()
    }
    const rows = statements.prepare(query).all([])
    expect(rows).toStrictEqual(plainRows(query))
    expect(rows).toStrictEqual([
      { id: 1, name: 'one', score: 1.5, data: Buffer.from([1]), extra: 'x' },
    ])
  })
})
