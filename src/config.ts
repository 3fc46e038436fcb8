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
  /** PostgreSQL connection pool size per instance. */
  readonly pgPoolMax: number
  /** How much of a SQLite file its read connection maps into memory, in MiB (0: none). */
  readonly sqliteMmapMb: number
  /** Node's server limits (src/http/server.ts): what a slow or greedy client can hold. */
  readonly http: HttpLimits
}

export interface HttpLimits {
  /** Open connections at most; more are closed as they arrive (Node's server.maxConnections). */
  readonly maxConnections: number
  /** Time to receive a request's headers (headersTimeout), in ms. */
  readonly headersTimeoutMs: number
  /** Time to receive a whole request, headers and body (requestTimeout), in ms. */
  readonly requestTimeoutMs: number
  /** How long an idle keep-alive connection stays open (keepAliveTimeout), in ms. */
  readonly keepAliveTimeoutMs: number
  /** Largest request line plus headers (maxHeaderSize), in bytes; larger is 431. */
  readonly maxHeaderBytes: number
}

const EnvSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(9000),
  DATABASE_URL: z.string().min(1).default('sqlite:./data/scimd.db'),
  SCIMD_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SCIMD_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  SCIMD_BASE_URL: z
    .url()
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SCIMD_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  SCIMD_MAX_RESULTS: z.coerce.number().int().positive().max(10_000).default(1000),
  SCIMD_PG_POOL_MAX: z.coerce.number().int().positive().max(500).default(10),
  // SQLite caps a map at 2 GiB less 64 KiB (SQLITE_MAX_MMAP_SIZE) and would quietly use less.
  SCIMD_SQLITE_MMAP_MB: z.coerce.number().int().min(0).max(2047).default(0),
  SCIMD_MAX_CONNECTIONS: z.coerce.number().int().positive().default(1000),
  SCIMD_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  SCIMD_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  SCIMD_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  SCIMD_MAX_HEADER_BYTES: z.coerce.number().int().min(1024).default(16_384),
})

export class ConfigError extends Error {
  override name = 'ConfigError'
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
  // Node lets a request take at most requestTimeout; its headers cannot take longer.
  if (e.SCIMD_HEADERS_TIMEOUT_MS > e.SCIMD_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('SCIMD_HEADERS_TIMEOUT_MS must not exceed SCIMD_REQUEST_TIMEOUT_MS')
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
    pgPoolMax: e.SCIMD_PG_POOL_MAX,
    sqliteMmapMb: e.SCIMD_SQLITE_MMAP_MB,
    http: Object.freeze({
      maxConnections: e.SCIMD_MAX_CONNECTIONS,
      headersTimeoutMs: e.SCIMD_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.SCIMD_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.SCIMD_KEEPALIVE_TIMEOUT_MS,
      maxHeaderBytes: e.SCIMD_MAX_HEADER_BYTES,
    }),
  })
}

function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i)
}
