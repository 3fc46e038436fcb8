/**
 * Index-driven lists for browsing a large directory (the admin UI): a source's users and
 * groups in key order, a group's members, each counted and paged without scanning what the
 * filter does not touch. A search term is a prefix of the lower-cased userName/displayName
 * key, or an exact SCIM id, externalId or email, so every term is an index probe.
 */
import { type Expression, type SqlBool, sql } from 'kysely'
import type { DirectoryUser, ScimGroupRecord, ScimUserRecord } from '../domain.js'
import { containsIgnoringCase, type Page, toCount } from './admin-query.js'
import { dialectOf, type Executor } from './database.js'
import { toDirectoryUser } from './directory.js'
import { toScimGroupRecord, toScimUserRecord } from './scim-resources.js'

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

function sourceUsers(db: Executor, sourceId: string, term: string | undefined) {
  let query = db.selectFrom('scim_source_users as su').where('su.source_id', '=', sourceId)
  if (term) {
    const key = term.toLowerCase()
    query = query.where((eb) =>
      eb.or([
        keyPrefix(db, 'su.user_name_key', key),
        eb('su.id', '=', term),
        eb('su.external_id', '=', term),
        eb(
          'su.id',
          'in',
          eb
            .selectFrom('scim_source_user_emails as e')
            .select('e.user_id')
            .where('e.source_id', '=', sourceId)
            .where('e.value_key', '=', key),
        ),
      ]),
    )
  }
  return query
}

export async function countSourceUsers(
  db: Executor,
  sourceId: string,
  term: string | undefined,
): Promise<number> {
  const { n } = await sourceUsers(db, sourceId, term)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of a source's users in userName order (the key's index order). */
export async function listSourceUsers(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<ScimUserRecord[]> {
  const rows = await sourceUsers(db, sourceId, term)
    .selectAll('su')
    .orderBy(keyOrder(db, 'su.user_name_key'))
    .orderBy('su.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map(toScimUserRecord)
}

function sourceGroups(db: Executor, sourceId: string, term: string | undefined) {
  let query = db.selectFrom('scim_source_groups as sg').where('sg.source_id', '=', sourceId)
  if (term) {
    const key = term.toLowerCase()
    query = query.where((eb) =>
      eb.or([
        keyPrefix(db, 'sg.display_name_key', key),
        eb('sg.id', '=', term),
        eb('sg.external_id', '=', term),
      ]),
    )
  }
  return query
}

export async function countSourceGroups(
  db: Executor,
  sourceId: string,
  term: string | undefined,
): Promise<number> {
  const { n } = await sourceGroups(db, sourceId, term)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of a source's groups in displayName order, with their directory group ids. */
export async function listSourceGroups(
  db: Executor,
  sourceId: string,
  term: string | undefined,
  page: Page,
): Promise<Array<{ record: ScimGroupRecord; groupId: string }>> {
  const rows = await sourceGroups(db, sourceId, term)
    .selectAll('sg')
    .orderBy(keyOrder(db, 'sg.display_name_key'))
    .orderBy('sg.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map((row) => ({ record: toScimGroupRecord(row), groupId: row.group_id }))
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
