/** The admin UI's guards: security headers, the session cookie, and CSRF (token + Origin) checks. */
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { UiSession } from '../../services/ui-sessions.js'
import * as uiSessions from '../../services/ui-sessions.js'
import type { AppEnv } from '../env.js'
import { originOf } from '../origin.js'
import { UI_BASE } from './layout.js'

export interface UiEnv {
  Bindings: AppEnv['Bindings']
  Variables: AppEnv['Variables'] & {
    /** The signed-in admin's session (set by requireSession). */
    session: UiSession
    /** The raw cookie value, for the CSRF check and sign-out. */
    sessionId: string
  }
}

export const SESSION_COOKIE = 'scimd_session'

/**
 * No inline script or style, nothing from elsewhere, no framing, forms only to scimd:
 * an injected tag could neither run nor send anything away.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ')

/** Headers on every UI response; pages are never cached (they show directory data). */
export function securityHeaders(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    await next()
    c.header('Content-Security-Policy', CSP)
    c.header('X-Frame-Options', 'DENY')
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'same-origin')
    c.header('Cross-Origin-Opener-Policy', 'same-origin')
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store')
  }
}

/** SCIMD_BASE_URL when set (scimd behind a proxy), else the origin the request came to. */
export function uiOrigin(c: Context<UiEnv>): string {
  return c.get('deps').config.baseUrl ?? originOf(c.req.url)
}

/** Whether the browser reached scimd over HTTPS: the request itself, or SCIMD_BASE_URL. */
function isHttps(c: Context<UiEnv>): boolean {
  return (
    c.req.url.startsWith('https:') ||
    (c.get('deps').config.baseUrl ?? '').toLowerCase().startsWith('https:')
  )
}

export function setSessionCookie(c: Context<UiEnv>, sessionId: string, expiresAt: string): void {
  setCookie(c, SESSION_COOKIE, sessionId, {
    path: UI_BASE,
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    expires: new Date(expiresAt),
  })
}

export function clearSessionCookie(c: Context<UiEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: UI_BASE, secure: isHttps(c) })
}

/** A `next` target kept only when it is a path inside the UI (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (next && /^\/if\/admin(?:\/[^/\\]|$)/.test(next) && !/[\r\n]/.test(next)) return next
  return `${UI_BASE}/`
}

/**
 * Signed-in pages: a cookie that opens a live session, else to the sign-in page (a GET keeps
 * where it was going; a POST is not replayed after sign-in).
 */
export function requireSession(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    const sessionId = getCookie(c, SESSION_COOKIE)
    const session = await uiSessions.resolveSession(c.get('deps'), sessionId)
    if (!session || sessionId === undefined) {
      if (sessionId !== undefined) clearSessionCookie(c)
      const target = c.req.method === 'GET' ? `?next=${encodeURIComponent(c.req.path)}` : ''
      return c.redirect(`${UI_BASE}/sign-in${target}`, 303)
    }
    c.set('session', session)
    c.set('sessionId', sessionId)
    return next()
  }
}

/**
 * Whether a state-changing request comes from scimd's own pages, by its Origin header (every
 * current browser sends it on a POST) or, without one, Sec-Fetch-Site. A request with
 * neither is no browser's, so no other site can have caused it; it still needs the CSRF
 * token, which only scimd's pages hold.
 */
export function isSameOrigin(c: Context<UiEnv>): boolean {
  const origin = c.req.header('origin')
  if (origin !== undefined) {
    if (origin === 'null') return false
    const own = originOf(c.req.url)
    const external = originOf(uiOrigin(c))
    return origin === own || origin === external
  }
  const site = c.req.header('sec-fetch-site')
  return site === undefined || site === 'same-origin'
}

export class CsrfError extends Error {
  override name = 'CsrfError'
}

/** Every POST: same origin and the session's CSRF token in the `csrf` field. */
export function requireCsrf(): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (!isSameOrigin(c)) throw new CsrfError('cross-origin request')
      const body = await formBody(c)
      const token = body.csrf
      if (
        typeof token !== 'string' ||
        !uiSessions.isCsrfTokenValid(c.get('deps'), c.get('sessionId'), token)
      ) {
        throw new CsrfError('missing or wrong CSRF token')
      }
    }
    await next()
  }
}

/** A form body as strings (a file field, which no UI form has, reads as absent). */
export async function formBody(c: Context<UiEnv>): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? ''
  if (
    !type.startsWith('application/x-www-form-urlencoded') &&
    !type.startsWith('multipart/form-data')
  ) {
    return {}
  }
  const parsed = await c.req.parseBody()
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v
  return out
}
