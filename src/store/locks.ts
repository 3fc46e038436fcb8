/**
 * Locks that keep several scimd instances on one PostgreSQL correct; on SQLite, where one
 * writer at a time is the rule already, they are no-ops.
 */
import { sql } from 'kysely'
import { foldCase } from '../scim/filter/semantics.js'
import { dialectOf, type Executor } from './database.js'

/** Whether the executor's database takes row and advisory locks (PostgreSQL). */
export function hasRowLocks(db: Executor): boolean {
  return dialectOf(db) === 'postgres'
}

/**
 * Takes a transaction-level advisory lock named `name` (released at commit or rollback), so
 * that check-then-insert work with no unique index to lean on, such as creating the
 * bootstrap admin, runs in one transaction at a time across every instance. Must be called
 * inside a transaction. Under READ COMMITTED each later statement sees what the previous
 * holder committed.
 */
export async function lockExclusive(db: Executor, name: string): Promise<void> {
  if (!hasRowLocks(db)) return
  await sql`select pg_advisory_xact_lock(hashtextextended(${`scimd:${name}`}, 0))`.execute(db)
}

/**
 * lockExclusive for a value the directory compares case-folded (an email, a username): the
 * lock is named by the folded value, so "Ada" and "ADA" wait for each other, exactly as the
 * lookup after it (directory.ts findUsersByEmail) matches them.
 */
export function lockFolded(db: Executor, name: string, value: string): Promise<void> {
  return lockExclusive(db, `${name}:${foldCase(value)}`)
}
