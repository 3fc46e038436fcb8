/**
 * One read transaction per event-loop turn on SQLite's read connection. Outside a
 * transaction every statement opens and closes a read transaction of its own, and in WAL
 * mode that takes file locks and a stat of the database file (three system calls); a SCIM
 * lookup makes three statements (token, resource, groups), and under load those calls cost
 * more than the queries. Reads of one turn (every request the event loop read in that I/O
 * poll) share one transaction instead (npm run bench: GET /Users/<id> ×1.4 in a minimal
 * server).
 *
 * A shared snapshot must never hide a write a client could already know about:
 * - it ends at the end of the turn (setImmediate runs after the I/O poll, and while it is
 *   pending the loop does not block), so a request read in a later turn sees every commit
 *   made before it arrived, by this process or any other;
 * - it ends before each write statement of this process (the writer connection calls
 *   `end()`), so a read that follows a commit here always sees it.
 *
 * Each snapshot also tells whether the database changed since the one before (SQLite's
 * data_version, which any commit on another connection moves, this process's writer
 * included): `version()` names the database state, for caches of what reads return.
 */
import type SQLite from 'better-sqlite3'

export class TurnSnapshot {
  readonly #connection: SQLite.Database
  readonly #begin: SQLite.Statement
  readonly #commit: SQLite.Statement
  readonly #rollback: SQLite.Statement
  readonly #dataVersion: SQLite.Statement
  #endScheduled = false
  #lastDataVersion: unknown
  #version = 0

  constructor(connection: SQLite.Database) {
    this.#connection = connection
    this.#begin = connection.prepare('begin')
    this.#commit = connection.prepare('commit')
    this.#rollback = connection.prepare('rollback')
    this.#dataVersion = connection.prepare('pragma data_version').pluck()
  }

  /** Called before each read: opens the turn's snapshot if none is open. */
  enter(): void {
    // Only snapshots are transactions on this connection. SQLite ends one by itself on some
    // errors (I/O, memory), so it is asked, not a flag.
    if (this.#connection.inTransaction) return
    // Scheduled first, so that a statement failing below cannot leave a snapshot open.
    if (!this.#endScheduled) {
      this.#endScheduled = true
      setImmediate(this.#endOfTurn)
    }
    this.#begin.run()
    // Reading data_version starts the read transaction, so it belongs to this snapshot.
    const dataVersion = this.#dataVersion.get()
    if (dataVersion !== this.#lastDataVersion) {
      this.#lastDataVersion = dataVersion
      this.#version++
    }
  }

  /**
   * A number that stays the same for as long as the database does, as reads see it now:
   * two reads made under the same version return the same rows.
   */
  version(): number {
    this.enter()
    return this.#version
  }

  /**
   * Ends the snapshot now, if one is open; the next read opens a new one. A read
   * transaction has nothing to lose, so if it cannot commit it is rolled back; only if
   * that fails too (the connection is broken) does this throw.
   */
  end(): void {
    if (!this.#connection.inTransaction) return
    try {
      this.#commit.run()
    } catch {
      if (this.#connection.inTransaction) this.#rollback.run()
    }
  }

  readonly #endOfTurn = (): void => {
    this.#endScheduled = false
    try {
      this.end()
    } catch {
      // A broken connection: the next read fails with SQLite's own error, and schedules
      // another attempt. Nothing is retried while no one reads.
    }
  }
}
