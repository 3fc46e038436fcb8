/** What a remote supports, from its ServiceProviderConfig, adjusted by the compatibility mode. */
import type { CompatibilityMode } from '../store/providers.js'
import type { ScimClient } from './client.js'

export interface Capabilities {
  patch: boolean
  filter: boolean
  /** Largest number of member operations sent in one request. */
  maxMemberOps: number
  /** Whether the remote's ServiceProviderConfig could be read. */
  known: boolean
}

/** A readable config is kept this long; an unreadable one only briefly, then asked again. */
const KNOWN_TTL_MS = 10 * 60_000
const UNKNOWN_TTL_MS = 15_000

/** AWS IAM Identity Center: at most 100 membership changes per request. */
export const AWS_MEMBER_LIMIT = 100
const DEFAULT_MEMBER_CHUNK = 1000

interface Cached {
  value: Capabilities
  until: number
}

/**
 * A per-process cache, keyed by provider and its last change, so a saved provider asks
 * again. It is a cache of the remote's answer, not shared state: any instance may ask.
 */
const cache = new Map<string, Cached>()

export function forgetCapabilities(): void {
  cache.clear()
}

function adjust(mode: CompatibilityMode, base: Omit<Capabilities, 'maxMemberOps'>): Capabilities {
  switch (mode) {
    case 'aws':
      // AWS offers PatchGroup and PatchUser but no PutGroup; filters are eq/and only.
      return { ...base, patch: true, filter: true, maxMemberOps: AWS_MEMBER_LIMIT }
    case 'slack':
      // Slack's filters work although its config does not say so.
      return { ...base, filter: true, maxMemberOps: DEFAULT_MEMBER_CHUNK }
    case 'default':
      return { ...base, maxMemberOps: DEFAULT_MEMBER_CHUNK }
  }
}

function flagOf(config: Record<string, unknown>, key: string): boolean {
  const entry = config[key]
  return (
    typeof entry === 'object' &&
    entry !== null &&
    (entry as { supported?: unknown }).supported === true
  )
}

/**
 * The remote's capabilities. An unreadable config means "assume nothing" (no PATCH, no
 * filter) and is asked again within seconds instead of being pinned (authentik caches its
 * fallback for an hour).
 */
export async function capabilitiesOf(
  client: ScimClient,
  key: string,
  mode: CompatibilityMode,
  now = Date.now(),
): Promise<Capabilities> {
  const hit = cache.get(key)
  if (hit && hit.until > now) return hit.value
  let value: Capabilities
  try {
    const { body } = await client.request('GET', '/ServiceProviderConfig')
    value = adjust(mode, {
      patch: flagOf(body, 'patch'),
      filter: flagOf(body, 'filter'),
      known: true,
    })
  } catch {
    value = adjust(mode, { patch: false, filter: false, known: false })
  }
  cache.set(key, { value, until: now + (value.known ? KNOWN_TTL_MS : UNKNOWN_TTL_MS) })
  return value
}
