/**
 * Providers and outbox rows never get a pk that was used before, on SQLite as on
 * PostgreSQL (identity columns never hand a value out twice). SQLite's INTEGER PRIMARY KEY
 * takes max(id) + 1: a new provider took a deleted one's pk (an API client holding that pk
 * would find another provider), and once the outbox drained, a new change could be numbered
 * below the id a full sync had noted as its start and be deleted with the changes the sync
 * had covered (outbox.ts deleteOutboxBefore). AUTOINCREMENT keeps the highest pk ever used.
 */
import { type Kysely, PostgresAdapter } from 'kysely'
import { rebuildSqliteTable, withAutoincrement } from './rebuild-sqlite-table.js'

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
