/** GET /metrics: the Prometheus text format, for an admin API token (scrapers send it as a bearer token). */
import { Hono, type MiddlewareHandler } from 'hono'
import type { Metrics } from '../core/metrics.js'
import type { AppEnv } from './env.js'

export function metricsRoutes(metrics: Metrics, auth: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/', auth, async (c) =>
    c.body(await metrics.render(), 200, {
      'Content-Type': metrics.contentType,
      'Cache-Control': 'no-store',
    }),
  )
  return app
}
