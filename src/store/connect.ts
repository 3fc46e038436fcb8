/** Opens the configured database: SQLite through better-sqlite3 (default) or PostgreSQL through pg. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { DatabaseTarget } from '../config.js'
import type { Database, Dialect } from './database.js'

export interface Store {
  db: Kysely<Database>
  dialect: Dialect
  close(): Promise<void>
}

export interface ConnectOptions {
  /** PostgreSQL pool size. */
  poolMax?: number
  /** PostgreSQL schema to use (tests give each test its own). */
  searchPath?: string
}

export function connect(target: DatabaseTarget, options: ConnectOptions = {}): Store {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: options.poolMax ?? 10,
      ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
    })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { db, dialect: 'postgres', close: () => db.destroy() }
  }
  if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true })
  const sqlite = new SQLite(target.path)
  // WAL lets readers run beside the writer; the busy timeout waits out a concurrent writer
  // (another process, e.g. the CLI) instead of failing at once.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  return { db, dialect: 'sqlite', close: () => db.destroy() }
}
