/** Pages of a source's users, groups or both, filtered and sorted in SQL (RFC 7644 §3.4.2, §3.4.3). */
import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely'
import type { ScimGroupRecord, ScimUserRecord } from '../../core/domain.js'
import type { Executor } from '../database.js'
import { type ScimRowOf, toScimGroupRecord, toScimUserRecord } from './records.js'

/** A sort key and direction; resources without a value come last ascending, first descending. */
export interface PageSort {
  expression: Expression<unknown>
  descending: boolean
  /** Whether the key can be NULL (no NULLS FIRST/LAST clause otherwise, so indexes still order). */
  nullable?: boolean
}

export interface PageQuery {
  where: Expression<SqlBool> | undefined
  /** Zero-based offset. */
  offset: number
  limit: number
  /** The sort key (RFC 7644 §3.4.2.3); the id breaks ties so the order is total. */
  sort?: PageSort | undefined
  /**
   * Only ids after this one (keyset continuation of the page that ended there; default
   * order only): the page starts at the id instead of skipping `offset` index entries.
   */
  after?: string | undefined
  /**
   * The filter is narrowed by an index (store/query/index-hints.ts isIndexNarrowed): read its few rows
   * and sort them, rather than walk the source in sort order testing every row.
   */
  narrowed?: boolean | undefined
}

/**
 * Orders by the sort key (if any), then by id in the same direction: a total, stable order.
 * `sortRows` orders by `key || ''` (the same order), which no index can deliver, so that the
 * planner picks the filter's index and sorts, instead of an index that yields the order.
 */
function ordered<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  sort: PageSort | undefined,
  id: Expression<unknown>,
  sortRows = false,
): SelectQueryBuilder<DB, TB, O> {
  const descending = sort?.descending ?? false
  const key = (expr: Expression<unknown>) => (sortRows ? sql`(${expr} || '')` : expr)
  let out = query
  if (sort) {
    out = out.orderBy(key(sort.expression), (ob) => {
      const directed = descending ? ob.desc() : ob.asc()
      if (!sort.nullable) return directed
      return descending ? directed.nullsFirst() : directed.nullsLast()
    })
  }
  return out.orderBy(key(id), descending ? 'desc' : 'asc')
}

/**
 * `<table> as r`, typed as the users table: Kysely cannot type a select from a union of
 * tables, and the queries below use only the columns both have (id, source_id) or all of
 * them (their callers give the rows their table's type).
 */
function aliased(table: keyof ScimRowOf): 'scim_source_users as r' {
  return `${table} as r` as 'scim_source_users as r'
}

/**
 * The query of one page of a source's users or groups, filtered and sorted in SQL. The
 * page's ids are chosen by an id-only subquery (for the default order it walks the
 * (source_id, id) index) and only those rows are read, so a deep OFFSET skips index
 * entries, not whole rows.
 */
export function selectResourcePage(
  db: Executor,
  table: keyof ScimRowOf,
  sourceId: string,
  page: PageQuery,
) {
  const from = aliased(table)
  let ids = db.selectFrom(from).select('r.id').where('r.source_id', '=', sourceId)
  if (page.where) ids = ids.where(page.where)
  if (page.after !== undefined) ids = ids.where('r.id', '>', page.after)
  ids = ordered(ids, page.sort, sql.ref('r.id'), page.narrowed)
    .limit(page.limit)
    .offset(page.offset)
  const query = db
    .selectFrom(from)
    .selectAll('r')
    .where('r.source_id', '=', sourceId)
    .where('r.id', 'in', ids)
  return ordered(query, page.sort, sql.ref('r.id'))
}

/** The count query of a filter over a source's users or groups (totalResults). */
export function selectResourceCount(
  db: Executor,
  table: keyof ScimRowOf,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
) {
  let query = db
    .selectFrom(aliased(table))
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('r.source_id', '=', sourceId)
  if (where) query = query.where(where)
  return query
}

export async function countResources(
  db: Executor,
  table: keyof ScimRowOf,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
): Promise<number> {
  const { n } = await selectResourceCount(db, table, sourceId, where).executeTakeFirstOrThrow()
  return Number(n)
}

/** The page of a search across Users and Groups (RFC 7644 §3.4.3): a filter and sort key per type. */
export interface SearchPageQuery {
  users: Expression<SqlBool> | undefined
  groups: Expression<SqlBool> | undefined
  offset: number
  limit: number
  sort?:
    | {
        users: Expression<unknown>
        groups: Expression<unknown>
        descending: boolean
        nullable: boolean
      }
    | undefined
}

export type ScimResourceRecord =
  | { resourceType: 'User'; record: ScimUserRecord }
  | { resourceType: 'Group'; record: ScimGroupRecord }

/**
 * One page of a source's users and groups together: users before groups unless a sort key
 * says otherwise, ties broken by type, then id.
 */
export async function listScimResources(
  db: Executor,
  sourceId: string,
  page: SearchPageQuery,
): Promise<ScimResourceRecord[]> {
  const sort = page.sort
  let users = db
    .selectFrom('scim_source_users as r')
    .select([
      sql<number>`0`.as('kind'),
      'r.id',
      (sort ? sql`${sort.users}` : sql`null`).as('sort_key'),
    ])
    .where('r.source_id', '=', sourceId)
  if (page.users) users = users.where(page.users)
  let groups = db
    .selectFrom('scim_source_groups as r')
    .select([
      sql<number>`1`.as('kind'),
      'r.id',
      (sort ? sql`${sort.groups}` : sql`null`).as('sort_key'),
    ])
    .where('r.source_id', '=', sourceId)
  if (page.groups) groups = groups.where(page.groups)
  const descending = sort?.descending ?? false
  let query = db.selectFrom(users.unionAll(groups).as('x')).select(['x.kind', 'x.id'])
  if (sort) {
    query = query.orderBy(sql.ref('x.sort_key'), (ob) => {
      const directed = descending ? ob.desc() : ob.asc()
      return descending ? directed.nullsFirst() : directed.nullsLast()
    })
  }
  const picked = await query
    .orderBy('x.kind', descending ? 'desc' : 'asc')
    .orderBy('x.id', descending ? 'desc' : 'asc')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  const userIds = picked.filter((p) => Number(p.kind) === 0).map((p) => p.id)
  const groupIds = picked.filter((p) => Number(p.kind) === 1).map((p) => p.id)
  const userRows =
    userIds.length === 0
      ? []
      : await db
          .selectFrom('scim_source_users')
          .selectAll()
          .where('source_id', '=', sourceId)
          .where('id', 'in', userIds)
          .execute()
  const groupRows =
    groupIds.length === 0
      ? []
      : await db
          .selectFrom('scim_source_groups')
          .selectAll()
          .where('source_id', '=', sourceId)
          .where('id', 'in', groupIds)
          .execute()
  const usersById = new Map(userRows.map((r) => [r.id, toScimUserRecord(r)]))
  const groupsById = new Map(groupRows.map((r) => [r.id, toScimGroupRecord(r)]))
  return picked.flatMap((p): ScimResourceRecord[] => {
    if (Number(p.kind) === 0) {
      const record = usersById.get(p.id)
      return record ? [{ resourceType: 'User', record }] : []
    }
    const record = groupsById.get(p.id)
    return record ? [{ resourceType: 'Group', record }] : []
  })
}
