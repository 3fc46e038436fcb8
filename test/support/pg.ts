/**
 * Throwaway PostgreSQL databases for tests that need a whole database of their own (several
 * scimd processes, export/import), on the server DATABASE_URL points at.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const PG_URL = process.env.DATABASE_URL ?? ''
export const isPostgres = PG_URL.startsWith('postgres')

/** Why PostgreSQL-only tests are skipped, for their describe() title. */
export const PG_ONLY = isPostgres
  ? 'PostgreSQL'
  : 'skipped: needs DATABASE_URL=postgres://… (run by .ci/run on PostgreSQL)'

export interface ScratchDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Creates an empty database beside DATABASE_URL's; drop() removes it, connections and all. */
export async function createScratchDatabase(prefix = 'scimd_t'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`create database ${name}`))
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(),
  }
}

export interface ScratchSchema {
  schema: string
  /** DATABASE_URL with its search_path set to the schema, for a scimd process of its own. */
  url: string
  drop(): Promise<void>
}

/**
 * Creates an empty schema in DATABASE_URL's database: connect in-process with
 * `searchPath: schema`, or hand `url` to another process.
 */
export async function createScratchSchema(): Promise<ScratchSchema> {
  const schema = `t_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`create schema ${schema}`))
  const url = new URL(PG_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    schema,
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop schema if exists ${schema} cascade`)).then(),
  }
}
