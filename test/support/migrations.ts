/**
 * A database with no migration applied yet (in-memory SQLite, or a scratch schema on
 * DATABASE_URL), and a migrator over scimd's migrations, for tests that migrate step by step.
 */
import { type Kysely, Migrator } from 'kysely'
import { onTestFinished } from 'vitest'
import { migrations } from '../../db/migrations/index.js'
import { connect } from '../../src/store/connect.js'
import type { Database } from '../../src/store/database.js'
import { createScratchSchema, isPostgres, PG_URL } from './pg.js'

/** Closed (and the scratch schema dropped) when the test finishes. */
export async function openUnmigrated(): Promise<{ db: Kysely<Database>; migrator: Migrator }> {
  const scratch = isPostgres ? await createScratchSchema() : undefined
  const store = isPostgres
    ? connect({ kind: 'postgres', url: PG_URL }, { searchPath: scratch?.schema as string })
    : connect({ kind: 'sqlite', path: ':memory:' })
  onTestFinished(async () => {
    await store.close()
    await scratch?.drop()
  })
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    ...(scratch ? { migrationTableSchema: scratch.schema } : {}),
  })
  return { db: store.db, migrator }
}
