/** Bearer authentication: source tokens for SCIM, superuser tokens for the admin API. */
import type { MiddlewareHandler } from 'hono'
import { ScimError } from '../scim/errors.js'
import * as tokens from '../services/tokens.js'
import * as directory from '../store/directory.js'
import type { AppEnv } from './env.js'

/** The bearer credential of a request (RFC 6750 §2.1), scheme case-insensitive. */
export function bearerKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}

/**
 * An authority `new URL()` leaves as it is: a lower-case host name whose last label starts
 * with a letter (else WHATWG reads it as an IPv4 address), or a dotted quad without leading
 * zeros, with a port without them; no user info.
 */
const PLAIN_AUTHORITY =
  /^(?:(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*|(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))(?::[1-9]\d{0,4})?$/

/**
 * `new URL(url).origin`, without parsing the whole URL on every request when the authority
 * is a plain one (node-server passes those through as the client sent them).
 */
export function originOf(url: string): string {
  const authorityStart = url.indexOf('//') + 2
  const pathStart = url.indexOf('/', authorityStart)
  const end = pathStart === -1 ? url.length : pathStart
  if (authorityStart < 2 || !PLAIN_AUTHORITY.test(url.slice(authorityStart, end))) {
    return new URL(url).origin
  }
  return url.slice(0, end)
}

/**
 * Authenticates a SCIM request: the token must be the one of the source named in the URL.
 * A missing, wrong, expired or other source's token is 401 with a WWW-Authenticate
 * challenge; a disabled source is 403.
 */
export function scimAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps')
    const key = bearerKey(c.req.header('authorization'))
    if (!key) throw ScimError.unauthorized('Authentication credentials were not provided')
    const source = await tokens.verifySourceKey(deps, c.req.param('slug') ?? '', key)
    if (!source) throw ScimError.unauthorized('Invalid token', 'invalid_token')
    if (!source.enabled) throw ScimError.forbidden('This source is disabled')
    const origin = deps.config.baseUrl ?? originOf(c.req.url)
    c.set('source', source)
    c.set('baseUrl', `${origin}/source/scim/${encodeURIComponent(source.slug)}/v2`)
    await next()
  }
}

/**
 * Authenticates an admin API request: a live (unexpired) API-intent token of an active
 * superuser, else 401 / 403.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps')
    const key = bearerKey(c.req.header('authorization'))
    if (!key) throw ScimError.unauthorized('Authentication credentials were not provided.')
    const token = await tokens.verifyKey(deps, key)
    // Only API tokens authenticate API requests, as in authentik (not recovery or
    // verification tokens).
    if (token?.intent !== 'api') {
      throw ScimError.unauthorized('Token invalid/expired', 'invalid_token')
    }
    const user = await directory.findUserByPk(deps.db, token.userId)
    if (!user?.isActive || !(await directory.isSuperuser(deps.db, user.pk))) {
      throw ScimError.forbidden('You do not have permission to perform this action.')
    }
    c.set('adminToken', token)
    c.set('adminUser', user)
    await next()
  }
}
