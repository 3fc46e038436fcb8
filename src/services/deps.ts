/** What every service receives: the database, its dialect, the secrets, the logger and config. */
import type { Kysely, Transaction } from 'kysely'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { ScimError } from '../scim/errors.js'
import type { Secrets } from '../secrets.js'
import type { Database, Dialect } from '../store/database.js'
import { isRetryableConflict } from '../store/errors.js'

export interface Deps {
  db: Kysely<Database>
  dialect: Dialect
  secrets: Secrets
  logger: Logger
  config: Config
}

/** Thrown inside a transaction when a row changed under us; the transaction is retried. */
export class VersionConflict extends Error {
  override name = 'VersionConflict'
}

const MAX_ATTEMPTS = 5

/**
 * Runs `work` in one transaction (all of a request's writes, or none). A VersionConflict
 * or a PostgreSQL serialization failure retries the whole transaction on fresh data.
 */
export async function inTransaction<T>(
  deps: Deps,
  work: (tx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction().execute(work)
    } catch (err) {
      const retryable = err instanceof VersionConflict || isRetryableConflict(err)
      if (!retryable) throw err
      if (attempt >= MAX_ATTEMPTS) {
        throw new ScimError(409, 'The resource was changed concurrently; retry the request')
      }
    }
  }
}
