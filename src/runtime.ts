/** Builds the running pieces from a Config: database (migrated), secrets, logger, services' deps. */
import type { Config } from './config.js'
import { nowIso } from './core/ids.js'
import { createMetrics, type Metrics } from './core/metrics.js'
import { createLogger, type Logger } from './logger.js'
import { createSecrets, resolveSecretKey, SecretMismatchError, type Secrets } from './secrets.js'
import type { Deps } from './services/deps.js'
import { startEventExpiry } from './services/events.js'
import { Limits } from './services/limits.js'
import { ensureBootstrapAdmin } from './services/sources.js'
import { connect, type Store } from './store/connect.js'
import type { Executor } from './store/database.js'
import { appliedMigrations, migrateToLatest } from './store/migrate.js'
import {
  findAnySealedKey,
  findServerState,
  insertServerStateIfAbsent,
  upsertServerState,
} from './store/server-state.js'

const SECRET_FINGERPRINT = 'secret_fingerprint'

export interface Runtime {
  deps: Deps
  store: Store
  close(): Promise<void>
}

export async function startRuntime(
  config: Config,
  opts: {
    logger?: Logger
    migrate?: boolean
    searchPath?: string
    /**
     * A long-running server: SQLite's WAL checkpoints on a worker thread (store/sqlite/checkpointer.ts);
     * on PostgreSQL, token lookups kept until a credential change is notified.
     */
    serving?: boolean
  } = {},
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.logLevel)
  const store = connect(config.database, {
    poolMax: config.pgPoolMax,
    sqliteMmapBytes: config.sqliteMmapMb * 2 ** 20,
    ...(opts.searchPath ? { searchPath: opts.searchPath } : {}),
    onPoolError: (err) => logger.warn('database connection lost', { error: err.message }),
    ...(opts.serving
      ? {
          backgroundCheckpoints: {
            onError: (message: string) =>
              logger.warn('background WAL checkpoint failed', { error: message }),
          },
        }
      : {}),
  })
  try {
    if (opts.migrate ?? true) await migrateToLatest(store.db)
    if (opts.serving) {
      store.watchCredentials((hearing, error) =>
        hearing
          ? logger.info('credential change notifications heard; token lookups cached')
          : logger.warn(
              'credential change notifications lost; every token is checked in the database until they are back',
              { error: error?.message },
            ),
      )
    }
    // Only a database holding sealed keys binds the secret: an empty one takes any.
    const sealed = await findAnySealedKey(store.db)
    const expected =
      sealed === undefined ? undefined : await findServerState(store.db, SECRET_FINGERPRINT)
    const secretKey = resolveSecretKey({
      secretKey: config.secretKey,
      dataDir: config.dataDir,
      persistent: config.database.kind === 'sqlite' && config.database.path !== ':memory:',
      expected,
    })
    const secrets = createSecrets(secretKey)
    await checkServerSecret(store.db, secrets, sealed, expected)
    const metrics = config.metrics && opts.serving ? serverMetrics(store) : undefined
    const deps: Deps = {
      db: store.db,
      reader: store.reader,
      readVersion: store.readVersion,
      credentialsVersion: store.credentialsVersion,
      credentialsChanged: store.credentialsChanged,
      dialect: store.dialect,
      transactor: store.transactor,
      secrets,
      logger,
      config,
      metrics,
      limits: new Limits(),
    }
    if (config.bootstrapToken) await ensureBootstrapAdmin(deps, config.bootstrapToken)
    // Expired events are deleted in the background by a long-running server.
    const stopExpiry = opts.serving ? startEventExpiry(deps) : undefined
    return {
      deps,
      store,
      close: async () => {
        await stopExpiry?.()
        await store.close()
      },
    }
  } catch (err) {
    await store.close()
    throw err
  }
}

/**
 * Refuses a secret that does not open the database's tokens: started anyway, every token
 * would answer 401 and view_key would fail, with nothing saying why. The database records
 * the fingerprint of the first secret it runs with; a database from before that record is
 * checked by opening one sealed key, then recorded.
 */
async function checkServerSecret(
  db: Executor,
  secrets: Secrets,
  sealed: string | undefined,
  expected: string | undefined,
): Promise<void> {
  if (sealed === undefined) {
    // Nothing sealed yet (a new database, or one a failed import left empty): any secret
    // does, and the one starting now is what the first token will be sealed with.
    await upsertServerState(db, SECRET_FINGERPRINT, secrets.fingerprint, nowIso())
    return
  }
  let recorded = expected
  if (recorded === undefined) {
    try {
      await secrets.unseal(sealed)
    } catch {
      throw new SecretMismatchError(
        `The server secret (fingerprint ${secrets.fingerprint}) does not open this database's ` +
          'tokens. Start with the SCIMD_SECRET_KEY (or data/secret.key) the database was ' +
          'created or imported with.',
      )
    }
    await insertServerStateIfAbsent(db, SECRET_FINGERPRINT, secrets.fingerprint, nowIso())
    // Another instance starting at the same moment may have recorded its secret first.
    recorded = await findServerState(db, SECRET_FINGERPRINT)
  }
  if (recorded !== secrets.fingerprint) {
    throw new SecretMismatchError(
      `The server secret has fingerprint ${secrets.fingerprint}, but this database's tokens are ` +
        `sealed with the secret whose fingerprint is ${recorded}. Start with that secret ` +
        '(the SCIMD_SECRET_KEY or data/secret.key the database was created or imported with); ' +
        'with this one every token would be refused.',
    )
  }
}

/**
 * `scimd migrate`: applies pending migrations and says which, without the secret check or
 * the bootstrap token (a migration needs neither).
 */
export async function migrateDatabase(
  config: Config,
): Promise<{ applied: string[]; migrations: string[] }> {
  const store = connect(config.database, { poolMax: 2 })
  try {
    const result = await migrateToLatest(store.db)
    const applied = (result.results ?? [])
      .filter((r) => r.status === 'Success')
      .map((r) => r.migrationName)
    return { applied, migrations: await appliedMigrations(store.db) }
  } finally {
    await store.close()
  }
}

/** The metrics of a serving runtime, with the database pool's use read at each scrape. */
function serverMetrics(store: Store): Metrics {
  const metrics = createMetrics()
  metrics.gauge(
    'scimd_db_pool_connections',
    'PostgreSQL pool connections by state (open, idle, waiting callers, max); none on SQLite',
    ['state'],
    () => {
      const stats = store.poolStats()
      if (!stats) return []
      return [
        { labels: { state: 'open' }, value: stats.total },
        { labels: { state: 'idle' }, value: stats.idle },
        { labels: { state: 'waiting' }, value: stats.waiting },
        { labels: { state: 'max' }, value: stats.max },
      ]
    },
  )
  return metrics
}
