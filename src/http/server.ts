/** Serves the app with @hono/node-server and shuts down gracefully on SIGINT/SIGTERM. */
import { serve } from '@hono/node-server'
import type { Config } from '../config.js'
import { startRuntime } from '../runtime.js'
import { createApp } from './app.js'
import { batchResponses } from './batch-responses.js'

export async function runServer(config: Config): Promise<void> {
  const runtime = await startRuntime(config, { serving: true })
  const { logger } = runtime.deps
  const app = createApp(runtime.deps)
  const server = serve(
    { fetch: batchResponses(app.fetch), hostname: config.host, port: config.port },
    (info) => {
      logger.info('scimd listening', {
        url: `http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`,
        database: config.database.kind,
      })
    },
  )
  // A port already taken (EADDRINUSE) or not ours to bind (EACCES): said in one log line,
  // not Node's stack trace for an unhandled 'error' event, and the process exits 1.
  server.once('error', (error: NodeJS.ErrnoException) => {
    logger.error('cannot listen', {
      address: `${config.host}:${config.port}`,
      code: error.code,
      error: error.message,
    })
    runtime.close().then(
      () => process.exit(1),
      () => process.exit(1),
    )
  })
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    logger.info('shutting down', { signal })
    server.close(() => {
      runtime.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    })
    setTimeout(() => process.exit(1), 10_000).unref()
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}
