/** Bearer authentication: source tokens for SCIM, superuser tokens for the admin API. */
import type { MiddlewareHandler } from 'hono'
import { ScimError } from '../scim/errors.js'
import { scimBaseUrl } from '../scim/resources.js'
import * as tokens from '../services/tokens.js'
import type { AppEnv } from './env.js'
import { externalOrigin } from './origin.js'

/** The bearer credential of a request (RFC 6750 §2.1), scheme case-insensitive. */
export function bearerKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
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
    c.set('source', source)
    c.set('baseUrl', scimBaseUrl(externalOrigin(c), source.slug))
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
    const { token, user } = await tokens.authenticateAdmin(deps, key)
    c.set('adminToken', token)
    c.set('adminUser', user)
    await next()
  }
}
