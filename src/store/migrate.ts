/** Applies db/migrations with Kysely's Migrator; on PostgreSQL under an advisory lock (Kysely's own). */
import { type Kysely, type MigrationResultSet, Migrator, PostgresAdapter, sql } from 'kysely'
import { migrations } from '../../db/migrations/index.js'
import type { Database } from './database.js'

export class MigrationError extends Error {
  override name = 'MigrationError'
}

/**
 * The schema the migration bookkeeping tables live in. On PostgreSQL it must be named:
 * without it Kysely's Migrator asks "does a table kysely_migration exist?" across every
 * schema of the database, so a second scimd schema (another deployment, or each test's
 * own) would be taken as migrated. The current schema is the first of the search_path.
 */
async function migrationSchema(db: Kysely<Database>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return undefined
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    db,
  )
  const schema = rows[0]?.schema
  if (!schema) {
    throw new MigrationError(
      'PostgreSQL has no current schema: the search_path names no existing schema',
    )
  }
  return schema
}

async function createMigrator(db: Kysely<Database>): Promise<Migrator> {
  const schema = await migrationSchema(db)
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
}

/**
 * Migrates to the latest version. On PostgreSQL, Kysely's Migrator holds a session-level
 * advisory lock (pg_advisory_lock) around the whole run and reads the applied migrations
 * only once it holds it, so several instances starting together migrate once: the others
 * wait, then find nothing left to do. On SQLite the migration transaction's write lock
 * serialises processes sharing one file.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const migrator = await createMigrator(db)
  const result = await migrator.migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new MigrationError(`Migration ${failed} failed: ${String(result.error)}`)
  }
  return result
}

/** True when every known migration has been applied (readiness). */
export async function isMigrated(db: Kysely<Database>): Promise<boolean> {
  const migrator = await createMigrator(db)
  const all = await migrator.getMigrations()
  return all.every((m) => m.executedAt !== undefined)
}

/** The names of the migrations applied to this database, in order. */
export async function appliedMigrations(db: Kysely<Database>): Promise<string[]> {
  const migrator = await createMigrator(db)
  const all = await migrator.getMigrations()
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name)
}
