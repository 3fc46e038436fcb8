/** createApp(deps): middleware, the SCIM and admin mounts, health, and the one error renderer. */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getPath } from 'hono/utils/url'
import { ScimError } from '../scim/errors.js'
import type { Deps } from '../services/deps.js'
import { isReady } from '../services/health.js'
import { ADMIN_PREFIX, adminApi } from './admin/app.js'
import { adminAuth, scimAuth } from './auth.js'
import { trustedProxies } from './client-ip.js'
import type { AppEnv } from './env.js'
import { metricsRoutes } from './metrics.js'
import { observeRequest } from './observe.js'
import { renderAdminError, renderScimError } from './render-error.js'
import { bulkRoutes } from './scim/bulk.js'
import { discoveryRoutes } from './scim/discovery.js'
import { groupRoutes } from './scim/groups.js'
import { searchRoutes } from './scim/search.js'
import { userRoutes } from './scim/users.js'
import { securityHeaders } from './security-headers.js'
import { adminUi, UI_BASE } from './ui/index.js'

export const SCIM_PREFIX = '/source/scim/:slug/v2'
/** What every SCIM path starts with: SCIM_PREFIX up to its slug. */
const SCIM_PATHS = SCIM_PREFIX.slice(0, SCIM_PREFIX.indexOf(':'))

/**
 * Endpoint names that a real client spells differently: Microsoft's SCIM test collection
 * reads `/users` and `/serviceConfiguration`. No other spelling is accepted.
 */
const ENDPOINT_ALIASES: Record<string, string> = {
  users: 'Users',
  serviceConfiguration: 'ServiceProviderConfig',
}

/**
 * The path routes see: without a trailing slash (authentik's admin API ends paths with `/`,
 * Microsoft's collection reads `/Users/?filter=…`) and with aliased SCIM endpoints canonical.
 */
export function canonicalPath(request: Request): string {
  const raw = getPath(request)
  const path = raw.length > 1 && raw.endsWith('/') ? raw.replace(/\/+$/, '') || '/' : raw
  const match = /^(\/source\/scim\/[^/]+\/v2\/)([^/]+)(.*)$/.exec(path)
  if (!match) return path
  const [, prefix, endpoint, rest] = match as unknown as [string, string, string, string]
  const canonical = ENDPOINT_ALIASES[endpoint]
  return canonical ? `${prefix}${canonical}${rest}` : path
}

function isAdminPath(path: string): boolean {
  return path.startsWith('/api/') || path === '/metrics'
}

export function createApp(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ getPath: canonicalPath })

  // One middleware for what every request needs first (each layer of Hono's middleware chain
  // costs a dispatch and a promise, on every request): its id, deps, the NUL check, and
  // afterwards its metrics and log line (observe.ts).
  const logAll = deps.logger.enabled('debug')
  const logWrites = deps.logger.enabled('info')
  const observe = logWrites || deps.metrics !== undefined
  // One list for auth, rate limits, events and the request log: they name the same client.
  const trusted = trustedProxies(deps.config.trustedProxies)
  app.use('*', async (c, next) => {
    // X-Request-Id as hono/request-id does it: a sane incoming id is kept, else a new one.
    let id = c.req.header('x-request-id')
    if (!id || id.length > 255 || /[^\w\-=]/.test(id)) id = crypto.randomUUID()
    c.set('requestId', id)
    // Every response on a SCIM path is built by scimResponse, which adds the id itself.
    if (!c.req.path.startsWith(SCIM_PATHS)) c.header('X-Request-Id', id)
    c.set('deps', deps)
    // A NUL in the URL (path or query) is never valid input; PostgreSQL could not even
    // compare it, so it is refused before any route sees it.
    if (c.req.url.includes('%00')) throw ScimError.invalidValue('NUL characters are not allowed')
    if (!observe) return next()
    const started = performance.now()
    await next()
    observeRequest(c, deps, { started, logAll, logWrites, trusted })
  })

  // The admin API reads bodies through the fetch Request (its validators), so Hono's
  // bodyLimit guards it; SCIM routes read theirs with readJsonBody, which has its own limit.
  // Only methods with a body: on a GET, bodyLimit would make node-server build a full
  // Request object for nothing.
  const limitBody = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: () => {
      throw ScimError.payloadTooLarge(deps.config.maxBodyBytes)
    },
  })
  app.use(`${ADMIN_PREFIX}/*`, securityHeaders())
  app.use(`${ADMIN_PREFIX}/*`, (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next),
  )

  app.get('/-/health/live', (c) => c.body(null, 204))
  app.get('/-/health/ready', async (c) => {
    if (await isReady(deps)) return c.body(null, 204)
    return c.json({ detail: 'database not ready' }, 503)
  })

  const scim = new Hono<AppEnv>()
  scim.use('*', scimAuth(trusted))
  scim.route('/Users', userRoutes())
  scim.route('/Groups', groupRoutes())
  scim.route('/Bulk', bulkRoutes())
  scim.route('/', discoveryRoutes())
  scim.route('/', searchRoutes())
  app.route(SCIM_PREFIX, scim)

  app.route(ADMIN_PREFIX, adminApi(adminAuth(trusted)))
  if (deps.metrics) app.route('/metrics', metricsRoutes(deps.metrics, adminAuth(trusted)))

  // The admin web UI (authentik's path); scimd's root leads there.
  app.get('/', (c) => c.redirect(`${UI_BASE}/`, 302))
  app.route(UI_BASE, adminUi(trusted))

  app.notFound((c) => {
    const error = ScimError.notFound(`No endpoint at ${c.req.path}`)
    return isAdminPath(c.req.path) ? renderAdminError(c, error) : renderScimError(c, error)
  })
  app.onError((err, c) =>
    isAdminPath(c.req.path) ? renderAdminError(c, err) : renderScimError(c, err),
  )
  return app
}
