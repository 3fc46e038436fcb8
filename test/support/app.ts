/**
 * createTestApp(): a real app on a fresh database per test: an in-memory SQLite, or, when
 * DATABASE_URL is a postgres URL, a throwaway schema dropped afterwards. No mocks.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import * as sources from '../../src/services/sources.js'
import { createScratchSchema, isPostgres } from './pg.js'

export const ADMIN_KEY = 'test-bootstrap-token-0123456789abcdef'
export const BASE = 'http://scimd.test'

export { isPostgres } from './pg.js'

export interface TestApp {
  app: ReturnType<typeof createApp>
  runtime: Awaited<ReturnType<typeof startRuntime>>
  slug: string
  /** The source's token key. */
  key: string
  /** SCIM request relative to the source's /v2 base, authenticated with the source token. */
  scim(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>
  /** Admin API request relative to /api/v3, with the bootstrap admin token. */
  admin(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>
  /** Any request, no default auth. */
  raw(
    method: string,
    path: string,
    init?: { body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string> },
  ): Promise<Response>
  createSource(slug: string): Promise<{ slug: string; key: string }>
}

export async function createTestApp(
  options: { slug?: string; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const env: Record<string, string> = {
    DATABASE_URL: isPostgres ? (process.env.DATABASE_URL as string) : 'sqlite::memory:',
    SCIMD_BOOTSTRAP_TOKEN: ADMIN_KEY,
    SCIMD_SECRET_KEY: 'test-secret-key-0123456789abcdef0123456789',
    SCIMD_BASE_URL: BASE,
    LOG_LEVEL: 'silent',
    ...options.env,
  }
  const config = loadConfig(env)
  const pgSchema = isPostgres ? await createScratchSchema() : undefined
  // Registered before startRuntime, so a schema whose migration failed is dropped too.
  let runtime: Awaited<ReturnType<typeof startRuntime>> | undefined
  onTestFinished(async () => {
    await runtime?.close()
    await pgSchema?.drop()
  })
  runtime = await startRuntime(config, {
    logger: createLogger('silent'),
    // As the server runs: on PostgreSQL, token lookups are cached (credential-watch.ts).
    serving: true,
    ...(pgSchema ? { searchPath: pgSchema.schema } : {}),
  })
  const app = createApp(runtime.deps)
  const slug = options.slug ?? 'test'
  const created = await sources.createSource(runtime.deps, { name: `Source ${slug}`, slug })

  const request = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ) =>
    app.request(`${BASE}${path}`, {
      method,
      headers: { 'Content-Type': 'application/scim+json', ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })

  return {
    app,
    runtime,
    slug,
    key: created.key,
    scim: (method, path, body, headers = {}) =>
      request(method, `/source/scim/${slug}/v2${path}`, body, {
        Authorization: `Bearer ${created.key}`,
        ...headers,
      }),
    admin: (method, path, body, headers = {}) =>
      request(method, `/api/v3${path}`, body, { Authorization: `Bearer ${ADMIN_KEY}`, ...headers }),
    raw: async (method, path, init = {}) =>
      app.request(`${BASE}${path}`, {
        method,
        ...(init.body !== undefined ? { body: init.body } : {}),
        headers: init.headers ?? {},
      }),
    createSource: async (other) => {
      const s = await sources.createSource(runtime.deps, { name: `Source ${other}`, slug: other })
      return { slug: other, key: s.key }
    },
  }
}

/** A request body recorded from a client, from fixtures/. */
export function fixture<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures', path), 'utf8')) as T
}

/** A fixture with ids replaced: every occurrence of each key is replaced by its value. */
export function fixtureWith<T = Record<string, unknown>>(
  path: string,
  replacements: Record<string, string>,
): T {
  let text = readFileSync(join(import.meta.dirname, '../../fixtures', path), 'utf8')
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to)
  return JSON.parse(text) as T
}
