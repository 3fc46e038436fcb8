/**
 * better-sqlite3 as Kysely's SQLite driver sees it: statements prepared once and kept, whose
 * rows are built in JS.
 */
import type SQLite from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

export interface StatementCacheOptions {
  /** How many statements are kept: the least recently used beyond it is dropped. */
  capacity?: number
  /**
   * Called with each statement as it is handed out. Kysely's driver, like prepared.ts's
   * direct runner, runs a statement right after preparing it, so this runs just before it.
   */
  beforeStatement?: ((statement: CachedStatement) => void) | undefined
}

/**
 * better-sqlite3 behind a bounded LRU cache of prepared statements. Kysely's SQLite driver
 * prepares every query anew, which was a fifth of a lookup's CPU time (npm run bench
 * --cpu-prof). Reusing a statement is safe: the driver runs one query at a time on its
 * single connection, and SQLite re-prepares a statement by itself after a schema change.
 */
export function withStatementCache(
  sqlite: SQLite.Database,
  { capacity = 500, beforeStatement }: StatementCacheOptions = {},
): SqliteDatabase & { prepare(sql: string): CachedStatement } {
  const cache = new Map<string, CachedStatement>()
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let statement = cache.get(sql)
      if (statement) {
        cache.delete(sql) // re-insert: Map order is the LRU order
      } else {
        statement = new CachedStatement(sqlite.prepare(sql))
        if (cache.size >= capacity) cache.delete(cache.keys().next().value as string)
      }
      cache.set(sql, statement)
      beforeStatement?.(statement)
      return statement
    },
  }
}

/**
 * A statement whose rows are objects made here from better-sqlite3's arrays (raw mode).
 * better-sqlite3 makes each row object in C++, a property at a time through V8's API; in
 * JS the rows of one statement share one shape. A 100-row page read 150 → 100 µs, a user
 * 7.8 → 7.0 µs (a loop over the kept database of `npm run bench -- --keep-data`).
 */
export class CachedStatement implements SqliteStatement {
  readonly reader: boolean
  readonly #statement: SQLite.Statement
  /**
   * The result's column names, for a reader. Each row's values are assigned in order, as
   * better-sqlite3 does: a name that appears twice keeps its last value.
   */
  #columns: string[] | undefined

  constructor(statement: SQLite.Statement) {
    this.#statement = statement
    this.reader = statement.reader
    if (this.reader) this.#columns = columnNames(statement.raw(true))
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    const rows = this.#statement.all(parameters) as unknown[]
    if (this.#columns === undefined) return rows // not a reader: better-sqlite3 threw
    for (let i = 0; i < rows.length; i++) rows[i] = this.#toObject(rows[i] as unknown[])
    return rows
  }

  run(parameters: ReadonlyArray<unknown>): SQLite.RunResult {
    return this.#statement.run(parameters)
  }

  *iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    for (const row of this.#statement.iterate(parameters)) {
      yield this.#columns === undefined ? row : this.#toObject(row as unknown[])
    }
  }

  #toObject(values: unknown[]): Record<string, unknown> {
    let columns = this.#columns as string[]
    // SQLite re-prepares a statement after a schema change (another process migrating),
    // and a `select *` may then return other columns: asked again when the count moved.
    // (A rename that keeps the count would go unseen; scimd's migrations only add.)
    if (values.length !== columns.length) {
      columns = columnNames(this.#statement)
      this.#columns = columns
    }
    const row: Record<string, unknown> = {}
    for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i]
    return row
  }
}

function columnNames(statement: SQLite.Statement): string[] {
  return statement.columns().map((c) => c.name)
}
