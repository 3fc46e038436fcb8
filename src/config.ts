/** Reads the environment once into a frozen, typed Config; the only reader of process.env. */
import { isIP } from 'node:net'
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
  /** How long events are kept, in days (authentik's event retention). */
  readonly eventRetentionDays: number
  /**
   * Whether each SCIM write of a source records a model_created/updated/deleted event
   * (SCIMD_PROVISIONING_EVENTS, default on). Admin changes, secrets, failed authentication
   * and provider syncs are recorded either way.
   */
  readonly provisioningEvents: boolean
  /** Failed bearer authentications from one client address that start a block (0: no limit). */
  readonly authFailureLimit: number
  /** The window those failures are counted in, and at most how long a block lasts, in seconds. */
  readonly authFailureWindowSeconds: number
  /** Requests per second one source may make per instance (0: no limit). */
  readonly sourceRateLimit: number
  /** Requests a source may make at once above its rate (the bucket's size). */
  readonly sourceRateBurst: number
  /**
   * Peers whose X-Forwarded-For is believed: addresses or CIDR blocks. Empty: the client
   * address is always the socket's.
   */
  readonly trustedProxies: readonly string[]
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
  SCIMD_EVENT_RETENTION_DAYS: z.coerce.number().positive().max(36_500).default(30),
  SCIMD_PROVISIONING_EVENTS: z.enum(['on', 'off']).default('on'),
  SCIMD_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(20),
  SCIMD_AUTH_FAILURE_WINDOW: z.coerce.number().int().positive().max(86_400).default(300),
  SCIMD_SOURCE_RATE_LIMIT: z.coerce.number().min(0).max(1_000_000).default(0),
  SCIMD_SOURCE_RATE_BURST: z.coerce.number().int().positive().max(1_000_000).optional(),
  SCIMD_TRUSTED_PROXIES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
    )
    .pipe(z.array(z.string().refine(isAddressOrCidr, 'expected IP addresses or CIDR blocks')))
    .default([]),
  SCIMD_MAX_CONNECTIONS: z.coerce.number().int().positive().default(1000),
  SCIMD_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  SCIMD_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  SCIMD_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  SCIMD_MAX_HEADER_BYTES: z.coerce.number().int().min(1024).default(16_384),
})

/** An IPv4 or IPv6 address, optionally with a /prefix length. */
function isAddressOrCidr(text: string): boolean {
  const [address, bits, extra] = text.split('/')
  if (extra !== undefined || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  if (!/^[0-9]{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}

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
    bulkMaxOperations: e.SCIMD_BULK_MAX_OPERATIONS,
    bulkMaxPayloadBytes: e.SCIMD_BULK_MAX_PAYLOAD_BYTES,
    pgPoolMax: e.SCIMD_PG_POOL_MAX,
    sqliteMmapMb: e.SCIMD_SQLITE_MMAP_MB,
    metrics: e.SCIMD_METRICS === 'on',
    providerSync: e.SCIMD_PROVIDER_SYNC === 'on',
    providerSyncIntervalSeconds: e.SCIMD_PROVIDER_SYNC_INTERVAL,
    providerLeaseSeconds: e.SCIMD_PROVIDER_LEASE,
    eventRetentionDays: e.SCIMD_EVENT_RETENTION_DAYS,
    provisioningEvents: e.SCIMD_PROVISIONING_EVENTS === 'on',
    authFailureLimit: e.SCIMD_AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: e.SCIMD_AUTH_FAILURE_WINDOW,
    sourceRateLimit: e.SCIMD_SOURCE_RATE_LIMIT,
    sourceRateBurst: e.SCIMD_SOURCE_RATE_BURST ?? Math.max(1, Math.ceil(e.SCIMD_SOURCE_RATE_LIMIT)),
    trustedProxies: Object.freeze(e.SCIMD_TRUSTED_PROXIES),
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
