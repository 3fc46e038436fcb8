/**
 * Providers and outbox rows never get a pk that was used before, on SQLite as on
 * PostgreSQL (identity columns never hand a value out twice). SQLite's INTEGER PRIMARY KEY
 * takes max(id) + 1: a new provider took a deleted one's pk (an API client holding that pk
 * would find another provider), and once the outbox drained, a new change could be numbered
 * below the id a full sync had noted as its start and be deleted with the changes the sync
 * had covered (outbox.ts deleteOutboxBefore). AUTOINCREMENT keeps the highest pk ever used.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

const TABLES = ['providers', 'outbox']

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return
  for (const table of TABLES) await rebuildSqliteTable(db, table, withAutoincrement(true))
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return
  for (const table of TABLES) await rebuildSqliteTable(db, table, withAutoincrement(false))
}

/**
 * SQLite's documented way to change a table's definition (ALTER TABLE §7), as migration
 * 2026_12_07_1600 does for users (migrations import nothing but kysely, so each keeps its
 * own copy): with foreign keys off, copy into a new table, drop the old, rename, recreate
 * its indexes and triggers, and check every foreign key before committing.
 */
async function rebuildSqliteTable(
  // biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
  db: Kysely<any>,
  table: string,
  define: (create: string) => string,
): Promise<void> {
  await db.connection().execute(async (conn) => {
    const { rows: tables } = await sql<{ sql: string }>`
      select sql from sqlite_master where type = 'table' and name = ${table}`.execute(conn)
    const create = tables[0]?.sql
    if (!create) throw new Error(`no ${table} table to rebuild`)
    const { rows: dependents } = await sql<{ sql: string }>`
      select sql from sqlite_master
      where tbl_name = ${table} and type in ('index', 'trigger') and sql is not null`.execute(conn)
    const next = `${table}_new`
    const rebuilt = define(create).replace(
      new RegExp(`^create table "?${table}"?`, 'i'),
      `create table "${next}"`,
    )
    if (rebuilt === create) throw new Error(`${table} table definition not recognised`)
    await sql`pragma foreign_keys = off`.execute(conn)
    try {
      await sql`begin immediate`.execute(conn)
      try {
        await sql.raw(rebuilt).execute(conn)
        await sql`insert into ${sql.id(next)} select * from ${sql.id(table)}`.execute(conn)
        await sql`drop table ${sql.id(table)}`.execute(conn)
        await sql`alter table ${sql.id(next)} rename to ${sql.id(table)}`.execute(conn)
        for (const { sql: statement } of dependents) await sql.raw(statement).execute(conn)
        const { rows: broken } = await sql`pragma foreign_key_check`.execute(conn)
        if (broken.length > 0) throw new Error(`foreign keys broken by the ${table} rebuild`)
        await sql`commit`.execute(conn)
      } catch (err) {
        await sql`rollback`.execute(conn)
        throw err
      }
    } finally {
      await sql`pragma foreign_keys = on`.execute(conn)
    }
  })
}

/** A table's `"id" integer primary key` with SQLite's AUTOINCREMENT added, or taken away. */
function withAutoincrement(on: boolean): (create: string) => string {
  return on
    ? (create) =>
        create.replace(
          /("id" integer (?:not null )?primary key)(?! autoincrement)/i,
          '$1 autoincrement',
        )
    : (create) => create.replace(/ autoincrement/i, '')
}
