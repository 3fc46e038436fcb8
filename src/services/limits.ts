/**
 * Brute-force and flood limits: failed bearer authentications counted per client address
 * (shared through the database), and an optional request rate per source (per process).
 */
import { isIPv6 } from 'node:net'
import { EVENT_APPS, type EventSource } from '../core/events.js'
import { nowIso } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import { countAuthFailure } from '../store/events.js'
import { findSourceBySlug } from '../store/sources.js'
import { type Deps, inTransaction } from './deps.js'
import { recordEvent } from './events.js'

/** Most client addresses this process remembers as blocked: bounds its memory under attack. */
const MAX_BLOCKED = 100_000
const MAX_BUCKETS = 100_000

const BLOCKED_DETAIL = 'Too many failed authentication attempts from this address; retry later'

/** What this process keeps of the limits: blocks it has learnt of, and each source's bucket. */
export class Limits {
  /** Blocked client keys → when the block ends (ms since the epoch). */
  readonly blocked = new Map<string, number>()
  /** Each source's token bucket (sourceRateLimit). */
  readonly buckets = new Map<string, { tokens: number; at: number }>()
}

/**
 * What failures are counted by: the address, but for IPv6 its /64 (one host usually holds a
 * whole /64 and could change address within it at every attempt).
 */
export function clientKey(clientIp: string): string {
  if (!isIPv6(clientIp)) return clientIp
  const groups = expandIPv6(clientIp)
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : clientIp
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] | undefined {
  let text = address.toLowerCase().split('%')[0] as string
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) =>
    Number.parseInt(g, 16).toString(16),
  )
}

/**
 * Refuses a request from a client address that is blocked for failed authentications, with
 * 429 and Retry-After, before its credentials are checked: a blocked client learns nothing
 * about any key, right or wrong. Requests with no known address (in-process) are not limited.
 */
export function checkNotBlocked(deps: Deps, clientIp: string | null): void {
  if (clientIp === null || deps.config.authFailureLimit === 0) return
  const { blocked } = deps.limits
  if (blocked.size === 0) return
  const key = clientKey(clientIp)
  const until = blocked.get(key)
  if (until === undefined) return
  const wait = until - Date.now()
  if (wait <= 0) {
    blocked.delete(key)
    return
  }
  throw tooManyRequests(BLOCKED_DETAIL, wait)
}

export interface FailedAuthentication {
  clientIp: string | null
  /** The slug of the source whose SCIM endpoint was called, if any (not on the admin API). */
  slug?: string | undefined
  /** Why, in words that reveal nothing of the key presented. */
  reason: string
  method: string
  path: string
}

/**
 * Records a failed authentication (a `login_failed` event, never with the key presented) and
 * counts it against the client address, in one transaction. When the count reaches the
 * limit within the window, the address is blocked until the window ends (checkNotBlocked).
 * Other instances learn of the block at the next failure they see from it: each may check
 * one more key, then refuses too.
 */
export async function authenticationFailed(
  deps: Deps,
  failure: FailedAuthentication,
): Promise<void> {
  const { clientIp } = failure
  const limit = deps.config.authFailureLimit
  const windowMs = deps.config.authFailureWindowSeconds * 1000
  const now = Date.now()
  const key = clientIp === null || limit === 0 ? undefined : clientKey(clientIp)
  let counted: { windowStart: string; failures: number } | undefined
  try {
    counted = await countAndRecord(deps, failure, key, new Date(now - windowMs).toISOString())
  } catch (err) {
    // The answer stays 401: a database that cannot take the record must not turn a wrong
    // key into a 500. The failure goes uncounted, and the log says so.
    deps.logger.warn('failed authentication not recorded', {
      error: err instanceof Error ? err.message : String(err),
    })
    return
  }
  if (key === undefined || counted === undefined || counted.failures < limit) return
  const { blocked } = deps.limits
  if (blocked.size >= MAX_BLOCKED) blocked.clear()
  const until = Date.parse(counted.windowStart) + windowMs
  blocked.set(key, until)
  if (counted.failures === limit) {
    deps.logger.warn('client blocked after failed authentications', {
      clientIp,
      failures: counted.failures,
    })
    return
  }
  // Past the limit: the client was blocked already, by another instance.
  throw tooManyRequests(BLOCKED_DETAIL, until - now)
}

/** Counts the failure against `key` (if any) and records its `login_failed` event, at once. */
async function countAndRecord(
  deps: Deps,
  failure: FailedAuthentication,
  key: string | undefined,
  windowCutoff: string,
): Promise<{ windowStart: string; failures: number } | undefined> {
  const found =
    failure.slug === undefined ? undefined : await findSourceBySlug(deps.db, failure.slug)
  const source: EventSource | undefined = found && { id: found.id, slug: found.slug }
  return inTransaction(deps, async (tx) => {
    const count =
      key === undefined ? undefined : await countAuthFailure(tx, key, nowIso(), windowCutoff)
    await recordEvent(deps, tx, {
      action: 'login_failed',
      app: EVENT_APPS.auth,
      user: null,
      clientIp: failure.clientIp,
      ...(source ? { source } : {}),
      context: {
        reason: failure.reason,
        // A slug that names no source is still worth seeing (a misconfigured URL).
        ...(failure.slug !== undefined && !source ? { source_slug: failure.slug } : {}),
        http_request: { method: failure.method, path: failure.path },
        ...(count ? { failures: count.failures } : {}),
      },
    })
    return count
  })
}

/**
 * Takes one request from the source's bucket (SCIMD_SOURCE_RATE_LIMIT per second, up to
 * SCIMD_SOURCE_RATE_BURST at once), or refuses it with 429 and Retry-After, which Entra and
 * Okta honour. Kept per process: with several instances each allows the rate.
 */
export function takeSourceRequest(deps: Deps, sourceId: string): void {
  const rate = deps.config.sourceRateLimit
  if (rate === 0) return
  const burst = deps.config.sourceRateBurst
  const { buckets } = deps.limits
  const now = Date.now()
  let bucket = buckets.get(sourceId)
  if (!bucket) {
    if (buckets.size >= MAX_BUCKETS) buckets.clear()
    bucket = { tokens: burst, at: now }
    buckets.set(sourceId, bucket)
  }
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate)
  bucket.at = now
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1
    return
  }
  throw tooManyRequests(
    'Too many requests for this source; retry later',
    ((1 - bucket.tokens) / rate) * 1000,
  )
}

/** 429 with Retry-After in whole seconds, at least one (RFC 9110 §10.2.3, RFC 6585 §4). */
function tooManyRequests(detail: string, waitMs: number): ScimError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  return new ScimError(429, detail, undefined, { 'Retry-After': String(seconds) })
}
