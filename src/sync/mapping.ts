/**
 * What a provider sends for a directory user or group: the one place bodies are built. The
 * built-in default mapping makes the base; the provider's property mappings (src/mapping/)
 * are merged onto it in name order.
 */
import type { DirectoryGroup, DirectoryUser } from '../core/domain.js'
import { type MappingDefinition, type MappingOutcome, runMappings } from '../mapping/engine.js'
import { mappedGroup, mappedUser } from '../mapping/provider.js'
import type { Executor } from '../store/database.js'
import { findMappingsByIds } from '../store/property-mappings.js'
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

/** A provider's custom mappings, loaded once per sync run (compiled once per version). */
export interface ProviderMappings {
  user: MappingDefinition[]
  group: MappingDefinition[]
}

/**
 * The definitions a provider's sync runs: its user and group mappings, without the managed
 * defaults (their body is the base every custom mapping merges onto, built in code).
 */
export async function loadProviderMappings(
  db: Executor,
  ids: { user: readonly string[]; group: readonly string[] },
): Promise<ProviderMappings> {
  const load = async (list: readonly string[]) => {
    if (list.length === 0) return []
    const rows = await findMappingsByIds(db, 'provider', list)
    return rows
      .filter((m) => m.managed === null || !m.managed.startsWith('goauthentik.io/providers/scim/'))
      .map((m) => ({ id: m.id, name: m.name, expression: m.expression, updatedAt: m.updatedAt }))
  }
  return { user: await load(ids.user), group: await load(ids.group) }
}

/**
 * The user's body: the default, then the provider's mappings merged onto it. With no custom
 * mapping no expression runs. Throws MappingError; `{skipped: true}` for `$skipObject()`.
 */
export async function userBody(
  user: DirectoryUser,
  mode: CompatibilityMode,
  mappings: readonly MappingDefinition[],
  provider: { name: string },
): Promise<MappingOutcome> {
  const base = toRemoteUser(user, mode)
  if (mappings.length === 0) return { skipped: false, result: base }
  return runMappings(mappings, { user: mappedUser(user), provider }, base)
}

/** The group's body (members are sent apart), as userBody. */
export async function groupBody(
  group: DirectoryGroup,
  mappings: readonly MappingDefinition[],
  provider: { name: string },
): Promise<MappingOutcome> {
  const base = toRemoteGroup(group)
  if (mappings.length === 0) return { skipped: false, result: base }
  const outcome = await runMappings(mappings, { group: mappedGroup(group), provider }, base)
  // Members are the sync's business (by difference), never a mapping's.
  if (!outcome.skipped) delete outcome.result.members
  return outcome
}
