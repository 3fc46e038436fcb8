/** SCIM sources: each is created with its service account and that account's API token. */

import type { DirectoryUser, Source, Token, UsedBy, UserMatchingMode } from '../core/domain.js'
import { sourceModel, tokenModel } from '../core/events.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import { ScimError } from '../scim/errors.js'
import { deleteSourceGroups, sourceObjects } from '../store/connections.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { isUniqueViolation } from '../store/errors.js'
import { lockExclusive } from '../store/locks.js'
import { enqueueChange } from '../store/outbox.js'
import { setSourceMappings } from '../store/property-mappings.js'
import { releaseSourceUsers } from '../store/scim-resources/users.js'
import * as sources from '../store/sources.js'
import * as tokens from '../store/tokens.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inCredentialsTransaction, inTransaction } from './deps.js'
import { recordEvent } from './events.js'
import { checkSourceMappingIds } from './property-mappings.js'
import { issueToken } from './tokens.js'

export { SOURCE_ORDER_FIELDS, type SourceFilter, type SourceOrderField } from '../store/sources.js'

export const SLUG_PATTERN = /^[-a-zA-Z0-9_]+$/
export const SERVICE_ACCOUNT_PATH = 'goauthentik.io/sources/scim'

export interface SourceInput {
  name: string
  slug: string
  enabled?: boolean
  userPathTemplate?: string
  userMatchingMode?: UserMatchingMode
  /** Source property mapping ids (services/property-mappings.ts). */
  userPropertyMappings?: readonly string[]
  groupPropertyMappings?: readonly string[]
}

/** A source with what the admin API shows beside it: its token and the token's user. */
export interface SourceDetail {
  source: Source
  token: Token | undefined
  serviceAccount: DirectoryUser | undefined
}

/**
 * Creates a source, its service account (`ak-source-scim-<pk>`, type
 * internal_service_account) and its API token (identifier `ak-source-scim-<pk>`, never
 * expiring), as authentik does, in one transaction. Returns the token key once.
 */
export async function createSource(
  deps: Deps,
  input: SourceInput,
): Promise<SourceDetail & { key: string }> {
  try {
    return await inCredentialsTransaction(deps, async (tx) => {
      const now = nowIso()
      const id = uuidv7()
      await sources.insertSource(tx, {
        id,
        slug: input.slug,
        name: input.name,
        enabled: input.enabled ?? true,
        now,
        ...(input.userPathTemplate ? { userPathTemplate: input.userPathTemplate } : {}),
        ...(input.userMatchingMode ? { userMatchingMode: input.userMatchingMode } : {}),
      })
      const accountPk = await directory.insertUser(tx, {
        uuid: uuidv7(),
        username: `ak-source-scim-${id}`,
        name: `SCIM Source ${input.name} Service-Account`,
        type: 'internal_service_account',
        path: SERVICE_ACCOUNT_PATH,
        is_active: 1,
        password_hash: null,
        date_joined: now,
        last_login: null,
        last_updated: now,
      })
      await enqueueChange(tx, { kind: 'user', userPk: accountPk }, now)
      const { token, key } = await issueToken(deps, tx, {
        identifier: `ak-source-scim-${id}`,
        userId: accountPk,
        intent: 'api',
        expiring: false,
        managed: `goauthentik.io/sources/scim/${id}`,
        description: tokenDescription(input.slug),
      })
      await sources.updateSource(tx, id, { service_account_id: accountPk, token_id: token.id })
      await setMappings(tx, id, input)
      await recordEvent(deps, tx, {
        action: 'model_created',
        model: sourceModel(id, input.name),
        source: { id, slug: input.slug },
      })
      const detail = await loadDetail(tx, id)
      return { ...detail, key }
    })
  } catch (err) {
    if (isUniqueViolation(err))
      throw ScimError.uniqueness(`Source with slug '${input.slug}' already exists`)
    throw err
  }
}

/** Sets the mapping lists given (each id must name a source mapping; 400 otherwise). */
async function setMappings(
  tx: Executor,
  id: string,
  input: {
    userPropertyMappings?: readonly string[] | undefined
    groupPropertyMappings?: readonly string[] | undefined
  },
): Promise<void> {
  const lists: { user?: string[]; group?: string[] } = {}
  if (input.userPropertyMappings !== undefined) {
    lists.user = await checkSourceMappingIds(
      tx,
      'user_property_mappings',
      input.userPropertyMappings,
    )
  }
  if (input.groupPropertyMappings !== undefined) {
    lists.group = await checkSourceMappingIds(
      tx,
      'group_property_mappings',
      input.groupPropertyMappings,
    )
  }
  if (lists.user || lists.group) await setSourceMappings(tx, id, lists)
}

async function loadDetail(db: Executor, id: string): Promise<SourceDetail> {
  const source = await sources.findSourceById(db, id)
  if (!source) throw ScimError.notFound('Source not found')
  const token = source.tokenId ? await tokens.findTokenById(db, source.tokenId) : undefined
  const serviceAccount = token ? await directory.findUserByPk(db, token.userId) : undefined
  return { source, token, serviceAccount }
}

export async function getSource(deps: Deps, slug: string): Promise<SourceDetail> {
  const source = await sources.findSourceBySlug(deps.db, slug)
  if (!source) throw ScimError.notFound('Source not found')
  return loadDetail(deps.db, source.id)
}

/** Adds each source's token and service account with two batched queries. */
async function withDetails(db: Executor, list: Source[]): Promise<SourceDetail[]> {
  const tokenIds = list.flatMap((s) => (s.tokenId ? [s.tokenId] : []))
  const tokenList = await tokens.findTokensByIds(db, tokenIds)
  const byId = new Map(tokenList.map((t) => [t.id, t]))
  const users = await directory.findUsersByPks(
    db,
    tokenList.map((t) => t.userId),
  )
  return list.map((source) => {
    const token = source.tokenId ? byId.get(source.tokenId) : undefined
    return { source, token, serviceAccount: token ? users.get(token.userId) : undefined }
  })
}

export type SourceListQuery = ListQuery<sources.SourceFilter, sources.SourceOrderField>

/** One page of sources (the admin list); without a query, every source in name order. */
export async function listSources(
  deps: Deps,
  query?: SourceListQuery,
): Promise<ListPage<SourceDetail>> {
  if (!query) {
    const all = await withDetails(deps.db, await sources.listSources(deps.db))
    return { items: all, count: all.length }
  }
  return listPage(
    query,
    () => sources.countSources(deps.db, query.filter),
    async (page) =>
      withDetails(deps.db, await sources.listSources(deps.db, query.filter, query.order, page)),
  )
}

export interface SourceChange {
  name?: string | undefined
  slug?: string | undefined
  enabled?: boolean | undefined
  userPathTemplate?: string | undefined
  userMatchingMode?: UserMatchingMode | undefined
  userPropertyMappings?: readonly string[] | undefined
  groupPropertyMappings?: readonly string[] | undefined
}

/**
 * Changes a source (PUT and PATCH). A new slug keeps every user, group, token and key of the
 * source, which is keyed by its id; only its SCIM URL changes, so the identity provider must
 * be given the new URL.
 */
export async function updateSource(
  deps: Deps,
  slug: string,
  change: SourceChange,
): Promise<SourceDetail> {
  try {
    return await inCredentialsTransaction(deps, async (tx) => {
      const source = await sources.findSourceBySlug(tx, slug)
      if (!source) throw ScimError.notFound('Source not found')
      const row: Parameters<typeof sources.updateSource>[2] = {}
      if (change.name !== undefined) row.name = change.name
      if (change.slug !== undefined) row.slug = change.slug
      if (change.enabled !== undefined) row.enabled = change.enabled ? 1 : 0
      if (change.userPathTemplate !== undefined) row.user_path_template = change.userPathTemplate
      if (change.userMatchingMode !== undefined) row.user_matching_mode = change.userMatchingMode
      if (Object.keys(row).length > 0) {
        row.updated_at = nowIso()
        await sources.updateSource(tx, source.id, row)
      }
      await setMappings(tx, source.id, change)
      if (change.slug !== undefined && change.slug !== source.slug && source.tokenId) {
        const token = await tokens.findTokenById(tx, source.tokenId)
        if (token?.description === tokenDescription(source.slug)) {
          await tokens.updateToken(tx, token.id, { description: tokenDescription(change.slug) })
        }
      }
      const detail = await loadDetail(tx, source.id)
      await recordEvent(deps, tx, {
        action: 'model_updated',
        model: sourceModel(source.id, detail.source.name),
        source: detail.source,
        context: { fields: Object.keys(row).filter((f) => f !== 'updated_at') },
      })
      return detail
    })
  } catch (err) {
    if (isUniqueViolation(err))
      throw ScimError.uniqueness(`Source with slug '${change.slug}' already exists`)
    throw err
  }
}

function tokenDescription(slug: string): string {
  return `Token for SCIM source ${slug}`
}

export type { UsedBy }

/**
 * What deleting the source would delete besides itself: its token, its service account and
 * the users and groups it provisioned, at most `limit` of each kind (a source may hold a
 * million users; the list is for a confirmation dialog, not an export).
 */
export async function sourceUsedBy(deps: Deps, slug: string, limit: number): Promise<UsedBy[]> {
  const detail = await getSource(deps, slug)
  const result: UsedBy[] = []
  if (detail.token) {
    result.push({
      app: 'authentik_core',
      modelName: 'token',
      pk: detail.token.id,
      name: detail.token.identifier,
      action: 'cascade',
    })
  }
  if (detail.serviceAccount) {
    result.push({
      app: 'authentik_core',
      modelName: 'user',
      pk: String(detail.serviceAccount.pk),
      name: detail.serviceAccount.username,
      action: 'cascade',
    })
  }
  const objects = await sourceObjects(deps.db, detail.source.id, limit)
  for (const u of objects.users) {
    result.push({
      app: 'authentik_sources_scim',
      modelName: 'scimsourceuser',
      pk: u.id,
      name: u.username,
      action: 'cascade',
    })
  }
  for (const g of objects.groups) {
    result.push({
      app: 'authentik_sources_scim',
      modelName: 'scimsourcegroup',
      pk: g.id,
      name: g.name,
      action: 'cascade',
    })
  }
  return result
}

/**
 * Deletes a source with its token and service account. The users and groups it
 * provisioned are deleted with it (their connection rows cascade, and the directory rows
 * are removed here): a source owns what it provisioned (scimd never adopts pre-existing
 * users, so nothing it provisioned belongs to anyone else), and orphans that no identity
 * provider manages any more would stay active forever, with no way left to deprovision
 * them. authentik instead keeps them and only drops the connection rows.
 */
export async function deleteSource(deps: Deps, slug: string): Promise<void> {
  await inCredentialsTransaction(deps, async (tx) => {
    const source = await sources.findSourceBySlug(tx, slug, { forUpdate: true })
    if (!source) throw ScimError.notFound('Source not found')
    // Before the rows go: providers delete their remote copies.
    await enqueueChange(tx, { kind: 'source', sourceId: source.id })
    if (source.serviceAccountId !== null) {
      await enqueueChange(tx, { kind: 'user', userPk: source.serviceAccountId })
    }
    // Users that another source also holds, or that existed before this source linked
    // them, stay (services/users.ts releaseUser); the source's groups go.
    await releaseSourceUsers(tx, source.id)
    await deleteSourceGroups(tx, source.id)
    await sources.deleteSource(tx, source.id)
    if (source.serviceAccountId !== null) await directory.deleteUser(tx, source.serviceAccountId)
    await recordEvent(deps, tx, {
      action: 'model_deleted',
      model: sourceModel(source.id, source.name),
      source,
    })
  })
}

export const ADMIN_USERNAME = 'akadmin'
export const ADMIN_GROUP = 'authentik Admins'
export const BOOTSTRAP_TOKEN_IDENTIFIER = 'authentik-bootstrap-token'

/**
 * Makes sure an admin user in a superuser group exists, with an API token whose key is
 * `key` (authentik's AUTHENTIK_BOOTSTRAP_TOKEN). Idempotent; safe with several instances.
 */
/** The admin user, in the superuser group; created on first use. */
async function ensureAdminUser(tx: Executor): Promise<number> {
  // Instances starting together would each find no admin and create one: serialise them.
  await lockExclusive(tx, 'admin-user')
  const now = nowIso()
  let adminPk = (await directory.findUserByUsername(tx, ADMIN_USERNAME))?.pk
  if (adminPk === undefined) {
    adminPk = await directory.insertUser(tx, {
      uuid: uuidv7(),
      username: ADMIN_USERNAME,
      name: 'authentik Default Admin',
      type: 'internal',
      path: 'users',
      password_hash: null,
      date_joined: now,
      last_login: null,
      last_updated: now,
    })
    await enqueueChange(tx, { kind: 'user', userPk: adminPk }, now)
  }
  let groupId = (await directory.findGroupByName(tx, ADMIN_GROUP))?.id
  if (groupId === undefined) {
    groupId = uuidv7()
    await directory.insertGroup(tx, { id: groupId, name: ADMIN_GROUP, isSuperuser: true, now })
    await enqueueChange(tx, { kind: 'group', groupId }, now)
  }
  await directory.addGroupMember(tx, groupId, adminPk)
  await enqueueChange(tx, { kind: 'member', groupId, userPks: [adminPk] }, now)
  return adminPk
}

/**
 * Makes sure an admin user in a superuser group exists, with an API token whose key is
 * `key` (authentik's AUTHENTIK_BOOTSTRAP_TOKEN). Idempotent.
 */
export async function ensureBootstrapAdmin(deps: Deps, key: string): Promise<void> {
  await inCredentialsTransaction(deps, async (tx) => {
    const adminPk = await ensureAdminUser(tx)
    const existing = await tokens.findTokenByIdentifier(tx, BOOTSTRAP_TOKEN_IDENTIFIER)
    if (existing) {
      await tokens.updateTokenKey(tx, existing.id, {
        digest: deps.secrets.digest(key),
        sealed: await deps.secrets.seal(key),
      })
      return
    }
    await issueToken(deps, tx, {
      identifier: BOOTSTRAP_TOKEN_IDENTIFIER,
      userId: adminPk,
      intent: 'api',
      expiring: false,
      key,
      description: 'Bootstrap admin token (SCIMD_BOOTSTRAP_TOKEN)',
    })
  })
}

/** Creates an admin API token for the admin user (`scimd admin-token create`). */
export async function createAdminToken(
  deps: Deps,
  opts: { identifier?: string; expires?: string | null } = {},
): Promise<{ token: Token; key: string }> {
  try {
    return await inTransaction(deps, async (tx) => {
      const adminPk = await ensureAdminUser(tx)
      const issued = await issueToken(deps, tx, {
        identifier: opts.identifier ?? `scimd-admin-${uuidv7()}`,
        userId: adminPk,
        intent: 'api',
        expiring: opts.expires !== undefined && opts.expires !== null,
        expires: opts.expires ?? null,
        description: 'Admin API token',
      })
      await recordEvent(deps, tx, {
        action: 'model_created',
        model: tokenModel(issued.token.id, issued.token.identifier),
      })
      return issued
    })
  } catch (err) {
    // A taken identifier is the caller's error, not a server fault.
    if (isUniqueViolation(err))
      throw ScimError.uniqueness(`A token with identifier '${opts.identifier}' already exists`)
    throw err
  }
}
