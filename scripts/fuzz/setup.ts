/**
 * What the fuzzer and the crash test set up around a scimd child: a throwaway database
 * (a SQLite file in a temporary directory, or a PostgreSQL database beside DATABASE_URL's)
 * and a SCIM source created through the admin API.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

export interface ThrowawayDatabase {
  kind: 'sqlite' | 'postgres'
  url: string
  /** The SQLite file, for integrity checks. */
  sqlitePath?: string
  drop(): Promise<void>
}

export async function throwawayDatabase(prefix: string): Promise<ThrowawayDatabase> {
  const pgUrl = process.env.DATABASE_URL ?? ''
  if (pgUrl.startsWith('postgres')) {
    const name = `${prefix}_${randomBytes(6).toString('hex')}`
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: pgUrl })
      await client.connect()
      try {
        await client.query(sql)
      } finally {
        await client.end()
      }
    }
    await admin(`create database ${name}`)
    const url = new URL(pgUrl)
    url.pathname = `/${name}`
    return {
      kind: 'postgres',
      url: url.toString(),
      drop: () => admin(`drop database if exists ${name} with (force)`),
    }
  }
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  const sqlitePath = join(dir, 'scimd.db')
  return {
    kind: 'sqlite',
    url: `sqlite:${sqlitePath}`,
    sqlitePath,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

export const newAdminKey = () => `admin-${randomBytes(24).toString('hex')}`
export const newSecretKey = () => `secret-${randomBytes(24).toString('hex')}`

async function adminJson(
  origin: string,
  adminKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${origin}/api/v3${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

/** Creates a source; returns its slug and its token's key. */
export async function createSource(
  origin: string,
  adminKey: string,
  slug: string,
): Promise<{ slug: string; key: string }> {
  const source = await adminJson(origin, adminKey, 'POST', '/sources/scim/', {
    name: `Source ${slug}`,
    slug,
  })
  const token = source.token_obj as { identifier: string }
  const { key } = await adminJson(
    origin,
    adminKey,
    'GET',
    `/core/tokens/${token.identifier}/view_key/`,
  )
  return { slug, key: String(key) }
}

/** A SCIM request with the source's token; throws unless the status is `expect`. */
export async function scimJson(
  origin: string,
  source: { slug: string; key: string },
  method: string,
  path: string,
  body: unknown,
  expect: number,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${origin}/source/scim/${source.slug}/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${source.key}`, 'Content-Type': 'application/scim+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}
