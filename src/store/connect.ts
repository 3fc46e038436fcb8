/** Opens the configured database: SQLite through better-sqlite3 (default) or PostgreSQL through pg. */
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import {
  type ColumnMetadata,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type SchemaMetadata,
  type SqliteDatabase,
  SqliteDialect,
  sql,
  type TableMetadata,
} from 'kysely'
import pg from 'pg'
import type { DatabaseTarget } from '../config.js'
import type { Database, Dialect } from './database.js'
import { CREDENTIALS_CHANNEL, CredentialWatch, PROBE_SQL } from './postgres/credential-watch.js'
import { runDirectly, statementName } from './prepared.js'
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite/checkpointer.js'
import { TurnSnapshot } from './sqlite/read-snapshot.js'
import { withStatementCache } from './sqlite/statements.js'
import { groupCommit, type Transactor, transactionPerCall } from './transactor.js'

export interface Store {
  db: Kysely<Database>
  /**
   * For reads outside a transaction. On a SQLite file it is a second, query-only connection:
   * WAL lets it read the last committed state while a write batch holds the writer, so
   * lookups never queue behind writes (and requests reach the write queue in time to share
   * a commit). Elsewhere it is `db`.
   */
  reader: Kysely<Database>
  /**
   * Names the state of the database as `reader` sees it: unchanged for as long as nothing
   * is committed, by this process or another (sqlite/read-snapshot.ts). Undefined where that is
   * not known (PostgreSQL, in-memory SQLite), so callers must then not cache reads.
   */
  readVersion(): number | undefined
  /**
   * Names the state of the credentials (sources and their tokens), for caches of token
   * lookups: readVersion on SQLite; on PostgreSQL the number postgres/credential-watch.ts keeps from
   * other instances' notifications, where the server watches them (ConnectOptions).
   */
  credentialsVersion(): number | undefined
  /** Tells the store this process just committed a change to credentials. */
  credentialsChanged(): void
  /**
   * On PostgreSQL, starts listening for credential changes (postgres/credential-watch.ts) on a
   * connection of its own, for a long-running server, once the schema is migrated (the
   * triggers exist); until then credentialsVersion() is unknown. `onChange` is told when
   * notifications stop or start being heard. Nothing to do on SQLite.
   */
  watchCredentials(onChange: (hearing: boolean, error?: Error) => void): void
  dialect: Dialect
  /** Where write transactions go: group commit on SQLite, one per call on PostgreSQL. */
  transactor: Transactor
  /**
   * The PostgreSQL pool's connections (open, idle, and callers waiting for one), for the
   * metrics; undefined on SQLite, which has one writer and one reader and no pool.
   */
  poolStats(): { total: number; idle: number; waiting: number; max: number } | undefined
  close(): Promise<void>
}

export interface ConnectOptions {
  /** PostgreSQL pool size (connections per instance). */
  poolMax?: number
  /** PostgreSQL schema to use (tests give each test its own). */
  searchPath?: string
  /**
   * Told when PostgreSQL drops an idle pooled connection (server restart, failover, an
   * administrator's pg_terminate_backend). The pool discards it and opens a new one on
   * demand; without a listener pg's 'error' event would crash the process.
   */
  onPoolError?: (err: Error) => void
  /**
   * On a SQLite file: WAL checkpoints on a worker thread instead of inside commits
   * (sqlite/checkpointer.ts), for a long-running server. Told if the worker fails.
   */
  backgroundCheckpoints?: { onError(message: string): void }
  /**
   * On a SQLite file: how many bytes of it the read connection maps into memory (SQLite's
   * `mmap_size`; 0 or unset, none). A page in the map is read without a system call and a
   * copy into SQLite's page cache, while the database does not change: when another
   * connection has committed, SQLite unmaps the file at the next read, as it empties its
   * page cache, and faults the pages in again. Mapped pages count in the process's resident
   * memory, up to this size, as pages of the operating system's file cache.
   */
  sqliteMmapBytes?: number
}

export function connect(target: DatabaseTarget, options: ConnectOptions = {}): Store {
  if (target.kind === 'postgres') {
    const session = options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}
    const pool = new pg.Pool({
      connectionString: target.url,
      max: options.poolMax ?? 10,
      // Names scimd's sessions in pg_stat_activity; `?application_name=` in the URL wins.
      application_name: 'scimd',
      // A connection unused for 30 s is closed, so idle instances hold few sessions.
      idleTimeoutMillis: 30_000,
      ...session,
    })
    pool.on('error', (err) => options.onPoolError?.(err))
    // No JIT compilation: it pays off for long analytic queries, never for scimd's lookups,
    // and a filter of 200 OR terms on a freshly created (not yet analysed) table is costed
    // high enough to be compiled: 2 s instead of 0.1 s, holding a pooled connection, so a
    // dozen such searches from one source starved every other source for minutes. A SET
    // on each new connection (not a startup option, which PgBouncer refuses); the pool
    // runs it before the connection's first query.
    pool.on('connect', (client) => {
      client.query('set jit = off').catch((err: Error) => options.onPoolError?.(err))
    })
    const db = new Kysely<Database>({
      dialect: new CurrentSchemaPostgresDialect({ pool: withNamedStatements(pool) }),
    })
    let watch: CredentialWatch | undefined
    return {
      db,
      reader: db,
      readVersion: () => undefined,
      credentialsVersion: () => watch?.version(),
      credentialsChanged: () => watch?.changed(),
      watchCredentials: (onChange) => {
        watch ??= new CredentialWatch({
          client: () =>
            new pg.Client({
              connectionString: target.url,
              application_name: 'scimd-listen',
              // A dead peer is found by the probes; keepalives let the socket notice too.
              keepAlive: true,
              ...session,
            }),
          notify: (payload) => pool.query(PROBE_SQL, [CREDENTIALS_CHANNEL, payload]),
          onChange,
        })
      },
      dialect: 'postgres',
      transactor: transactionPerCall(db),
      poolStats: () => ({
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: options.poolMax ?? 10,
      }),
      close: async () => {
        await watch?.close()
        await db.destroy()
      },
    }
  }
  const inMemory = target.path === ':memory:'
  if (!inMemory) {
    mkdirSync(dirname(target.path), { recursive: true })
    // A new database holds token hashes and personal data: only its owner may read it, as
    // with secret.key. SQLite gives the -wal and -shm files the database file's mode.
    closeSync(openSync(target.path, 'a', 0o600))
  }
  // An in-memory database exists only on its own connection.
  const read = inMemory ? undefined : readConnection(target.path, options.sqliteMmapBytes ?? 0)
  const writer = openSqlite(target.path)
  const checkpointer =
    options.backgroundCheckpoints && !inMemory
      ? startCheckpointer(target.path, options.backgroundCheckpoints.onError)
      : undefined
  if (checkpointer) writer.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
  const statements = withStatementCache(writer, {
    // A write ends the reader's shared snapshot, so the reads after it see it.
    beforeStatement:
      read &&
      ((statement) => {
        if (!statement.reader) read.snapshot.end()
      }),
  })
  const db = sqliteKysely(statements)
  const reader = read?.db ?? db
  const readVersion = read ? () => read.snapshot.version() : () => undefined
  // As Kysely's SQLite driver runs a query: rows from a statement that returns them.
  const transactor = groupCommit(db, {
    direct: (sql, parameters) => {
      const statement = statements.prepare(sql)
      if (statement.reader) return statement.all(parameters)
      statement.run(parameters)
      return []
    },
  })
  return {
    db,
    reader,
    readVersion,
    // Any commit moves SQLite's version, this process's included.
    credentialsVersion: readVersion,
    credentialsChanged: () => {},
    watchCredentials: () => {},
    dialect: 'sqlite',
    transactor,
    poolStats: () => undefined,
    close: async () => {
      await transactor.idle()
      await checkpointer?.stop()
      if (read) {
        read.snapshot.end()
        await read.db.destroy()
      }
      await db.destroy()
    },
  }
}

function openSqlite(
  path: string,
  options: { queryOnly?: boolean; mmapBytes?: number } = {},
): SQLite.Database {
  const sqlite = new SQLite(path)
  // WAL lets readers run beside the writer; the busy timeout waits out a concurrent writer
  // (another process, e.g. the CLI) instead of failing at once.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  // Only the read connection maps the file: on the writer a map made POST /Users no faster
  // (alternated runs), and the writer's reads are few beside its writes.
  if (options.queryOnly) {
    sqlite.pragma('query_only = ON')
    sqlite.pragma(`mmap_size = ${Math.trunc(options.mmapBytes ?? 0)}`)
  }
  // Each request of a group commit runs in a savepoint, and SQLite saves every page a
  // savepoint first changes to a statement journal, a temporary file: one write system call
  // per page, three quarters of the WAL I/O of a create (perf record). In memory instead.
  else sqlite.pragma('temp_store = MEMORY')
  return sqlite
}

function sqliteKysely(database: SqliteDatabase): Kysely<Database> {
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
}

/**
 * The query-only second connection, whose reads of one event-loop turn share a snapshot
 * (sqlite/read-snapshot.ts); prepared lookups run on it directly (prepared.ts).
 */
function readConnection(
  path: string,
  mmapBytes: number,
): { db: Kysely<Database>; snapshot: TurnSnapshot } {
  const sqlite = openSqlite(path, { queryOnly: true, mmapBytes })
  const snapshot = new TurnSnapshot(sqlite)
  const statements = withStatementCache(sqlite, { beforeStatement: () => snapshot.enter() })
  const db = sqliteKysely(statements)
  runDirectly(db, (sql, parameters) => statements.prepare(sql).all(parameters))
  return { db, snapshot }
}

/**
 * The pool as Kysely sees it, its clients running prepared queries' SQL as named statements
 * (prepared.ts statementName): parsed once per connection. Each pg client keeps
 * one wrapper, as Kysely keys its connections by client.
 */
function withNamedStatements(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    // biome-ignore lint/suspicious/noExplicitAny: the overloads of PostgresPoolClient.query
    query: (sqlOrCursor: any, parameters?: ReadonlyArray<unknown>): any => {
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor)
      const values = parameters as unknown[]
      const name = statementName(sqlOrCursor)
      return name
        ? client.query({ name, text: sqlOrCursor, values })
        : client.query(sqlOrCursor, values)
    },
    release: () => client.release(),
  })
  return {
    connect: async () => {
      const client = await pool.connect()
      let wrapper = wrappers.get(client)
      if (!wrapper) {
        wrapper = wrap(client)
        wrappers.set(client, wrapper)
      }
      return wrapper
    },
    end: () => pool.end(),
  }
}

/**
 * PostgreSQL with introspection limited to the current schema (the first of search_path),
 * which is scimd's whole database. Kysely's own introspector lists the tables of every
 * schema: its Migrator would then take another schema's kysely_migration table for ours,
 * and a schema dropped meanwhile by someone else makes the catalog query fail.
 */
class CurrentSchemaPostgresDialect extends PostgresDialect {
  // biome-ignore lint/suspicious/noExplicitAny: Dialect.createIntrospector takes Kysely<any>
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db)
  }
}

interface ColumnRow {
  schema: string
  table: string
  table_type: string
  column: string
  type: string
  type_schema: string
  not_null: boolean
  has_default: boolean
  is_identity: boolean
  comment: string | null
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  // biome-ignore lint/suspicious/noExplicitAny: introspection reads pg_catalog, not app tables
  readonly #db: Kysely<any>

  // biome-ignore lint/suspicious/noExplicitAny: see #db
  constructor(db: Kysely<any>) {
    this.#db = db
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      select current_schema() as name`.execute(this.#db)
    return rows.filter((r) => r.name !== null)
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      select ns.nspname as schema, c.relname as table, c.relkind as table_type,
        a.attname as column, typ.typname as type, dtns.nspname as type_schema,
        a.attnotnull as not_null, a.atthasdef as has_default,
        (a.attidentity <> '' or pg_get_serial_sequence(
          quote_ident(ns.nspname) || '.' || quote_ident(c.relname), a.attname) is not null)
          as is_identity,
        col_description(a.attrelid, a.attnum) as comment
      from pg_catalog.pg_attribute a
      join pg_catalog.pg_class c on a.attrelid = c.oid
      join pg_catalog.pg_namespace ns on c.relnamespace = ns.oid
      join pg_catalog.pg_type typ on a.atttypid = typ.oid
      join pg_catalog.pg_namespace dtns on typ.typnamespace = dtns.oid
      where ns.nspname = current_schema()
        and c.relkind in ('r', 'v', 'p')
        and a.attnum >= 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(this.#db)
    const tables = new Map<string, TableMetadata & { columns: ColumnMetadata[] }>()
    for (const r of rows) {
      if (!options.withInternalKyselyTables && r.table.startsWith('kysely_migration')) continue
      let table = tables.get(r.table)
      if (!table) {
        table = { name: r.table, schema: r.schema, isView: r.table_type === 'v', columns: [] }
        tables.set(r.table, table)
      }
      table.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        isAutoIncrementing: r.is_identity,
        hasDefaultValue: r.has_default,
        ...(r.comment !== null ? { comment: r.comment } : {}),
      })
    }
    return [...tables.values()]
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) }
  }
}
