/** What every service receives: the database, its dialect, the secrets, the logger and config. */
import type { Config } from '../config.js'
import type { AuditActor } from '../core/events.js'
import type { Metrics } from '../core/metrics.js'
import type { Logger } from '../logger.js'
import { ScimError } from '../scim/errors.js'
import type { Secrets } from '../secrets.js'
import type { Db, Dialect, Tx } from '../store/database.js'
import { isRetryableConflict } from '../store/errors.js'
import type { Transactor } from '../store/transactor.js'

/** What this process keeps of the limits (services/limits.ts): blocks it has learnt of, and each source's bucket. */
export class Limits {
  /** Blocked client keys → when the block ends (ms since the epoch). */
  readonly blocked = new Map<string, number>()
  /** Each source's token bucket (sourceRateLimit). */
  readonly buckets = new Map<string, { tokens: number; at: number }>()
}

export interface Deps {
  db: Db
  /** For reads outside a transaction (store/connect.ts): never waits for a write batch. */
  reader: Db
  /** The database state `reader` sees, where known (store/connect.ts Store.readVersion). */
  readVersion(): number | undefined
  /** The state of sources and tokens, where known (Store.credentialsVersion). */
  credentialsVersion(): number | undefined
  /** Call after committing a change to sources or tokens (Store.credentialsChanged). */
  credentialsChanged(): void
  dialect: Dialect
  /** Runs write transactions (store/transactor.ts): use inTransaction. */
  transactor: Transactor
  secrets: Secrets
  logger: Logger
  config: Config
  /** Prometheus metrics (core/metrics.ts); undefined when SCIMD_METRICS=off. */
  metrics?: Metrics | undefined
  /**
   * Who acts and from where, in a request's deps (http sets it once the caller is known):
   * what its events are recorded with (services/events.ts). Absent in background work.
   */
  audit?: AuditActor
  /** Brute-force and flood limits of this process (services/limits.ts). */
  limits: Limits
}

/**
 * `deps` with some fields replaced, for one request (its audit actor) or one transaction (Bulk):
 * an object whose prototype is `deps`, not a copy of every field. Copying them per request was
 * 3 µs of every GET (a CPU profile of round 15); lookups through the prototype stay monomorphic.
 */
export function derivedDeps(deps: Deps, overrides: Partial<Deps>): Deps {
  return Object.assign(Object.create(deps) as Deps, overrides)
}

/** Thrown inside a transaction when a row changed under us; the transaction is retried. */
export class VersionConflict extends Error {
  override name = 'VersionConflict'
}

/**
 * How often a transaction is tried. Row locks (`for no key update` on the resource a request
 * changes) make conflicts rare on PostgreSQL; what remains (a deadlock the server broke, a
 * version that moved between read and write) is retried on fresh data.
 */
const MAX_ATTEMPTS = 6

/** Up to 4, 8, 16, … ms, full jitter: contenders spread out instead of colliding again. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * 2 ** (attempt + 1)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Runs `work` in one transaction (all of a request's writes, or none). A VersionConflict,
 * a PostgreSQL serialization failure or a deadlock retries the whole transaction on fresh
 * data after a short random pause; after MAX_ATTEMPTS the request is 409 and changed
 * nothing. `work` may run several times, so it must not have effects outside `tx`.
 */
export function inTransaction<T>(deps: Deps, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withRetries(deps, () => deps.transactor.run(work))
}

/**
 * Runs `run` (one transaction, or one statement that is a transaction by itself) until
 * it does not fail with a conflict, as inTransaction describes.
 */
export async function withRetries<T>(deps: Deps, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      const retryable = err instanceof VersionConflict || isRetryableConflict(err)
      if (!retryable) throw err
      if (attempt >= MAX_ATTEMPTS) {
        throw new ScimError(409, 'The resource was changed concurrently; retry the request')
      }
      deps.logger.debug('transaction retried', { attempt, reason: conflictReason(err) })
      await backoff(attempt)
    }
  }
}

/**
 * inTransaction for a change to sources or tokens: once it ends, this process's cached token
 * lookups start over (the other instances hear of it from the database).
 */
export async function inCredentialsTransaction<T>(
  deps: Deps,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  try {
    return await inTransaction(deps, work)
  } finally {
    deps.credentialsChanged()
  }
}

function conflictReason(err: unknown): string {
  if (err instanceof VersionConflict) return 'version'
  return String((err as { code?: unknown }).code)
}
