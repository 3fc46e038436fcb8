/** The origin scimd's URLs are built on: SCIMD_BASE_URL, else the request's own. */
import type { Context } from 'hono'
import type { AppEnv } from './env.js'

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

/** SCIMD_BASE_URL when set (scimd behind a proxy), else the origin the request came to. */
export function externalOrigin(c: Context<AppEnv>): string {
  return c.get('deps').config.baseUrl ?? originOf(c.req.url)
}
