/**
 * The admin view of SCIM connection objects (scim_source_users / scim_source_groups) across
 * all sources: authentik's `/sources/scim_users/` and `/sources/scim_groups/` lists.
 */
import type { ScimGroupRecord, ScimUserRecord } from '../core/domain.js'
import { nullsLast, type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type { Executor } from './database.js'
import { toScimGroupRecord, toScimUserRecord } from './scim-resources/records.js'

/** Ordering fields whose column may be NULL (ordered alike on both dialects). */
const NULLABLE_ORDER_FIELDS = new Set<string>(['external_id'])

/** A connection row with the slug of its source. */
export interface UserConnection {
  record: ScimUserRecord
  sourceSlug: string
}

export interface GroupConnection {
  record: ScimGroupRecord
  groupId: string
  sourceSlug: string
}

const USER_CONNECTION_ORDER_COLUMNS = {
  id: 'su.id',
  external_id: 'su.external_id',
  user__username: 'u.username',
  source__slug: 's.slug',
  last_update: 'su.last_modified',
} as const
export type UserConnectionOrderField = keyof typeof USER_CONNECTION_ORDER_COLUMNS
export const USER_CONNECTION_ORDER_FIELDS = Object.keys(
  USER_CONNECTION_ORDER_COLUMNS,
) as UserConnectionOrderField[]

/** authentik's filters `source__slug`, `user__username`, `user__id` and its search fields. */
export interface UserConnectionFilter {
  sourceSlug?: string | undefined
  userUsername?: string | undefined
  userPk?: number | undefined
  search?: string | undefined
}

function filteredUserConnections(db: Executor, filter: UserConnectionFilter) {
  let query = db
    .selectFrom('scim_source_users as su')
    .innerJoin('sources as s', 's.id', 'su.source_id')
    .innerJoin('users as u', 'u.id', 'su.user_id')
  if (filter.sourceSlug !== undefined) query = query.where('s.slug', '=', filter.sourceSlug)
  if (filter.userUsername !== undefined) query = query.where('u.username', '=', filter.userUsername)
  if (filter.userPk !== undefined) query = query.where('su.user_id', '=', filter.userPk)
  const search = searchAny(
    ['s.slug', 'u.username', 'su.resource', 'u.uuid', 'su.external_id'],
    filter.search,
  )
  if (search) query = query.where(search)
  return query
}

export async function countUserConnections(
  db: Executor,
  filter: UserConnectionFilter,
): Promise<number> {
  const { n } = await filteredUserConnections(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of user connections, default order by username; the SCIM id breaks ties. */
export async function listUserConnections(
  db: Executor,
  filter: UserConnectionFilter,
  order: ReadonlyArray<OrderBy<UserConnectionOrderField>>,
  page: Page,
): Promise<UserConnection[]> {
  let query = filteredUserConnections(db, filter).selectAll('su').select('s.slug as source_slug')
  const orders =
    order.length > 0 ? order : [{ field: 'user__username' as const, descending: false }]
  for (const o of orders) {
    if (NULLABLE_ORDER_FIELDS.has(o.field))
      query = query.orderBy(
        nullsLast(USER_CONNECTION_ORDER_COLUMNS[o.field]),
        o.descending ? 'desc' : 'asc',
      )
    query = query.orderBy(USER_CONNECTION_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('su.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(({ source_slug, ...row }) => ({
    record: toScimUserRecord(row),
    sourceSlug: source_slug,
  }))
}

export async function findUserConnection(
  db: Executor,
  id: string,
): Promise<UserConnection | undefined> {
  const row = await db
    .selectFrom('scim_source_users as su')
    .innerJoin('sources as s', 's.id', 'su.source_id')
    .selectAll('su')
    .select('s.slug as source_slug')
    .where('su.id', '=', id)
    .executeTakeFirst()
  if (!row) return undefined
  const { source_slug, ...rest } = row
  return { record: toScimUserRecord(rest), sourceSlug: source_slug }
}

const GROUP_CONNECTION_ORDER_COLUMNS = {
  id: 'sg.id',
  external_id: 'sg.external_id',
  group__name: 'g.name',
  source__slug: 's.slug',
  last_update: 'sg.last_modified',
} as const
export type GroupConnectionOrderField = keyof typeof GROUP_CONNECTION_ORDER_COLUMNS
export const GROUP_CONNECTION_ORDER_FIELDS = Object.keys(
  GROUP_CONNECTION_ORDER_COLUMNS,
) as GroupConnectionOrderField[]

/** authentik's filters `source__slug`, `group__name`, `group__group_uuid` and its search fields. */
export interface GroupConnectionFilter {
  sourceSlug?: string | undefined
  groupName?: string | undefined
  groupPk?: string | undefined
  search?: string | undefined
}

function filteredGroupConnections(db: Executor, filter: GroupConnectionFilter) {
  let query = db
    .selectFrom('scim_source_groups as sg')
    .innerJoin('sources as s', 's.id', 'sg.source_id')
    .innerJoin('groups as g', 'g.id', 'sg.group_id')
  if (filter.sourceSlug !== undefined) query = query.where('s.slug', '=', filter.sourceSlug)
  if (filter.groupName !== undefined) query = query.where('g.name', '=', filter.groupName)
  if (filter.groupPk !== undefined) query = query.where('sg.group_id', '=', filter.groupPk)
  const search = searchAny(['s.slug', 'g.name', 'sg.resource', 'sg.external_id'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countGroupConnections(
  db: Executor,
  filter: GroupConnectionFilter,
): Promise<number> {
  const { n } = await filteredGroupConnections(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of group connections, default order by group name; the SCIM id breaks ties. */
export async function listGroupConnections(
  db: Executor,
  filter: GroupConnectionFilter,
  order: ReadonlyArray<OrderBy<GroupConnectionOrderField>>,
  page: Page,
): Promise<GroupConnection[]> {
  let query = filteredGroupConnections(db, filter).selectAll('sg').select('s.slug as source_slug')
  const orders = order.length > 0 ? order : [{ field: 'group__name' as const, descending: false }]
  for (const o of orders) {
    if (NULLABLE_ORDER_FIELDS.has(o.field))
      query = query.orderBy(
        nullsLast(GROUP_CONNECTION_ORDER_COLUMNS[o.field]),
        o.descending ? 'desc' : 'asc',
      )
    query = query.orderBy(GROUP_CONNECTION_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('sg.id').limit(page.limit).offset(page.offset).execute()
  return rows.map(({ source_slug, ...row }) => ({
    record: toScimGroupRecord(row),
    groupId: row.group_id,
    sourceSlug: source_slug,
  }))
}

export async function findGroupConnection(
  db: Executor,
  id: string,
): Promise<GroupConnection | undefined> {
  const row = await db
    .selectFrom('scim_source_groups as sg')
    .innerJoin('sources as s', 's.id', 'sg.source_id')
    .selectAll('sg')
    .select('s.slug as source_slug')
    .where('sg.id', '=', id)
    .executeTakeFirst()
  if (!row) return undefined
  const { source_slug, ...rest } = row
  return { record: toScimGroupRecord(rest), groupId: rest.group_id, sourceSlug: source_slug }
}

/** Deletes the directory groups a source provisioned; their connection rows and memberships cascade. */
export async function deleteSourceGroups(db: Executor, sourceId: string): Promise<void> {
  const groupIds = db
    .selectFrom('scim_source_groups')
    .select('group_id')
    .where('source_id', '=', sourceId)
  await db.deleteFrom('groups').where('id', 'in', groupIds).execute()
}

/** The provisioned users and groups of a source (for `used_by`), at most `limit` of each. */
export async function sourceObjects(
  db: Executor,
  sourceId: string,
  limit: number,
): Promise<{
  users: Array<{ id: string; username: string }>
  groups: Array<{ id: string; name: string }>
}> {
  const users = await db
    .selectFrom('scim_source_users as su')
    .innerJoin('users as u', 'u.id', 'su.user_id')
    .select(['su.id', 'u.username'])
    .where('su.source_id', '=', sourceId)
    .orderBy('su.id')
    .limit(limit)
    .execute()
  const groups = await db
    .selectFrom('scim_source_groups as sg')
    .innerJoin('groups as g', 'g.id', 'sg.group_id')
    .select(['sg.id', 'g.name'])
    .where('sg.source_id', '=', sourceId)
    .orderBy('sg.id')
    .limit(limit)
    .execute()
  return { users, groups }
}
