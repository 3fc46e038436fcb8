/** authentik-shaped admin API bodies (authentik-scim.md §5). */
import type { DirectoryUser, Token } from '../domain.js'
import type { SourceDetail } from '../services/sources.js'

export function serializeUser(
  user: DirectoryUser,
  extra: { isSuperuser?: boolean; groups?: string[] } = {},
) {
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.isActive,
    last_login: user.lastLogin,
    date_joined: user.dateJoined,
    is_superuser: extra.isSuperuser ?? false,
    groups: extra.groups ?? [],
    groups_obj: [],
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

export function serializeToken(token: Token, user?: DirectoryUser) {
  return {
    pk: token.id,
    managed: token.managed,
    identifier: token.identifier,
    intent: token.intent,
    user: token.userId,
    ...(user ? { user_obj: serializeUser(user) } : {}),
    description: token.description,
    expires: token.expires,
    expiring: token.expiring,
  }
}

export function serializeSource(detail: SourceDetail, origin: string) {
  const { source, token, serviceAccount } = detail
  return {
    pk: source.id,
    name: source.name,
    slug: source.slug,
    enabled: source.enabled,
    user_property_mappings: [],
    group_property_mappings: [],
    component: 'ak-source-scim-form',
    verbose_name: 'SCIM Source',
    verbose_name_plural: 'SCIM Sources',
    meta_model_name: 'authentik_sources_scim.scimsource',
    user_matching_mode: source.userMatchingMode,
    managed: null,
    user_path_template: source.userPathTemplate,
    root_url: `${origin}/source/scim/${encodeURIComponent(source.slug)}/v2`,
    token_obj: token ? serializeToken(token, serviceAccount) : null,
  }
}
