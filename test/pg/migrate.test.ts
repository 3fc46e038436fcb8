/**
 * Migrations on a shared PostgreSQL: instances starting together migrate once, and each
 * schema is migrated on its own (issue 7). PostgreSQL only.
 */
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { migrations } from '../../db/migrations/index.js'
import { connect, type Store } from '../../src/store/connect.js'
import { isMigrated, migrateToLatest } from '../../src/store/migrate.js'
import { createScratchDatabase, isPostgres, PG_ONLY, type ScratchDatabase } from '../support/pg.js'

const MIGRATION_COUNT = Object.keys(migrations).length

describe.skipIf(!isPostgres)(`migrations on a shared database (${PG_ONLY})`, () => {
  let database: ScratchDatabase | undefined
  let stores: Store[] = []

  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close()))
    stores = []
    await database?.drop()
    database = undefined
  })

  function open(url: string, searchPath?: string): Store {
    const store = connect({ kind: 'postgres', url }, searchPath ? { searchPath } : {})
    stores.push(store)
    return store
  }

  it('applies each migration once when six instances migrate at the same moment', async () => {
    database = await createScratchDatabase()
    const url = database.url
    const contenders = Array.from({ length: 6 }, () => open(url))
    const results = await Promise.all(contenders.map((s) => migrateToLatest(s.db)))

    const ran = results.map((r) => (r.results ?? []).filter((m) => m.status === 'Success').length)
    expect(ran.filter((n) => n > 0)).toEqual([MIGRATION_COUNT])
    expect(ran.filter((n) => n === 0)).toHaveLength(5)
    const { rows } = await sql<{ n: string }>`select count(*) as n from kysely_migration`.execute(
      contenders[0]?.db as Store['db'],
    )
    expect(Number(rows[0]?.n)).toBe(MIGRATION_COUNT)
    for (const s of contenders) expect(await isMigrated(s.db)).toBe(true)
  })

  it('migrates a schema of its own although another schema of the database is migrated', async () => {
    database = await createScratchDatabase()
    const url = database.url
    const admin = open(url)
    await sql`create schema tenant_a`.execute(admin.db)
    await sql`create schema tenant_b`.execute(admin.db)
    const a = open(url, 'tenant_a')
    const b = open(url, 'tenant_b')

    await migrateToLatest(a.db)
    expect(await isMigrated(a.db)).toBe(true)
    expect(await isMigrated(b.db)).toBe(false)
    await migrateToLatest(b.db)
    expect(await isMigrated(b.db)).toBe(true)

    const { rows } = await sql<{ schema: string }>`
      select table_schema as schema from information_schema.tables
      where table_name = 'scim_source_users' order by 1`.execute(admin.db)
    expect(rows.map((r) => r.schema)).toEqual(['tenant_a', 'tenant_b'])
    // Introspection sees only the current schema.
    const tables = await b.db.introspection.getTables()
    expect(new Set(tables.map((t) => t.schema))).toEqual(new Set(['tenant_b']))
    expect(tables.map((t) => t.name)).toContain('scim_source_users')
    expect(tables.map((t) => t.name)).not.toContain('kysely_migration')
  })
})
