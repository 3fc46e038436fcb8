/**
 * How write transactions reach the database. PostgreSQL runs each in its own transaction on a
 * pooled connection. SQLite has one writer, so concurrent requests' transactions already run
 * one after another; group commit runs the ones that are waiting together in one SQLite
 * transaction, each in its own savepoint, and pays the commit (writing every page it touched
 * to the WAL) once per batch instead of once per request.
 */
import { type ControlledTransaction, type Kysely, sql, type Transaction } from 'kysely'
import type { Database } from './database.js'
import { type DirectRunner, directRunnerOf, runDirectly } from './prepared.js'

/**
 * A transaction's work. Its queries must run one after another (each awaited before the
 * next, none left running when it settles): within a group commit its savepoint is
 * released or rolled back as soon as its promise settles, so a query still in flight then
 * would land outside it.
 */
export type TransactionWork<T> = (tx: Transaction<Database>) => Promise<T>

export interface Transactor {
  /**
   * Runs `work` in a transaction: all of its writes are committed, or none. The promise
   * settles after the commit. `work` may run more than once (see groupCommit), so it must not
   * have effects outside `tx`.
   */
  run<T>(work: TransactionWork<T>): Promise<T>
  /** Resolves when no transaction of this transactor is open (at once when none is). */
  idle(): Promise<void>
}

/** One transaction per call: what PostgreSQL's row locks and pooled connections want. */
export function transactionPerCall(db: Kysely<Database>): Transactor {
  return {
    run: (work) => db.transaction().execute(work),
    idle: () => Promise.resolve(),
  }
}

interface Pending {
  work: TransactionWork<unknown>
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** Largest batch: bounds how long one commit makes the first request of a batch wait. */
const MAX_BATCH = 64

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Group commit for SQLite's single connection. Requests queue their work; while one batch
 * runs, the next ones queue up behind it and become the next batch. Within a batch each
 * work runs in a savepoint: a work that throws is rolled back to its savepoint and fails
 * alone, the others commit. Each request's promise settles only after its batch committed,
 * so a 2xx answer still means the write is in the database.
 *
 * If SQLite abandons the whole transaction (it does on some errors, e.g. a full disk), the
 * work that caused it fails and the others of the batch, whose writes were lost with it,
 * run again in the next batch.
 *
 * `direct` runs SQL on the connection itself. A batch's transaction owns the connection
 * until it ends, so the savepoints of works that succeed and the prepared queries of its
 * works (prepared.ts) run that way, without Kysely's driver: its promise hops were a tenth
 * of a create's CPU time (perf).
 */
export function groupCommit(
  db: Kysely<Database>,
  { maxBatch = MAX_BATCH, direct }: { maxBatch?: number; direct?: DirectRunner } = {},
): Transactor {
  const queue: Pending[] = []
  let draining: Promise<void> | undefined

  const runBatch = async (batch: Pending[]): Promise<void> => {
    const trx = await db.startTransaction().execute()
    // Refused once the transaction has ended, as Kysely refuses a builder query then: a
    // work that kept `tx` must not write outside it (or into a later batch).
    let open = true
    const onConnection: DirectRunner | undefined =
      direct &&
      ((statement, parameters) => {
        if (!open) throw new Error('Transaction is already committed or rolled back')
        return direct(statement, parameters)
      })
    if (onConnection) runDirectly(trx, onConnection)
    let settle: () => void
    try {
      settle = await runWorks(trx, batch, onConnection)
    } finally {
      open = false
    }
    // Only now: a work's caller resumes as its promise settles and may still hold `tx`.
    settle()
  }

  /** Runs a batch's works and ends its transaction; returns how to settle their promises. */
  const runWorks = async (
    trx: ControlledTransaction<Database>,
    batch: Pending[],
    onConnection: DirectRunner | undefined,
  ): Promise<() => void> => {
    const viaKysely = async (statement: string) => void (await sql.raw(statement).execute(trx))
    const savepoint = onConnection
      ? async (statement: string) => void onConnection(statement, [])
      : viaKysely
    const succeeded: Array<{ item: Pending; value: unknown }> = []
    const failed: Array<{ item: Pending; error: unknown }> = []
    for (const [index, item] of batch.entries()) {
      try {
        await savepoint('savepoint scimd_request')
        const value = await item.work(trx)
        await savepoint('release scimd_request')
        succeeded.push({ item, value })
      } catch (error) {
        failed.push({ item, error })
        try {
          // Through Kysely, so that it runs after any query of the work still queued there.
          await viaKysely('rollback to scimd_request')
          await viaKysely('release scimd_request')
        } catch {
          // SQLite abandoned the transaction: the works that succeeded lost their writes
          // with it and run again, as do the ones that have not run yet.
          await trx
            .rollback()
            .execute()
            .catch(() => undefined)
          queue.unshift(...succeeded.map((s) => s.item), ...batch.slice(index + 1))
          return () => {
            for (const f of failed) f.item.reject(f.error)
          }
        }
      }
    }
    try {
      await trx.commit().execute()
    } catch (error) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined)
      return () => {
        for (const item of batch) item.reject(error)
      }
    }
    return () => {
      for (const s of succeeded) s.item.resolve(s.value)
      for (const f of failed) f.item.reject(f.error)
    }
  }

  const drain = async (): Promise<void> => {
    try {
      // Each batch starts after the event loop has read what arrived meanwhile (setImmediate
      // runs after the I/O poll), so the requests of one loop turn share one commit.
      for (;;) {
        await nextTurn()
        if (queue.length === 0) break
        const batch = queue.splice(0, maxBatch)
        try {
          await runBatch(batch)
        } catch (error) {
          // Beginning the transaction failed: nothing of the batch ran.
          for (const item of batch) item.reject(error)
        }
      }
    } finally {
      draining = undefined
    }
  }

  return {
    run<T>(work: TransactionWork<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
        draining ??= drain()
      })
    },
    idle: () => draining ?? Promise.resolve(),
  }
}

/**
 * Thrown by a nested transactor when the transaction around it can no longer be used (SQLite
 * abandoned it, the connection broke): nothing of it will commit, so the caller must not go
 * on as if only one piece had failed.
 */
export class TransactionAborted extends Error {
  override name = 'TransactionAborted'
  constructor(cause: unknown) {
    super('The transaction was aborted', { cause })
  }
}

let savepoints = 0

/**
 * A Transactor whose transactions are savepoints of the open transaction `tx`: each `run` is
 * all or nothing on its own, and all of them commit (or not) with `tx`. It is how one
 * request runs many independent changes (Bulk, RFC 7644 §3.7) through the same service
 * functions as single requests, paying one commit for all of them.
 */
export function nestedTransactor(tx: Transaction<Database>): Transactor {
  const statement = async (text: string) => {
    // A group commit's transaction runs SQL on its connection directly (see groupCommit).
    const direct = directRunnerOf(tx)
    if (direct) direct(text, [])
    else await sql.raw(text).execute(tx)
  }
  return {
    async run<T>(work: TransactionWork<T>): Promise<T> {
      const name = `scimd_nested_${++savepoints}`
      await statement(`savepoint ${name}`)
      let value: T
      try {
        value = await work(tx)
      } catch (error) {
        try {
          // Through Kysely, so that it runs after any query of the work still queued there.
          await sql.raw(`rollback to ${name}`).execute(tx)
          await sql.raw(`release ${name}`).execute(tx)
        } catch (rollbackError) {
          throw new TransactionAborted(rollbackError)
        }
        throw error
      }
      await statement(`release ${name}`)
      return value
    },
    idle: () => Promise.resolve(),
  }
}
