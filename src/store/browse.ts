/**
 * Index-driven lists for browsing a large directory (the admin UI): a source's users and
 * groups in key order, a group's members, each counted and paged without scanning what the
 * filter does not touch. A search term is a prefix of the lower-cased userName/displayName
 * key, or an exact SCIM id, externalId or email, so every term is an index probe.
 */
import { type Expression, type SqlBool, sql } from 'kysely'
import type { DirectoryUser, ScimGroupRecord, ScimUserRecord } from '../core/domain.js'
import { containsIgnoringCase, type Page, toCount } from './admin-query.js'
import { dialectOf, type Executor } from './database.js'
import { toDirectoryUser } from './directory.js'
import { type ScimRowOf, toScimGroupRecord, toScimUserRecord } from './scim-resources/records.js'

/** Greater than every string that starts with a given prefix (the highest code point). */
const AFTER_PREFIX = '\u{10FFFF}'

/**
 * `column` starts with `prefix`, as a range over its index. PostgreSQL compares in byte order
 * only under the "C" collation (its index on the keys is built so: create_filter_indexes);
 * SQLite's default BINARY collation is byte order already.
 */
function keyPrefix(db: Executor, column: string, prefix: string): Expression<SqlBool> {
  const ref = dialectOf(db) === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql.ref(column)
  return sql<SqlBool>`(${ref} >= ${prefix} and ${ref} < ${prefix + AFTER_PREFIX})`
}

function keyOrder(db: Executor, column: string) {
  return dialectOf(db) === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql.ref(column)
}

/**
 * A search of a source's users or groups is two index probes, never an OR that would make
 * the database walk the whole source: the rows whose key starts with the term (a range, in
 * key order, paged like the unfiltered list) and the few whose SCIM id, externalId (or, for
 * users, an email) is the term exactly. The exact matches that the range does not already
 * hold are listed first; the range follows.
 */
export interface SearchPage<T> {
  items: T[]
  count: number
}

function pageOfSearch<T>(
  exact: T[],
  rangeCount: number,
  page: Page,
  range: (page: Page) => Promise<T[]>,
): Promise<SearchPage<T>> {
  const count = exact.length + rangeCount
  const head = exact.slice(page.offset, page.offset + page.limit)
  const rest = page.limit - head.length
  if (rest <= 0 || page.offset + head.length >= count)
    return Promise.resolve({ items: head, count })
  const rangeOffset = Math.max(0, page.offset - exact.length)
  return range({ offset: rangeOffset, limit: rest }).then((rows) => ({
    items: [...head, ...rows],
    count,
  }))
}

/** At most this many exact matches are listed (an externalId is not unique, but rarely shared). */
const MAX_EXACT = 100

/** What a search needs to know of a source's users or groups table. */
interface SearchedTable<K extends keyof ScimRowOf, T> {
  table: K
  /** The lower-cased userName or displayName: the list's order and the prefix a term probes. */
  key: keyof ScimRowOf[K] & string
  /** Whether an email (scim_source_user_emails.value_key) is an exact term too: users only. */
  emails: boolean
  item: (row: ScimRowOf[K]) => T
}

const USERS: SearchedTable<'scim_source_users', ScimUserRecord> = {
  table: 'scim_source_users',
  key: 'user_name_key',
  emails: true,
  item: toScimUserRecord,
}

export interface SourceGroupRow {
  record: ScimGroupRecord
  groupId: string
}

const GROUPS: SearchedTable<'scim_source_groups', SourceGroupRow> = {
  table: 'scim_source_groups',
  key: 'display_name_key',
  emails: false,
  item: (row) => ({ record: toScimGroupRecord(row), groupId: row.group_id }),
}

/**
 * One page of a source's users or groups in key order, or of those a search term finds. The
 * table is typed as the users table, as in scim-resources/pages.ts: Kysely cannot type a
 * select from a union of tables, and only the columns both have are named (the key column
 * through `spec.key`); `spec.item` gives each row its own table's type.
 */
async function searchSource<K extends keyof ScimRowOf, T>(
  db: Executor,
  spec: SearchedTable<K, T>,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<SearchPage<T>> {
  // The subquery of exact ids reuses the alias: it is not correlated, so `r` is its own table.
  const from = `${spec.table} as r` as 'scim_source_users as r'
  const keyOf = (row: unknown) => (row as Record<string, string>)[spec.key] as string
  const item = (row: unknown) => spec.item(row as ScimRowOf[K])
  const key = term?.toLowerCase()
  const range = () => {
    const query = db.selectFrom(from).where('r.source_id', '=', sourceId)
    return key === undefined ? query : query.where(keyPrefix(db, `r.${spec.key}`, key))
  }
  let exact: T[] = []
  if (term !== undefined && key !== undefined) {
    const probe = () => db.selectFrom(from).select('r.id').where('r.source_id', '=', sourceId)
    let ids = probe()
      .where('r.id', '=', term)
      .unionAll(probe().where('r.external_id', '=', term))
    if (spec.emails) {
      ids = ids.unionAll(
        db
          .selectFrom('scim_source_user_emails as e')
          .select('e.user_id as id')
          .where('e.source_id', '=', sourceId)
          .where('e.value_key', '=', key),
      )
    }
    const rows = await db
      .selectFrom(from)
      .selectAll('r')
      .where('r.source_id', '=', sourceId)
      .where('r.id', 'in', ids)
      // Sorted here, not in SQL: an ORDER BY makes SQLite walk the whole source in key order.
      .limit(MAX_EXACT)
      .execute()
    exact = rows
      .filter((r) => !keyOf(r).startsWith(key))
      .sort(byKey(keyOf))
      .map(item)
  }
  const { n } = await range()
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return pageOfSearch(exact, toCount(n), page, async (slice) => {
    const rows = await range()
      .selectAll('r')
      .orderBy(keyOrder(db, `r.${spec.key}`))
      .orderBy('r.id')
      .limit(slice.limit)
      .offset(slice.offset)
      .execute()
    return rows.map(item)
  })
}

/** Orders the few exact matches by key, then id (string order; they are listed before the range). */
function byKey<T extends { id: string }>(key: (row: T) => string) {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return (a: T, b: T) => compare(key(a), key(b)) || compare(a.id, b.id)
}

/** One page of a source's users in userName order, or of those a search term finds. */
export function searchSourceUsers(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<SearchPage<ScimUserRecord>> {
  return searchSource(db, USERS, sourceId, term, page)
}

/** One page of a source's groups in displayName order, or of those a search term finds. */
export function searchSourceGroups(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<SearchPage<SourceGroupRow>> {
  return searchSource(db, GROUPS, sourceId, term, page)
}

/**
 * A group's direct members, searched within the group. `cross join` makes SQLite start from
 * the group's membership rows (its primary key) instead of walking every user in username
 * order to find members: the cost follows the group, not the directory.
 */
function members(db: Executor, groupId: string, term: string | undefined) {
  let query = db
    .selectFrom('group_members as gm')
    .crossJoin('users as u')
    .whereRef('u.id', '=', 'gm.user_id')
    .where('gm.group_id', '=', groupId)
  if (term) {
    query = query.where((eb) =>
      eb.or([
        containsIgnoringCase('u.username', term),
        containsIgnoringCase('u.name', term),
        containsIgnoringCase('u.email', term),
      ]),
    )
  }
  return query
}

export async function countMembers(
  db: Executor,
  groupId: string,
  term: string | undefined,
): Promise<number> {
  // Without a term the membership rows alone answer (a range of the primary key).
  const query = term
    ? members(db, groupId, term)
    : db.selectFrom('group_members as gm').where('gm.group_id', '=', groupId)
  const { n } = await query
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of a group's direct members in username order. */
export async function listMembers(
  db: Executor,
  groupId: string,
  term: string | undefined,
  page: Page,
): Promise<DirectoryUser[]> {
  const rows = await members(db, groupId, term)
    .selectAll('u')
    .orderBy('u.username')
    .orderBy('u.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map(toDirectoryUser)
}

/**
 * Directory users whose username starts with `term` (case as typed), or whose UUID or email
 * is `term`: probes of the username and UUID indexes rather than a scan of every user.
 */
function directoryUsers(db: Executor, term: string | undefined) {
  let query = db.selectFrom('users as u')
  if (term) {
    query = query.where((eb) =>
      eb.or([keyPrefix(db, 'u.username', term), eb('u.uuid', '=', term.toLowerCase())]),
    )
  }
  return query
}

export async function countDirectoryUsers(db: Executor, term: string | undefined): Promise<number> {
  const { n } = await directoryUsers(db, term)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

export async function listDirectoryUsers(
  db: Executor,
  term: string | undefined,
  page: Page,
): Promise<DirectoryUser[]> {
  const rows = await directoryUsers(db, term)
    .selectAll('u')
    .orderBy(keyOrder(db, 'u.username'))
    .orderBy('u.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map(toDirectoryUser)
}
