/** Readiness: the database answers and its schema is migrated (GET /-/health/ready/). */
import { isMigrated } from '../store/migrate.js'
import type { Deps } from './deps.js'

/** False, never an error, when the database cannot be reached. */
export async function isReady(deps: Deps): Promise<boolean> {
  try {
    return await isMigrated(deps.db)
  } catch {
    return false
  }
}
