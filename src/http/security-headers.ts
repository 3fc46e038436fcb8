/** Security headers on every admin API response (errors included). */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './env.js'

/**
 * The admin API answers JSON only, so its policy allows nothing to load or frame it; the
 * admin UI sets its own (a page needs its scripts and styles).
 */
export const ADMIN_API_CSP =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': ADMIN_API_CSP,
  // Admin answers hold directory data, and some a key (source create, view_key, rotate):
  // no cache, shared or private, keeps any of them (RFC 9111 §5.2.2.5).
  'Cache-Control': 'no-store',
}

/** Sets each header a route did not set itself. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    const headers = c.res.headers
    for (const [name, value] of Object.entries(HEADERS)) {
      if (!headers.has(name)) headers.set(name, value)
    }
  }
}
