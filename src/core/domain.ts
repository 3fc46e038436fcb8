/** Record types shared by every layer: sources, directory users and groups, tokens, SCIM resources. */

/** A SCIM resource as stored: canonical wire JSON without id, meta, members/groups or password. */
export type ScimDocument = Record<string, unknown>

export type UserType = 'internal' | 'external' | 'service_account' | 'internal_service_account'

/** authentik's user matching modes (services/matching.ts says what each does). */
export const USER_MATCHING_MODES = [
  'identifier',
  'email_link',
  'email_deny',
  'username_link',
  'username_deny',
] as const
export type UserMatchingMode = (typeof USER_MATCHING_MODES)[number]

export interface Source {
  id: string
  slug: string
  name: string
  enabled: boolean
  userMatchingMode: UserMatchingMode
  userPathTemplate: string
  serviceAccountId: number | null
  tokenId: string | null
  createdAt: string
  updatedAt: string
  /** Property mapping ids (services/property-mappings.ts); usually none. */
  userPropertyMappings: readonly string[]
  groupPropertyMappings: readonly string[]
}

export interface DirectoryUser {
  pk: number
  uuid: string
  username: string
  name: string
  email: string
  isActive: boolean
  type: UserType
  path: string
  attributes: Record<string, unknown>
  dateJoined: string
  lastLogin: string | null
  lastUpdated: string
}

export interface DirectoryGroup {
  id: string
  name: string
  isSuperuser: boolean
  attributes: Record<string, unknown>
}

export type TokenIntent = 'verification' | 'api' | 'recovery' | 'app_password'

export interface Token {
  id: string
  identifier: string
  userId: number
  intent: TokenIntent
  description: string
  expires: string | null
  expiring: boolean
  managed: string | null
  createdAt: string
}

/** A user provisioned by a source: its SCIM id, the stored document and its metadata. */
export interface ScimUserRecord {
  id: string
  sourceId: string
  userId: number
  externalId: string | null
  document: ScimDocument
  created: string
  lastModified: string
  version: number
}

export interface ScimGroupRecord {
  id: string
  sourceId: string
  externalId: string | null
  document: ScimDocument
  created: string
  lastModified: string
  version: number
}

/** A group member or a user's group, as SCIM renders it (RFC 7643 §4.1.2, §4.2). */
export interface ResourceRef {
  value: string
  display: string
  type: 'User' | 'Group'
}

export interface UserGroupRef {
  value: string
  display: string
  type: 'direct' | 'indirect'
}

/**
 * How a group's `members[].display` shows a user: their name, else their username. The
 * store's SQL form (USER_DISPLAY_SQL) must say the same.
 */
export function userDisplay(user: { name: string; username: string }): string {
  return user.name || user.username
}

/** What deleting an object takes with it (authentik's `used_by`). */
export interface UsedBy {
  app: string
  modelName: string
  pk: string
  name: string
  action: 'cascade' | 'cascade_many' | 'set_null' | 'set_default'
}
