/** Builds the running pieces from a Config: database (migrated), secrets, logger, services' deps. */
import type { Config } from './config.js'
import { createLogger, type Logger } from './logger.js'
import { createSecrets, resolveSecretKey } from './secrets.js'
import type { Deps } from './services/deps.js'
import { ensureBootstrapAdmin } from './services/sources.js'
import { connect, type Store } from './store/connect.js'
import { migrateToLatest } from './store/migrate.js'

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
    const secretKey = resolveSecretKey({
      secretKey: config.secretKey,
      dataDir: config.dataDir,
      persistent: config.database.kind === 'sqlite' && config.database.path !== ':memory:',
    })
    const deps: Deps = {
      db: store.db,
      reader: store.reader,
      readVersion: store.readVersion,
      credentialsVersion: store.credentialsVersion,
      credentialsChanged: store.credentialsChanged,
      dialect: store.dialect,
      transactor: store.transactor,
      secrets: createSecrets(secretKey),
      logger,
      config,
    }
    if (config.bootstrapToken) await ensureBootstrapAdmin(deps, config.bootstrapToken)
    return { deps, store, close: () => store.close() }
  } catch (err) {
    await store.close()
    throw err
  }
}
