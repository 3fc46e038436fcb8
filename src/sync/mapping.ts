/**
 * What a provider sends for a directory user or group: the one place bodies are built, so that
 * property mappings (src/mapping/) can take over here.
 */
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import type { CompatibilityMode } from '../store/providers.js'

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'

export type RemoteBody = Record<string, unknown>

/** authentik's default split: the first word is the given name, the rest the family name. */
function nameParts(user: DirectoryUser): { givenName: string; familyName: string } {
  const words = user.name.trim().split(/\s+/).filter(Boolean)
  return { givenName: words[0] ?? '', familyName: words.slice(1).join(' ') }
}

/**
 * The default user mapping: userName, name, displayName, active, emails and externalId (the
 * directory user's stable uuid). AWS needs every name part and one primary email.
 */
export function toRemoteUser(user: DirectoryUser, mode: CompatibilityMode): RemoteBody {
  let { givenName, familyName } = nameParts(user)
  if (mode === 'aws') {
    // AWS refuses a user without both name parts: fill from what there is.
    givenName ||= user.username
    familyName ||= givenName
  }
  const displayName = user.name.trim() || user.username
  const name: Record<string, string> = { formatted: displayName }
  if (givenName) name.givenName = givenName
  if (familyName) name.familyName = familyName
  const body: RemoteBody = {
    schemas: [USER_SCHEMA],
    userName: user.username,
    externalId: user.uuid,
    name,
    displayName,
    active: user.isActive,
  }
  if (user.email) body.emails = [{ value: user.email, type: 'work', primary: true }]
  return body
}

/** The default group mapping: displayName and externalId; members are sent apart. */
export function toRemoteGroup(group: DirectoryGroup): RemoteBody {
  return { schemas: [GROUP_SCHEMA], displayName: group.name, externalId: group.id }
}
