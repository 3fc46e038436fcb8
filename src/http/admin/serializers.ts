/** authentik-shaped admin API bodies (authentik-scim.md §5), typed by the response schemas. */
import type * as z from 'zod'
import type { DirectoryGroup, DirectoryUser, Token } from '../../core/domain.js'
import { scimBaseUrl } from '../../scim/resources.js'
import type { GroupConnectionDetail, UserConnectionDetail } from '../../services/connections.js'
import type { GroupDetail, UserDetail } from '../../services/directory.js'
import type { SourceDetail, UsedBy } from '../../services/sources.js'
import type {
  GroupSchema,
  PartialGroupSchema,
  PartialUserSchema,
  ScimSourceGroupSchema,
  ScimSourceUserSchema,
  SourceSchema,
  TokenSchema,
  UsedBySchema,
  UserSchema,
} from './schemas.js'

/**
 * authentik's `num_pk` of a group (an int32 for LDAP's gidNumber): the first five decimal
 * digits of its UUID read as a 128-bit integer. authentik's UUIDs are version 4, random
 * from the first digit. scimd's are version 7, whose first 48 bits are a timestamp, so
 * every group made within years would share those five digits: for them the number is
 * 10000 to 99999, drawn from the random low 64 bits instead.
 */
export function numPk(uuid: string): number {
  const hex = uuid.replaceAll('-', '')
  if (hex[12] === '7') return 10_000 + Number(BigInt(`0x${hex.slice(16)}`) % 90_000n)
  return Number(BigInt(`0x${hex}`).toString().slice(0, 5))
}

/** A full user; its groups and superuser flag when known (a source's service account has none). */
export function serializeUser(
  user: DirectoryUser,
  detail: Pick<UserDetail, 'groups' | 'isSuperuser'> = { groups: [], isSuperuser: false },
): z.infer<typeof UserSchema> {
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    last_login: user.lastLogin,
    date_joined: user.dateJoined,
    is_superuser: detail.isSuperuser,
    groups: detail.groups.map((g) => g.id),
    groups_obj: detail.groups.map(serializePartialGroup),
    email: user.email,
    avatar: '',
    attributes: user.attributes,
    uid: user.uuid,
    path: user.path,
    type: user.type,
    uuid: user.uuid,
    password_change_date: user.dateJoined,
  }
}

export function serializeUserDetail(detail: UserDetail): z.infer<typeof UserSchema> {
  return serializeUser(detail.user, detail)
}

export function serializePartialUser(user: DirectoryUser): z.infer<typeof PartialUserSchema> {
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    last_login: user.lastLogin,
    email: user.email,
    attributes: user.attributes,
    uid: user.uuid,
  }
}

export function serializeGroup(detail: GroupDetail): z.infer<typeof GroupSchema> {
  return {
    pk: detail.group.id,
    num_pk: numPk(detail.group.id),
    name: detail.group.name,
    is_superuser: detail.group.isSuperuser,
    parents: detail.parents,
    children: detail.children,
    attributes: detail.group.attributes,
  }
}

/** A group without its parents and children: PartialGroup, and UserGroup in a user's groups_obj. */
export function serializePartialGroup(group: DirectoryGroup): z.infer<typeof PartialGroupSchema> {
  return {
    pk: group.id,
    num_pk: numPk(group.id),
    name: group.name,
    is_superuser: group.isSuperuser,
    attributes: group.attributes,
  }
}

/** A token, never with its key; its user with its groups when known. */
export function serializeToken(
  token: Token,
  user: DirectoryUser | UserDetail,
): z.infer<typeof TokenSchema> {
  return {
    pk: token.id,
    managed: token.managed,
    identifier: token.identifier,
    intent: token.intent,
    user: token.userId,
    user_obj: 'user' in user ? serializeUserDetail(user) : serializeUser(user),
    description: token.description,
    expires: token.expires,
    expiring: token.expiring,
  }
}

export function serializeSource(
  detail: SourceDetail,
  origin: string,
): z.infer<typeof SourceSchema> {
  const { source, token, serviceAccount } = detail
  return {
    pk: source.id,
    name: source.name,
    slug: source.slug,
    enabled: source.enabled,
    user_property_mappings: [...source.userPropertyMappings],
    group_property_mappings: [...source.groupPropertyMappings],
    component: 'ak-source-scim-form',
    verbose_name: 'SCIM Source',
    verbose_name_plural: 'SCIM Sources',
    meta_model_name: 'authentik_sources_scim.scimsource',
    user_matching_mode: source.userMatchingMode,
    managed: null,
    user_path_template: source.userPathTemplate,
    root_url: scimBaseUrl(origin, source.slug),
    token_obj: token && serviceAccount ? serializeToken(token, serviceAccount) : null,
  }
}

export function serializeUsedBy(entry: UsedBy): z.infer<typeof UsedBySchema> {
  return {
    app: entry.app,
    model_name: entry.modelName,
    pk: entry.pk,
    name: entry.name,
    action: entry.action,
  }
}

/**
 * What a connection object carries after its directory object: the source, the document as
 * the source sent it (externalId included, server-assigned parts left out) and when.
 */
function connectionMeta(record: UserConnectionDetail['record'] | GroupConnectionDetail['record']) {
  return {
    source: record.sourceId,
    attributes:
      record.externalId === null
        ? record.document
        : { ...record.document, externalId: record.externalId },
    last_update: record.lastModified,
  }
}

export function serializeUserConnection(
  detail: UserConnectionDetail,
): z.infer<typeof ScimSourceUserSchema> {
  const { record, user } = detail
  return {
    id: record.id,
    external_id: record.externalId,
    user: user.pk,
    user_obj: serializePartialUser(user),
    ...connectionMeta(record),
  }
}

export function serializeGroupConnection(
  detail: GroupConnectionDetail,
): z.infer<typeof ScimSourceGroupSchema> {
  const { record, group } = detail
  return {
    id: record.id,
    external_id: record.externalId,
    group: group.id,
    group_obj: serializePartialGroup(group),
    ...connectionMeta(record),
  }
}
