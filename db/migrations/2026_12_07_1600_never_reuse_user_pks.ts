/**
 * A deleted user's pk is never given to another user. PostgreSQL's identity column never
 * hands a value out twice; SQLite's INTEGER PRIMARY KEY takes max(id) + 1, so deleting the
 * newest user gave its pk to the next one (a service account got a deleted user's pk).
 * SQLite's AUTOINCREMENT keeps the highest pk ever used in sqlite_sequence: the table is
 * rebuilt with it (SQLite cannot alter a column), keeping its rows, indexes and triggers.
 */
import { type Kysely, PostgresAdapter } from 'kysely'
import { rebuildSqliteTable, withAutoincrement } from './rebuild-sqlite-table.js'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return
  await rebuildSqliteTable(db, 'users', withAutoincrement(true))
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return
  await rebuildSqliteTable(db, 'users', withAutoincrement(false))
}
