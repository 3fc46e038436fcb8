/**
 * Queries built and compiled once, then run with new parameters. Building a query with
 * Kysely (builder, operation-node tree, compiler) cost more than running it on SQLite for
 * the lookups every SCIM request makes (npm run bench -- --cpu-prof); the hot ones use this.
 */
import type { CompiledQuery, Kysely } from 'kysely'
import { type Database, dialectOf } from './database.js'

/** Stands in for the i-th parameter while the query is compiled. */
class Slot {
  readonly index: number
  constructor(index: number) {
    this.index = index
  }
}

/** Runs SQL synchronously on a SQLite connection, returning the rows it returns. */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => unknown[]

const directRunners = new WeakMap<Kysely<Database>, DirectRunner>()

/**
 * Lets prepared queries on `db` skip Kysely's driver (its connection lock and promise
 * hops) and run on the connection at once. Only for a handle that owns its connection
 * outright, so that no statement of another transaction can slip between: SQLite's read
 * connection, which holds no transactions of Kysely's, and a group commit's transaction
 * (transactor.ts), which holds the writer until it ends and whose works run their queries
 * one after another.
 */
export function runDirectly(db: Kysely<Database>, runner: DirectRunner): void {
  directRunners.set(db, runner)
}

/** The runner runDirectly registered for `db`, if any. */
export function directRunnerOf(db: Kysely<Database>): DirectRunner | undefined {
  return directRunners.get(db)
}

/**
 * PostgreSQL names for the SQL of prepared queries: a connection parses a named statement
 * once and, after its first runs, usually keeps one plan for it (connect.ts), where an
 * unnamed one is parsed and planned on every call (most of the database's CPU for a GET).
 * Only the SQL of preparedQuery is named, so the names are as few as its call sites,
 * whatever clients send.
 */
const statementNames = new Map<string, string>()

/** The name PostgreSQL connections keep `sql` prepared under, if it is a prepared query's. */
export function statementName(sql: string): string | undefined {
  return statementNames.get(sql)
}

interface Template {
  compiled: CompiledQuery
  /** For each parameter of the SQL, which argument it takes. */
  slots: number[]
}

/**
 * `build` writes the query for the given arguments; it is called once per dialect, with
 * placeholders, and must pass each argument to Kysely as one value (not spread it into a
 * list or compute with it). The result runs the compiled SQL with the real arguments, on
 * any handle: a database or one of its transactions.
 */
export function preparedQuery<A extends unknown[], R>(
  build: (db: Kysely<Database>, ...args: A) => CompiledQuery<R>,
): (db: Kysely<Database>, ...args: A) => Promise<R[]> {
  // By the handle's dialect adapter, which its transactions share: the SQL text depends on
  // the dialect only (scimd uses no Kysely plugins).
  const templates = new WeakMap<object, Template>()
  const template = (db: Kysely<Database>, arity: number): Template => {
    const dialect = db.getExecutor().adapter
    let found = templates.get(dialect)
    if (!found) {
      const slots = Array.from({ length: arity }, (_, i) => new Slot(i))
      const compiled = build(db, ...(slots as unknown as A))
      found = {
        compiled,
        slots: compiled.parameters.map((p) => {
          if (!(p instanceof Slot)) throw new Error('a prepared query may only take its arguments')
          return p.index
        }),
      }
      templates.set(dialect, found)
      if (dialectOf(db) === 'postgres' && !statementNames.has(compiled.sql)) {
        statementNames.set(compiled.sql, `scimd_${statementNames.size + 1}`)
      }
    }
    return found
  }
  return async (db, ...args) => {
    const { compiled, slots } = template(db, args.length)
    const parameters = slots.map((i) => args[i])
    const direct = directRunners.get(db)
    if (direct) return direct(compiled.sql, parameters) as R[]
    const result = await db.executeQuery<R>({ ...compiled, parameters } as CompiledQuery<R>)
    return result.rows
  }
}

/**
 * A query over one row object (an insert, typically), prepared per set of columns the row
 * has: `build` is called once per dialect and column list with placeholders for the
 * values, as in preparedQuery. Columns whose value is undefined are left out, as Kysely
 * leaves them out of an insert.
 */
export function preparedRowQuery<T extends object, R>(
  build: (db: Kysely<Database>, row: T) => CompiledQuery<R>,
): (db: Kysely<Database>, row: T) => Promise<R[]> {
  const byColumns = new Map<string, (db: Kysely<Database>, ...values: unknown[]) => Promise<R[]>>()
  return (db, row) => {
    const entries = Object.entries(row).filter(([, value]) => value !== undefined)
    const columns = entries.map(([column]) => column)
    const signature = columns.join(',')
    let run = byColumns.get(signature)
    if (!run) {
      run = preparedQuery((handle, ...values: unknown[]) =>
        build(handle, Object.fromEntries(columns.map((c, i) => [c, values[i]])) as T),
      )
      byColumns.set(signature, run)
    }
    return run(db, ...entries.map(([, value]) => value))
  }
}

/**
 * Before every chunk of a long list but the first, the event loop gets a turn: better-sqlite3
 * runs each statement synchronously, and a 150,000-member PUT is hundreds of them, which
 * held the loop for a second. Other requests' writes queue behind this transaction anyway.
 */
export function betweenChunks(offset: number): Promise<void> | undefined {
  return offset === 0 ? undefined : new Promise((resolve) => setImmediate(resolve))
}

/** The longest piece of a list one statement binds (issue 29: bounded work per statement). */
export const LIST_PIECE = 512

/**
 * The lengths a list of `n` values is cut into: LIST_PIECE as often as it fits, then powers of
 * two (1,000 = 512 + 256 + 128 + 64 + 32 + 8). So each list query has at most ten shapes,
 * each compiled and prepared once, whatever lengths clients send.
 */
export function listPieces(n: number): number[] {
  const pieces: number[] = []
  let left = n
  for (; left >= LIST_PIECE; left -= LIST_PIECE) pieces.push(LIST_PIECE)
  for (let size = LIST_PIECE >> 1; size >= 1; size >>= 1) {
    if (left >= size) {
      pieces.push(size)
      left -= size
    }
  }
  return pieces
}

/**
 * A query over a list of values (an `in` list, the rows of an insert), prepared once per
 * piece length of listPieces: `build` gets the fixed arguments and the list as placeholders
 * and must pass each to Kysely as one value. The result runs it on each piece in turn and
 * returns all rows. Kysely building a 500-row insert anew, and SQLite preparing each new
 * length, were a tenth of a 1,000-member group PATCH (docs/benchmark.md, round 17).
 */
export function preparedListQuery<F extends unknown[], V, R>(
  build: (db: Kysely<Database>, fixed: F, list: V[]) => CompiledQuery<R>,
): (db: Kysely<Database>, fixed: F, list: readonly V[]) => Promise<R[]> {
  const bySize = new Map<number, (db: Kysely<Database>, ...args: unknown[]) => Promise<R[]>>()
  return async (db, fixed, list) => {
    const rows: R[] = []
    let offset = 0
    for (const size of listPieces(list.length)) {
      await betweenChunks(offset)
      let run = bySize.get(size)
      if (!run) {
        run = preparedQuery((handle, ...args: unknown[]) =>
          build(handle, args.slice(0, fixed.length) as F, args.slice(fixed.length) as V[]),
        )
        bySize.set(size, run)
      }
      rows.push(...(await run(db, ...fixed, ...list.slice(offset, offset + size))))
      offset += size
    }
    return rows
  }
}
