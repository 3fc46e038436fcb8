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
import { toScimGroupRecord, toScimUserRecord } from './scim-resources/records.js'

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

function sourceUserRange(db: Executor, sourceId: string, key: string | undefined) {
  const query = db.selectFrom('scim_source_users as su').where('su.source_id', '=', sourceId)
  return key === undefined ? query : query.where(keyPrefix(db, 'su.user_name_key', key))
}

/** One page of a source's users in userName order, or of those a search term finds. */
export async function searchSourceUsers(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<SearchPage<ScimUserRecord>> {
  const key = term?.toLowerCase()
  let exact: ScimUserRecord[] = []
  if (term !== undefined && key !== undefined) {
    const ids = db
      .selectFrom('scim_source_users as x')
      .select('x.id')
      .where('x.source_id', '=', sourceId)
      .where('x.id', '=', term)
      .unionAll(
        db
          .selectFrom('scim_source_users as x')
          .select('x.id')
          .where('x.source_id', '=', sourceId)
          .where('x.external_id', '=', term),
      )
      .unionAll(
        db
          .selectFrom('scim_source_user_emails as e')
          .select('e.user_id as id')
          .where('e.source_id', '=', sourceId)
          .where('e.value_key', '=', key),
      )
    const rows = await db
      .selectFrom('scim_source_users as su')
      .selectAll('su')
      .where('su.source_id', '=', sourceId)
      .where('su.id', 'in', ids)
      // Sorted here, not in SQL: an ORDER BY makes SQLite walk the whole source in key order.
      .limit(MAX_EXACT)
      .execute()
    exact = rows
      .filter((r) => !r.user_name_key.startsWith(key))
      .sort(byKey((r) => r.user_name_key))
      .map(toScimUserRecord)
  }
  const { n } = await sourceUserRange(db, sourceId, key)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return pageOfSearch(exact, toCount(n), page, async (range) => {
    const rows = await sourceUserRange(db, sourceId, key)
      .selectAll('su')
      .orderBy(keyOrder(db, 'su.user_name_key'))
      .orderBy('su.id')
      .limit(range.limit)
      .offset(range.offset)
      .execute()
    return rows.map(toScimUserRecord)
  })
}

/** Orders the few exact matches by key, then id (string order; they are listed before the range). */
function byKey<T extends { id: string }>(key: (row: T) => string) {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return (a: T, b: T) => compare(key(a), key(b)) || compare(a.id, b.id)
}

/** At most this many exact matches are listed (an externalId is not unique, but rarely shared). */
const MAX_EXACT = 100

function sourceGroupRange(db: Executor, sourceId: string, key: string | undefined) {
  const query = db.selectFrom('scim_source_groups as sg').where('sg.source_id', '=', sourceId)
  return key === undefined ? query : query.where(keyPrefix(db, 'sg.display_name_key', key))
}

export interface SourceGroupRow {
  record: ScimGroupRecord
  groupId: string
}

/** One page of a source's groups in displayName order, or of those a search term finds. */
export async function searchSourceGroups(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<SearchPage<SourceGroupRow>> {
  const key = term?.toLowerCase()
  let exact: SourceGroupRow[] = []
  if (term !== undefined && key !== undefined) {
    const ids = db
      .selectFrom('scim_source_groups as x')
      .select('x.id')
      .where('x.source_id', '=', sourceId)
      .where('x.id', '=', term)
      .unionAll(
        db
          .selectFrom('scim_source_groups as x')
          .select('x.id')
          .where('x.source_id', '=', sourceId)
          .where('x.external_id', '=', term),
      )
    const rows = await db
      .selectFrom('scim_source_groups as sg')
      .selectAll('sg')
      .where('sg.source_id', '=', sourceId)
      .where('sg.id', 'in', ids)
      .limit(MAX_EXACT)
      .execute()
    exact = rows
      .filter((r) => !r.display_name_key.startsWith(key))
      .sort(byKey((r) => r.display_name_key))
      .map((row) => ({ record: toScimGroupRecord(row), groupId: row.group_id }))
  }
  const { n } = await sourceGroupRange(db, sourceId, key)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return pageOfSearch(exact, toCount(n), page, async (range) => {
    const rows = await sourceGroupRange(db, sourceId, key)
      .selectAll('sg')
      .orderBy(keyOrder(db, 'sg.display_name_key'))
      .orderBy('sg.id')
      .limit(range.limit)
      .offset(range.offset)
      .execute()
    return rows.map((row) => ({ record: toScimGroupRecord(row), groupId: row.group_id }))
  })
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
