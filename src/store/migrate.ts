/** Applies db/migrations with Kysely's Migrator; on PostgreSQL under an advisory lock (Kysely's own). */
import { type Kysely, type MigrationResultSet, Migrator } from 'kysely'
import { migrations } from '../../db/migrations/index.js'
import type { Database } from './database.js'

export class MigrationError extends Error {
  override name = 'MigrationError'
}

/**
 * Migrates to the latest version. Kysely's Migrator takes a lock first (on PostgreSQL a
 * transaction-level advisory lock), so several instances starting together migrate once.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  })
  const result = await migrator.migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new MigrationError(`Migration ${failed} failed: ${String(result.error)}`)
  }
  return result
}

/** True when every known migration has been applied (readiness). */
export async function isMigrated(db: Kysely<Database>): Promise<boolean> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  const all = await migrator.getMigrations()
  return all.every((m) => m.executedAt !== undefined)
}
