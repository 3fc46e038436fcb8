/** Admin UI sign-in: an admin API token is exchanged for a server-side session; CSRF tokens per session. */
import { randomBytes } from 'node:crypto'
import type { DirectoryUser } from '../core/domain.js'
import { nowIso } from '../core/ids.js'
import * as directory from '../store/directory.js'
import * as sessions from '../store/ui-sessions.js'
import type { Deps } from './deps.js'
import { isExpired, verifyKey } from './tokens.js'

/** How long a session lasts from sign-in, whatever its use (an absolute limit, not idle time). */
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000

/** A session id is 32 random bytes, base64url: 43 characters. Anything else finds nothing. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

export interface UiSession {
  user: DirectoryUser
  tokenId: string
  expiresAt: string
  /** The CSRF token of this session, for the hidden field of every form. */
  csrfToken: string
}

export type SignInResult =
  | { ok: true; sessionId: string; expiresAt: string }
  | { ok: false; reason: 'invalid' | 'forbidden' }

/**
 * Signs in with an admin API token: a live API-intent token of an active superuser (the
 * same rule as the admin API's bearer check). A source's token belongs to its service
 * account, which is no superuser, so it is refused. Returns a new random session id; only
 * its keyed digest is stored.
 */
export async function signIn(deps: Deps, key: string): Promise<SignInResult> {
  const token = await verifyKey(deps, key.trim())
  if (token?.intent !== 'api') return { ok: false, reason: 'invalid' }
  const user = await directory.findUserByPk(deps.db, token.userId)
  if (!user?.isActive || !(await directory.isSuperuser(deps.db, user.pk))) {
    return { ok: false, reason: 'forbidden' }
  }
  // verifyKey found the token by this digest: a later rotation changes the token's.
  const keyDigest = deps.secrets.digest(key.trim())
  const sessionId = randomBytes(32).toString('base64url')
  const now = nowIso()
  const expiresAt = new Date(Date.now() + SESSION_LIFETIME_MS).toISOString()
  // Expired rows are few and go on each sign-in: no timer is needed, on any instance.
  await sessions.deleteExpiredUiSessions(deps.db, now)
  await sessions.insertUiSession(deps.db, {
    idDigest: sessionDigest(deps, sessionId),
    userId: user.pk,
    tokenId: token.id,
    tokenKeyDigest: keyDigest,
    createdAt: now,
    expiresAt,
  })
  return { ok: true, sessionId, expiresAt }
}

function sessionDigest(deps: Deps, sessionId: string): string {
  return deps.secrets.digest(`ui-session\n${sessionId}`)
}

/**
 * The CSRF token of a session: a keyed digest of its id under another label, so it needs no
 * storage, differs per session, and reveals nothing about the session id.
 */
export function csrfTokenOf(deps: Deps, sessionId: string): string {
  return deps.secrets.digest(`ui-csrf\n${sessionId}`)
}

/** Whether `presented` is the session's CSRF token (constant-time). */
export function isCsrfTokenValid(deps: Deps, sessionId: string, presented: string): boolean {
  const expected = csrfTokenOf(deps, sessionId)
  return presented.length === expected.length && deps.secrets.digestsEqual(expected, presented)
}

/**
 * The session a cookie value opens, or undefined: unknown, expired, or its token deleted,
 * expired, rotated or no longer an admin's. An expired session's row is deleted.
 */
export async function resolveSession(
  deps: Deps,
  sessionId: string | undefined,
): Promise<UiSession | undefined> {
  if (!sessionId || !SESSION_ID.test(sessionId)) return undefined
  const digest = sessionDigest(deps, sessionId)
  const state = await sessions.findUiSession(deps.db, digest)
  if (!state) return undefined
  const now = Date.now()
  if (Date.parse(state.expiresAt) <= now) {
    await sessions.deleteUiSession(deps.db, digest)
    return undefined
  }
  const tokenLive =
    state.tokenIntent === 'api' &&
    !isExpired({ expiring: state.tokenExpiring, expires: state.tokenExpires }, now) &&
    deps.secrets.digestsEqual(state.signedInKeyDigest, state.currentKeyDigest)
  if (!tokenLive || !state.userIsActive) return undefined
  const user = await directory.findUserByPk(deps.db, state.userId)
  if (!user || !(await directory.isSuperuser(deps.db, user.pk))) return undefined
  return {
    user,
    tokenId: state.tokenId,
    expiresAt: state.expiresAt,
    csrfToken: csrfTokenOf(deps, sessionId),
  }
}

/** Ends a session (sign-out): its row is deleted, so the cookie opens nothing any more. */
export async function signOut(deps: Deps, sessionId: string | undefined): Promise<void> {
  if (!sessionId || !SESSION_ID.test(sessionId)) return
  await sessions.deleteUiSession(deps.db, sessionDigest(deps, sessionId))
}
