/**
 * Provider property mappings: the SCIM body a provider sends for a directory user or group.
 * `buildScimBody` is the one function the outbound sync builds bodies with.
 */
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import { type MappingDefinition, type MappingOutcome, runMappings } from './engine.js'

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'

/** A directory user as provider mappings see it (`user` in an expression). */
export interface MappedUser {
  pk: number
  uuid: string
  username: string
  name: string
  email: string
  is_active: boolean
  type: string
  path: string
  attributes: Record<string, unknown>
}

/** A directory group as provider mappings see it (`group` in an expression). */
export interface MappedGroup {
  pk: string
  name: string
  is_superuser: boolean
  attributes: Record<string, unknown>
}

export type MappedObject =
  | { kind: 'user'; user: MappedUser }
  | { kind: 'group'; group: MappedGroup }

/**
 * The body the managed default mappings build (`goauthentik.io/providers/scim/user` and
 * `…/group`), without evaluating them: what a provider with no mappings sends.
 */
export function defaultScimBody(object: MappedObject): Record<string, unknown> {
  if (object.kind === 'group') {
    const { group } = object
    return { schemas: [GROUP_SCHEMA], externalId: group.pk, displayName: group.name }
  }
  const { user } = object
  const words = user.name
    .trim()
    .split(' ')
    .filter((w) => w !== '')
  return {
    schemas: [USER_SCHEMA],
    externalId: user.uuid,
    userName: user.username,
    name: {
      formatted: user.name,
      givenName: words[0] ?? '',
      familyName: words.slice(1).join(' '),
    },
    displayName: user.name,
    active: user.is_active,
    emails: user.email !== '' ? [{ value: user.email, type: 'other', primary: true }] : [],
  }
}

/**
 * The SCIM body for a directory user or group.
 *
 * - No mappings: the managed default's body (defaultScimBody), with no expression run.
 * - Mappings: each is evaluated with `user` or `group` (and `provider`) in name order and
 *   the object results deep-merged, as authentik does; include the managed default mapping
 *   to start from its body. A mapping calling `$skipObject()` returns `{ skipped: true }`:
 *   the object is not pushed.
 *
 * Throws MappingError (engine.ts) when a mapping fails: the caller marks the object failed
 * and tells the admin.
 */
export async function buildScimBody(
  mappings: readonly MappingDefinition[],
  object: MappedObject,
  provider: { name: string } = { name: '' },
): Promise<MappingOutcome> {
  if (mappings.length === 0) return { skipped: false, result: defaultScimBody(object) }
  const input =
    object.kind === 'user' ? { user: object.user, provider } : { group: object.group, provider }
  return runMappings(mappings, input)
}

/** What mappings see of a directory user (authentik's `user`, as a provider mapping reads it). */
export function mappedUser(user: DirectoryUser): MappedUser {
  return {
    pk: user.pk,
    uuid: user.uuid,
    username: user.username,
    name: user.name,
    email: user.email,
    is_active: user.isActive,
    type: user.type,
    path: user.path,
    attributes: user.attributes,
  }
}

/** What mappings see of a directory group. */
export function mappedGroup(group: DirectoryGroup): MappedGroup {
  return {
    pk: group.id,
    name: group.name,
    is_superuser: group.isSuperuser,
    attributes: group.attributes,
  }
}
