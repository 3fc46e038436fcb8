/** Bearer authentication: source tokens for SCIM, superuser tokens for the admin API, both rate-limited. */
import type { BlockList } from 'node:net'
import type { Context, MiddlewareHandler } from 'hono'
import { EVENT_APPS } from '../core/events.js'
import { ScimError } from '../scim/errors.js'
import { scimBaseUrl } from '../scim/resources.js'
import { type Deps, derivedDeps } from '../services/deps.js'
import { recordThrottledEvent } from '../services/events.js'
import { authenticationFailed, checkNotBlocked, takeSourceRequest } from '../services/limits.js'
import * as tokens from '../services/tokens.js'
import { clientIp } from './client-ip.js'
import type { AppEnv } from './env.js'
import { externalOrigin } from './origin.js'

/** The bearer credential of a request (RFC 6750 §2.1), scheme case-insensitive. */
export function bearerKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}

/**
 * Counts a presented key that opened nothing (a `login_failed` event and a failure against
 * the client address) and returns the 401 to throw. A missing credential is no guess and is
 * not counted.
 */
async function refused(
  c: Context<AppEnv>,
  ip: string | null,
  slug: string | undefined,
  error: ScimError,
): Promise<ScimError> {
  await authenticationFailed(c.get('deps'), {
    clientIp: ip,
    slug,
    reason: 'invalid token',
    method: c.req.method,
    path: c.req.path,
  })
  return error
}

/** The request's deps, with who acts and from where for the events it records. */
function actingAs(deps: Deps, audit: NonNullable<Deps['audit']>): Deps {
  return derivedDeps(deps, { audit })
}

/**
 * Authenticates a SCIM request: the token must be the one of the source named in the URL.
 * A missing, wrong, expired or other source's token is 401 with a WWW-Authenticate
 * challenge; a disabled source is 403. A client address blocked for failed attempts, or a
 * source over its request rate, is 429.
 */
export function scimAuth(trusted: BlockList | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps')
    const ip = clientIp(c, trusted)
    checkNotBlocked(deps, ip)
    const key = bearerKey(c.req.header('authorization'))
    if (!key) throw ScimError.unauthorized('Authentication credentials were not provided')
    const slug = c.req.param('slug') ?? ''
    const source = await tokens.verifySourceKey(deps, slug, key)
    if (!source) {
      throw await refused(c, ip, slug, ScimError.unauthorized('Invalid token', 'invalid_token'))
    }
    if (!source.enabled) {
      // The identity provider still sends to a source an admin disabled: tell the admins once
      // a minute, not once a request.
      await recordThrottledEvent(deps, `disabled:${source.id}`, {
        action: 'configuration_error',
        app: EVENT_APPS.scim,
        user: null,
        clientIp: ip,
        source: { id: source.id, slug: source.slug },
        context: { message: 'A request reached a disabled source' },
      })
      throw ScimError.forbidden('This source is disabled')
    }
    takeSourceRequest(deps, source.id)
    c.set('source', source)
    c.set('baseUrl', scimBaseUrl(externalOrigin(c), source.slug))
    c.set(
      'deps',
      actingAs(deps, {
        // The source's service account (services/sources.ts names it after the source).
        user:
          source.serviceAccountId === null
            ? null
            : { pk: source.serviceAccountId, username: `ak-source-scim-${source.id}` },
        clientIp: ip,
        app: EVENT_APPS.scim,
      }),
    )
    await next()
  }
}

/**
 * Authenticates an admin API request: a live (unexpired) API-intent token of an active
 * superuser, else 401 / 403; 429 from a client address blocked for failed attempts.
 */
export function adminAuth(trusted: BlockList | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps')
    const ip = clientIp(c, trusted)
    checkNotBlocked(deps, ip)
    const key = bearerKey(c.req.header('authorization'))
    if (!key) throw ScimError.unauthorized('Authentication credentials were not provided.')
    const { token, user } = await tokens.authenticateAdmin(deps, key).catch(async (err) => {
      // A key that is no API token counts as a failed attempt; a non-superuser does not.
      if (err instanceof ScimError && err.status === 401) throw await refused(c, ip, undefined, err)
      throw err
    })
    c.set('adminToken', token)
    c.set('adminUser', user)
    c.set(
      'deps',
      actingAs(deps, {
        user: { pk: user.pk, username: user.username },
        clientIp: ip,
        app: EVENT_APPS.api,
      }),
    )
    await next()
  }
}
