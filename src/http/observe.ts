/** After each request: its metrics, and its log line (at info: SCIM writes and errors; at debug: all). */
import type { BlockList } from 'node:net'
import type { Context } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { Deps } from '../services/deps.js'
import { clientIp } from './client-ip.js'
import type { AppEnv } from './env.js'

const SCIM_PATH = /^\/source\/scim\/([^/]+)\/v2(\/[^/]*)?/
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const OPERATIONS: Record<string, string> = {
  POST: 'create',
  PUT: 'replace',
  PATCH: 'patch',
  DELETE: 'delete',
}
const RESOURCES: Record<string, string> = { '/Users': 'User', '/Groups': 'Group', '/Bulk': 'Bulk' }

/** The route pattern that answered; `unmatched` for a 404 no route claimed. */
function endpointOf(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c)
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i]
    // Middleware is registered for ALL methods; the handler that answered has its own.
    if (route && route.method !== 'ALL') return route.path
  }
  return 'unmatched'
}

/**
 * Records a finished request. The metrics' source label is the authenticated source only
 * (a path anyone can send must not create label values); the log names the slug of the
 * path, authenticated or not. Never a header value but User-Agent, never a body: no secret
 * reaches the log (the logger also redacts fields named like one). The client address is
 * the one auth and rate limits use (client-ip.ts): X-Forwarded-For only from a trusted proxy.
 */
export function observeRequest(
  c: Context<AppEnv>,
  deps: Deps,
  how: { started: number; logAll: boolean; logWrites: boolean; trusted: BlockList | undefined },
): void {
  const { started, logAll, logWrites } = how
  const status = c.res.status
  const method = c.req.method
  const path = c.req.path
  const scim = SCIM_PATH.exec(path)
  const isWrite = scim !== null && WRITES.has(method) && !path.endsWith('/.search')
  const seconds = (performance.now() - started) / 1000
  const source = c.get('source')?.slug ?? ''
  const metrics = deps.metrics
  if (metrics) {
    const endpoint = endpointOf(c)
    metrics.observeRequest({ source, endpoint, method, status, seconds })
    if (isWrite && status < 300) {
      metrics.provisioned(
        source,
        RESOURCES[scim?.[2] ?? ''] ?? 'other',
        OPERATIONS[method] ?? method,
      )
    }
  }
  if (!(logAll || (logWrites && (isWrite || status >= 400)))) return
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'
  deps.logger[logAll && level === 'info' && !isWrite ? 'debug' : level]('request', {
    requestId: c.get('requestId'),
    source: scim ? decodeURIComponent(scim[1] ?? '') : undefined,
    method,
    path,
    status,
    scimType: c.get('scimType'),
    ip: clientIp(c, how.trusted),
    userAgent: c.req.header('user-agent'),
    ms: Math.round(seconds * 10_000) / 10,
  })
}
