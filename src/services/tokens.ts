/** API tokens: issuing, verifying (digest lookup + constant-time compare), viewing and rotating keys. */
import { hash, randomBytes } from 'node:crypto'
import type { Source, Token } from '../core/domain.js'
import { tokenModel } from '../core/events.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import { generateTokenKey } from '../secrets.js'
import type { Executor } from '../store/database.js'
import { findUserByPk, findUsersByPks } from '../store/directory.js'
import { isUniqueViolation } from '../store/errors.js'
import { findSourceByTokenDigest } from '../store/sources.js'
import * as tokens from '../store/tokens.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inCredentialsTransaction, inTransaction } from './deps.js'
import { type UserDetail, userDetails } from './directory.js'
import { recordEvent } from './events.js'
import { ReadCache } from './read-cache.js'

export { TOKEN_ORDER_FIELDS, type TokenFilter, type TokenOrderField } from '../store/tokens.js'

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

export function isExpired(token: Pick<Token, 'expiring' | 'expires'>, now = Date.now()): boolean {
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

/**
 * The source a key opens at this slug: the source's own, live token, looked up by keyed
 * digest and compared in constant time. A key of another source opens nothing here.
 */
export async function verifySourceKey(
  deps: Deps,
  slug: string,
  key: string,
): Promise<Source | undefined> {
  if (key.length === 0 || key.length > 512) return undefined
  const found = await sourcesByKey.get(deps, `${slug}\n${cacheKeyOf(key)}`, () =>
    sourceOfKey(deps, slug, key),
  )
  if (!found || isExpired(found)) return undefined
  return found.source
}

/** The token query and the constant-time comparison of digests, as without the cache. */
async function sourceOfKey(deps: Deps, slug: string, key: string) {
  const digest = deps.secrets.digest(key)
  const found = await findSourceByTokenDigest(deps.reader, slug, digest)
  return found && deps.secrets.digestsEqual(found.keyDigest, digest) ? found : undefined
}

/**
 * What the cache knows a key by: SHA-256 of the key after a random salt of this process.
 * Keys a client or an admin chose (set_key, the bootstrap token) may be weak, and unsalted
 * hashes of them in a heap dump could be guessed offline; salted, they are as opaque as the
 * keyed digests in the database. One hash of a short string: a fifth of an HMAC's cost.
 */
const CACHE_SALT = randomBytes(32).toString('base64')
const cacheKeyOf = (key: string) => hash('sha256', CACHE_SALT + key, 'base64')

/**
 * The sources that keys opened, while sources and tokens are unchanged (read-cache.ts):
 * identity providers send thousands of requests with one token, and the token query was a
 * tenth of a GET's time on SQLite and one of its round trips on PostgreSQL. A rotation, a
 * disabled source or a change by the CLI or another instance starts it over, so a revoked
 * key stops working when it would without the cache (on PostgreSQL: once the other
 * instances hear of the commit, milliseconds). The expiry check still runs on every request.
 *
 * Entries are found by slug and cacheKeyOf(key), never the key: the keyed digest (HMAC)
 * took a third of the authentication, and a salted hash serves as well for finding what a
 * key already opened. Only keys that opened a source are kept, each once its digest compared
 * equal in constant time; a wrong key finds nothing here, and takes the query and comparison
 * every time. A lookup's timing can reveal only something of a salted hash of the key.
 */
const sourcesByKey = new ReadCache<NonNullable<Awaited<ReturnType<typeof sourceOfKey>>>>(
  1000,
  (deps) => deps.credentialsVersion(),
)

/**
 * The key of a token, unsealed (authentik's view_key). Each view is a `secret_view` event,
 * committed before the key is returned: no key is shown without its record.
 */
export async function viewKey(deps: Deps, identifier: string): Promise<string> {
  const sealed = await inTransaction(deps, async (tx) => {
    const token = await tokens.findTokenByIdentifier(tx, identifier)
    if (!token) throw ScimError.notFound('Token not found')
    await recordEvent(deps, tx, {
      action: 'secret_view',
      model: tokenModel(token.id, token.identifier),
    })
    return token.keySealed
  })
  return deps.secrets.unseal(sealed)
}

/**
 * Sets a token's key (authentik's set_key); the old key stops working at once. Recorded as
 * `action` (model_updated for set_key, secret_rotate for rotate).
 */
export async function setKey(
  deps: Deps,
  identifier: string,
  key: string,
  action: 'model_updated' | 'secret_rotate' = 'model_updated',
): Promise<void> {
  const digest = deps.secrets.digest(key)
  const sealed = await deps.secrets.seal(key)
  try {
    await inCredentialsTransaction(deps, async (tx) => {
      const token = await tokens.findTokenByIdentifier(tx, identifier)
      if (!token) throw ScimError.notFound('Token not found')
      await tokens.updateTokenKey(tx, token.id, { digest, sealed })
      await recordEvent(deps, tx, {
        action,
        model: tokenModel(token.id, token.identifier),
        context: { fields: ['key'] },
      })
    })
  } catch (err) {
    // Keys are unique (a key names one token); another token has this one.
    if (isUniqueViolation(err)) throw ScimError.uniqueness('This key is already in use')
    throw err
  }
}

/** Issues a new random key; the old key stops working at once (a `secret_rotate` event). */
export async function rotateKey(deps: Deps, identifier: string): Promise<string> {
  const key = generateTokenKey()
  await setKey(deps, identifier, key, 'secret_rotate')
  return key
}

/** A token as the admin API shows it: never its key, always its user. */
export interface TokenDetail {
  token: Token
  user: UserDetail
}

export type TokenListQuery = ListQuery<tokens.TokenFilter, tokens.TokenOrderField>

export async function listTokens(
  deps: Deps,
  query: TokenListQuery,
): Promise<ListPage<TokenDetail>> {
  return listPage(
    query,
    () => tokens.countTokens(deps.db, query.filter),
    async (page) => {
      const list = await tokens.listTokens(deps.db, query.filter, query.order, page)
      const found = await findUsersByPks(
        deps.db,
        list.map((t) => t.userId),
      )
      const users = new Map(
        (await userDetails(deps.db, [...found.values()])).map((d) => [d.user.pk, d]),
      )
      return list.flatMap((token) => {
        const user = users.get(token.userId)
        return user ? [{ token, user }] : []
      })
    },
  )
}

export async function getToken(deps: Deps, identifier: string): Promise<TokenDetail> {
  const found = await tokens.findTokenByIdentifier(deps.db, identifier)
  if (!found) throw ScimError.notFound('Token not found')
  const { keySealed: _sealed, ...token } = found
  const user = await findUserByPk(deps.db, token.userId)
  // The user's deletion cascades to its tokens; a token without one is being deleted.
  if (!user) throw ScimError.notFound('Token not found')
  const [detail] = await userDetails(deps.db, [user])
  return { token, user: detail as UserDetail }
}

export interface TokenChange {
  description?: string | undefined
  /** ISO-8601 instant, or null for none. */
  expires?: string | null | undefined
  expiring?: boolean | undefined
}

/**
 * Changes a token's description or expiry. Setting `expires` to an instant without saying
 * `expiring` makes the token expiring (else the date would do nothing, authentik's trap);
 * `expires: null` makes it non-expiring.
 */
export async function updateToken(
  deps: Deps,
  identifier: string,
  change: TokenChange,
): Promise<TokenDetail> {
  await inCredentialsTransaction(deps, async (tx) => {
    const token = await tokens.findTokenByIdentifier(tx, identifier)
    if (!token) throw ScimError.notFound('Token not found')
    const expiring =
      change.expiring ?? (change.expires === undefined ? undefined : change.expires !== null)
    const fields = {
      ...(change.description !== undefined ? { description: change.description } : {}),
      ...(change.expires !== undefined ? { expires: change.expires } : {}),
      ...(expiring !== undefined ? { expiring } : {}),
    }
    await tokens.updateToken(tx, token.id, fields)
    await recordEvent(deps, tx, {
      action: 'model_updated',
      model: tokenModel(token.id, token.identifier),
      context: { fields: Object.keys(fields) },
    })
  })
  return getToken(deps, identifier)
}

/**
 * Revokes (deletes) an admin API token: its key stops working at once, on every instance as
 * soon as they hear of it. Refused, as 400: a token that belongs to an object (`managed`,
 * e.g. a source's token; rotate it, or delete the source) and the token the caller
 * authenticated with (revoking it would lock that caller out mid-session; use another).
 */
export async function revokeToken(
  deps: Deps,
  identifier: string,
  opts: { callerTokenId?: string } = {},
): Promise<Token> {
  return inCredentialsTransaction(deps, async (tx) => {
    const found = await tokens.findTokenByIdentifier(tx, identifier)
    if (!found) throw ScimError.notFound('Token not found')
    if (found.managed !== null) {
      throw ScimError.invalidValue(
        `Token ${identifier} belongs to ${found.managed}: rotate its key instead, or delete what owns it`,
      )
    }
    if (found.id === opts.callerTokenId) {
      throw ScimError.invalidValue(
        'This request authenticated with that token: revoke it with another admin token',
      )
    }
    await tokens.deleteToken(tx, found.id)
    await recordEvent(deps, tx, {
      action: 'model_deleted',
      model: tokenModel(found.id, identifier),
    })
    const { keySealed: _sealed, ...token } = found
    return token
  })
}

/** The admin API tokens (those of the admin user), never their keys. */
export async function listAdminTokens(deps: Deps, adminUsername: string): Promise<Token[]> {
  return tokens.listTokens(deps.db, { userUsername: adminUsername }, [], {
    offset: 0,
    limit: 10_000,
  })
}
