/** API tokens: issuing, verifying (digest lookup + constant-time compare), viewing and rotating keys. */
import type { Token } from '../domain.js'
import { nowIso, uuidv7 } from '../ids.js'
import { ScimError } from '../scim/errors.js'
import { generateTokenKey } from '../secrets.js'
import type { Executor } from '../store/database.js'
import * as tokens from '../store/tokens.js'
import type { Deps } from './deps.js'

export interface IssueTokenInput {
  identifier: string
  userId: number
  intent?: Token['intent']
  description?: string
  expires?: string | null
  expiring?: boolean
  managed?: string | null
  /** A given key (bootstrap token, set_key); generated when absent. */
  key?: string
}

/** Creates a token and returns it with its key, which is never stored in plaintext. */
export async function issueToken(
  deps: Deps,
  db: Executor,
  input: IssueTokenInput,
): Promise<{ token: Token; key: string }> {
  const key = input.key ?? generateTokenKey()
  const id = uuidv7()
  await tokens.insertToken(db, {
    id,
    identifier: input.identifier,
    user_id: input.userId,
    intent: input.intent ?? 'api',
    description: input.description ?? '',
    expires: input.expires ?? null,
    expiring: (input.expiring ?? false) ? 1 : 0,
    managed: input.managed ?? null,
    key_digest: deps.secrets.digest(key),
    key_sealed: await deps.secrets.seal(key),
    created_at: nowIso(),
  })
  const token = await tokens.findTokenById(db, id)
  if (!token) throw new Error('token vanished after insert')
  return { token, key }
}

export function isExpired(token: Token, now = Date.now()): boolean {
  return token.expiring && token.expires !== null && Date.parse(token.expires) <= now
}

/**
 * Finds the live token for a presented key. The lookup is by keyed digest (an index probe
 * that reveals nothing about the key), then the digests are compared in constant time.
 */
export async function verifyKey(deps: Deps, key: string): Promise<Token | undefined> {
  if (key.length === 0 || key.length > 512) return undefined
  const digest = deps.secrets.digest(key)
  const token = await tokens.findTokenByDigest(deps.db, digest)
  if (!token || !deps.secrets.digestsEqual(token.keyDigest, digest)) return undefined
  if (isExpired(token)) return undefined
  const { keyDigest: _digest, ...rest } = token
  return rest
}

/** The key of a token, unsealed (authentik's view_key). */
export async function viewKey(deps: Deps, identifier: string): Promise<string> {
  const token = await tokens.findTokenByIdentifier(deps.db, identifier)
  if (!token) throw ScimError.notFound('Token not found')
  return deps.secrets.unseal(token.keySealed)
}

/** Sets a token's key (authentik's set_key); the old key stops working at once. */
export async function setKey(deps: Deps, identifier: string, key: string): Promise<void> {
  const token = await tokens.findTokenByIdentifier(deps.db, identifier)
  if (!token) throw ScimError.notFound('Token not found')
  await tokens.updateTokenKey(deps.db, token.id, {
    digest: deps.secrets.digest(key),
    sealed: await deps.secrets.seal(key),
  })
}

/** Issues a new random key; the old key stops working at once. */
export async function rotateKey(deps: Deps, identifier: string): Promise<string> {
  const key = generateTokenKey()
  await setKey(deps, identifier, key)
  return key
}
