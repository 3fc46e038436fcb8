/** Serves the app with @hono/node-server and shuts down gracefully on SIGINT/SIGTERM. */
import type { EventEmitter } from 'node:events'
import { serve } from '@hono/node-server'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { startRuntime } from '../runtime.js'
import { startProviderSync } from '../services/providers.js'
import { createApp } from './app.js'
import { batchResponses } from './batch-responses.js'

export async function runServer(config: Config): Promise<void> {
  const runtime = await startRuntime(config, { serving: true })
  const { logger } = runtime.deps
  const app = createApp(runtime.deps)
  // Pushes to outbound providers; with several instances the lease rows share the work.
  const worker = config.providerSync
    ? startProviderSync(runtime.deps, {
        fullSyncIntervalMs: config.providerSyncIntervalSeconds * 1000,
        leaseMs: config.providerLeaseSeconds * 1000,
      })
    : undefined
  const server = serve(
    { fetch: batchResponses(app.fetch), hostname: config.host, port: config.port },
    (info) => {
      logger.info('scimd listening', {
        url: `http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`,
        database: config.database.kind,
      })
    },
  )
  watchServerErrors(server, logger, (error) => {
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
    server.close(async () => {
      await worker?.stop().catch(() => undefined)
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

/**
 * Before the server listens, an error is about the port: already taken (EADDRINUSE) or not
 * ours to bind (EACCES). `cannotListen` is told (runServer logs one line and exits 1, rather
 * than Node printing a stack trace for an unhandled 'error' event). Once it listens, an error
 * is a connection it could not accept (libuv handles running out of file descriptors itself,
 * by closing the waiting connections; others, such as ENOBUFS, reach here): the server goes
 * on listening, so it goes on serving, and the log says so at most once a minute, with how
 * many there were.
 */
export function watchServerErrors(
  server: EventEmitter,
  logger: Logger,
  cannotListen: (error: NodeJS.ErrnoException) => void,
): void {
  let listening = false
  server.once('listening', () => {
    listening = true
  })
  const cannotAccept = throttled(60_000, (error: NodeJS.ErrnoException, count: number) =>
    logger.warn('cannot accept a connection', { code: error.code, error: error.message, count }),
  )
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (listening) cannotAccept(error)
    else cannotListen(error)
  })
}

/**
 * Calls `report` with the first event and then at most once per `intervalMs`, with the
 * latest event and how many there were since the last report (the first included).
 */
function throttled<E>(intervalMs: number, report: (event: E, count: number) => void) {
  let lastReport = Number.NEGATIVE_INFINITY
  let count = 0
  return (event: E): void => {
    count++
    const now = performance.now()
    if (now - lastReport < intervalMs) return
    lastReport = now
    report(event, count)
    count = 0
  }
}
