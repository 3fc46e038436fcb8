/** Reads the environment once into a frozen, typed Config; the only reader of process.env. */
import * as z from 'zod'

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string } // path ':memory:' for an in-memory database
  | { kind: 'postgres'; url: string }

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export interface Config {
  readonly host: string
  readonly port: number
  readonly database: DatabaseTarget
  /** Directory for the SQLite database and the generated secret key. */
  readonly dataDir: string
  readonly bootstrapToken: string | undefined
  readonly secretKey: string | undefined
  readonly baseUrl: string | undefined
  readonly logLevel: LogLevel
  /** Largest accepted request body in bytes (413 above). */
  readonly maxBodyBytes: number
  /** Largest page a list returns (ServiceProviderConfig filter.maxResults). */
  readonly maxResults: number
  /** Most operations in one Bulk request (ServiceProviderConfig bulk.maxOperations). */
  readonly bulkMaxOperations: number
  /** Largest Bulk request body in bytes (ServiceProviderConfig bulk.maxPayloadSize). */
  readonly bulkMaxPayloadBytes: number
  /** PostgreSQL connection pool size per instance. */
  readonly pgPoolMax: number
  /** How much of a SQLite file its read connection maps into memory, in MiB (0: none). */
  readonly sqliteMmapMb: number
  /** Whether requests are counted and timed for GET /metrics (SCIMD_METRICS, default on). */
  readonly metrics: boolean
  /** Whether `serve` runs the provider sync worker (SCIMD_PROVIDER_SYNC=off turns it off). */
  readonly providerSync: boolean
  /** Periodic full sync of each provider, in seconds (default hourly). */
  readonly providerSyncIntervalSeconds: number
  /** How long a provider's lease outlives a silent instance, in seconds. */
  readonly providerLeaseSeconds: number
}

const EnvSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(9000),
  DATABASE_URL: z.string().min(1).default('sqlite:./data/scimd.db'),
  SCIMD_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SCIMD_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  SCIMD_BASE_URL: z
    .string()
    .transform((value, ctx) => {
      const parsed = parseBaseUrl(value)
      if (parsed.ok) return parsed.value
      ctx.addIssue({ code: 'custom', message: parsed.error })
      return z.NEVER
    })
    .optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SCIMD_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  SCIMD_MAX_RESULTS: z.coerce.number().int().positive().max(10_000).default(1000),
  SCIMD_BULK_MAX_OPERATIONS: z.coerce.number().int().positive().max(100_000).default(1000),
  SCIMD_BULK_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  SCIMD_PG_POOL_MAX: z.coerce.number().int().positive().max(500).default(10),
  // SQLite caps a map at 2 GiB less 64 KiB (SQLITE_MAX_MMAP_SIZE) and would quietly use less.
  SCIMD_SQLITE_MMAP_MB: z.coerce.number().int().min(0).max(2047).default(0),
  SCIMD_METRICS: z.enum(['on', 'off']).default('on'),
  SCIMD_PROVIDER_SYNC: z.enum(['on', 'off']).default('on'),
  SCIMD_PROVIDER_SYNC_INTERVAL: z.coerce.number().int().min(60).default(3600),
  SCIMD_PROVIDER_LEASE: z.coerce.number().int().min(2).max(3600).default(60),
})

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Checks an external base URL (SCIMD_BASE_URL, the CLI's --base-url) and says what is wrong
 * in words: `scim.example.com` needs a scheme, `ftp://…` is not HTTP, a query or fragment
 * would end up inside every SCIM URL. Returns it without trailing slashes.
 */
export function parseBaseUrl(
  value: string,
): { ok: true; value: string } | { ok: false; error: string } {
  const example = 'e.g. https://scim.example.com'
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return { ok: false, error: `needs a scheme (http:// or https://), ${example}; got "${value}"` }
  }
  if (!URL.canParse(value)) return { ok: false, error: `not a valid URL: "${value}"` }
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `must be http:// or https://, ${example}; got "${url.protocol}"` }
  }
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    return { ok: false, error: 'must not have a query (?) or fragment (#)' }
  }
  if (url.username || url.password) return { ok: false, error: 'must not carry a user or password' }
  return { ok: true, value: value.replace(/\/+$/, '') }
}

/** Parses a DATABASE_URL: `sqlite:<path>`, `sqlite::memory:` or `postgres://…`. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { kind: 'postgres', url }
  }
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '')
    if (path === '') throw new ConfigError('DATABASE_URL: sqlite: needs a path or :memory:')
    return { kind: 'sqlite', path }
  }
  throw new ConfigError('DATABASE_URL: expected sqlite:<path>, sqlite::memory: or postgres://…')
}

/** Builds the Config from an environment; lists every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  )
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`)
  }
  const e = parsed.data
  const database = parseDatabaseUrl(e.DATABASE_URL)
  if (database.kind === 'postgres' && !e.SCIMD_SECRET_KEY) {
    throw new ConfigError(
      'SCIMD_SECRET_KEY is required with PostgreSQL: every instance must share the same secret',
    )
  }
  const dataDir =
    database.kind === 'sqlite' && database.path !== ':memory:' ? dirnameOf(database.path) : './data'
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    database,
    dataDir,
    bootstrapToken: e.SCIMD_BOOTSTRAP_TOKEN,
    secretKey: e.SCIMD_SECRET_KEY,
    baseUrl: e.SCIMD_BASE_URL,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.SCIMD_MAX_BODY_BYTES,
    maxResults: e.SCIMD_MAX_RESULTS,
    bulkMaxOperations: e.SCIMD_BULK_MAX_OPERATIONS,
    bulkMaxPayloadBytes: e.SCIMD_BULK_MAX_PAYLOAD_BYTES,
    pgPoolMax: e.SCIMD_PG_POOL_MAX,
    sqliteMmapMb: e.SCIMD_SQLITE_MMAP_MB,
    metrics: e.SCIMD_METRICS === 'on',
    providerSync: e.SCIMD_PROVIDER_SYNC === 'on',
    providerSyncIntervalSeconds: e.SCIMD_PROVIDER_SYNC_INTERVAL,
    providerLeaseSeconds: e.SCIMD_PROVIDER_LEASE,
  })
}

function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i)
}
