/**
 * Source user matching modes (authentik's `user_matching_mode`): whether a user a source
 * creates links to a directory user with the same email or username, is refused, or is new.
 */
import type { DirectoryUser, Source } from '../core/domain.js'
import { ScimError } from '../scim/errors.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { lockFolded } from '../store/locks.js'
import * as store from '../store/scim-resources/users.js'

export { USER_MATCHING_MODES, type UserMatchingMode } from '../core/domain.js'

const SERVICE_ACCOUNT_TYPES = new Set(['service_account', 'internal_service_account'])

/** What a create does under the source's mode: a new directory user, or a link to one. */
export type Match = { kind: 'create' } | { kind: 'link'; user: DirectoryUser }

/**
 * Decides a create under `email_*` / `username_*` (RFC 7644 §3.3 409 `uniqueness` when
 * refused). Linking is never a way in: a service account, a superuser (a member of a
 * superuser group) or a user this source already holds is never linked, and an ambiguous
 * match (two directory users) is refused rather than guessed.
 */
export async function matchUser(
  tx: Executor,
  source: Source,
  fields: { username: string; email: string },
): Promise<Match> {
  const mode = source.userMatchingMode
  if (mode === 'identifier') return { kind: 'create' }
  const byEmail = mode === 'email_link' || mode === 'email_deny'
  const attribute = byEmail ? 'email' : 'username'
  const value = byEmail ? fields.email : fields.username
  // Check and insert are one step: two sources creating the same person at once must not both
  // find nobody. SQLite has one writer; on PostgreSQL the creates of one value take turns
  // until the transaction ends, and the lookup below (READ COMMITTED) sees the one before.
  await lockFolded(tx, `user_matching:${attribute}`, value)
  const found = byEmail
    ? await directory.findUsersByEmail(tx, value, 2)
    : await directory.findUsersByUsernameKey(tx, value, 2)
  const [user] = found
  if (!user) return { kind: 'create' }
  if (mode === 'email_deny' || mode === 'username_deny') {
    throw ScimError.uniqueness(
      `A directory user with this ${attribute} exists already (user_matching_mode ${mode})`,
    )
  }
  if (found.length > 1) {
    throw ScimError.uniqueness(
      `Several directory users have this ${attribute}; scimd links to one only`,
    )
  }
  if (SERVICE_ACCOUNT_TYPES.has(user.type) || (await directory.isSuperuser(tx, user.pk))) {
    throw ScimError.uniqueness(
      `A directory user with this ${attribute} exists and is never linked (a superuser or service account)`,
    )
  }
  const holders = await store.listUserHolders(tx, user.pk)
  if (holders.some((h) => h.sourceId === source.id)) {
    throw ScimError.uniqueness(`This source already holds the user with this ${attribute}`)
  }
  return { kind: 'link', user }
}
