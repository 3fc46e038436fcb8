/**
 * A runtime and app on a database of the caller's choice (SQLite in memory, or a throwaway
 * PostgreSQL schema), for tests that need two databases at once, such as export → import.
 */
import { onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { type Runtime, startRuntime } from '../../src/runtime.js'
import { createScratchSchema, PG_URL } from './pg.js'

export interface TestRuntime {
  runtime: Runtime
  app: ReturnType<typeof createApp>
}

/** Starts a migrated runtime; closed (and its schema dropped) when the test finishes. */
export async function startTestRuntime(
  database: 'sqlite' | 'postgres',
  env: Record<string, string> = {},
): Promise<TestRuntime> {
  const config = loadConfig({
    DATABASE_URL: database === 'postgres' ? PG_URL : 'sqlite::memory:',
    LOG_LEVEL: 'silent',
    ...env,
  })
  const scratch = database === 'postgres' ? await createScratchSchema() : undefined
  let runtime: Runtime | undefined
  onTestFinished(async () => {
    await runtime?.close()
    await scratch?.drop()
  })
  runtime = await startRuntime(config, {
    logger: createLogger('silent'),
    // As the server runs: on PostgreSQL, token lookups are cached (credential-watch.ts).
    serving: true,
    ...(scratch ? { searchPath: scratch.schema } : {}),
  })
  return { runtime, app: createApp(runtime.deps) }
}
