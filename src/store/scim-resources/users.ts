/** A source's SCIM users (scim_source_users) and their indexed email side table. */
import { type Expression, type Kysely, type SqlBool, sql } from 'kysely'
import type { ScimDocument, ScimUserRecord, UserGroupRef } from '../../core/domain.js'
import {
  type Database,
  dialectOf,
  type Executor,
  type InsertableScimSourceUserEmailRow,
  type InsertableScimSourceUserRow,
  type InsertableUserRow,
  type NewEventRow,
} from '../database.js'
import { insertUser } from '../directory.js'
import { EVENT_COLUMNS, recordEvent, selectEventFromJson, withModelPk } from '../events.js'
import { directGroupsJson, groupsOfUserFromJson } from '../members.js'
import { enqueueChange } from '../outbox.js'
import { preparedQuery, preparedRowQuery } from '../prepared.js'
import type { Transactor } from '../transactor.js'
import { countResources, type PageQuery, selectResourcePage } from './pages.js'
import {
  StoredUserRecord,
  toScimUserRecord,
  USER_COLUMNS,
  type UserColumns,
  updateRecord,
  userById,
  userByIdForUpdate,
} from './records.js'

export interface ScimUserWrite {
  externalId: string | null
  userNameKey: string
  document: ScimDocument
  now: string
}

const insertScimUserRow = preparedRowQuery((db, row: InsertableScimSourceUserRow) =>
  db.insertInto('scim_source_users').values(row).compile(),
)

/** A new user: its directory row, and what its SCIM row and email rows hold. */
export interface NewScimUser extends ScimUserWrite {
  id: string
  sourceId: string
  user: InsertableUserRow
  emails: readonly EmailEntry[]
}

export interface EmailEntry {
  value: string
  type: string | null
  primary: boolean
}

/**
 * Creates a user: the directory row, the SCIM row and the email rows, all or none; returns
 * the directory row's pk. On PostgreSQL this is one statement, which is a transaction of its
 * own, so it runs on `db` outside any: one round trip where `begin`, three inserts and
 * `commit` took five. On SQLite it is the three inserts, in a transaction of `transactor`
 * (group commit). Either way the caller may retry it on a conflict as a whole, and the
 * change is in the outbox (outbox.ts) with it.
 */
export async function createScimUser(
  db: Kysely<Database>,
  transactor: Transactor,
  user: NewScimUser,
  /** The event that records the creation (events.ts), written in the same transaction. */
  event?: NewEventRow,
): Promise<number> {
  if (dialectOf(db) === 'postgres') {
    const [created] = await createUserAtOnce(db, {
      ...user.user,
      scim_id: user.id,
      scim_source_id: user.sourceId,
      scim_external_id: user.externalId,
      scim_user_name_key: user.userNameKey,
      scim_resource: JSON.stringify(user.document),
      scim_now: user.now,
      scim_emails: JSON.stringify(emailRows(user.emails)),
      ...(event ? { scim_event: JSON.stringify(event) } : {}),
    })
    if (!created) throw new Error('insert into users returned no id')
    return created.id
  }
  return transactor.run((tx) => insertScimUser(tx, user, event))
}

/**
 * createScimUser's inserts (with the outbox row and the event), inside a transaction the
 * caller holds; returns the user's pk.
 */
export async function insertScimUser(
  tx: Executor,
  user: NewScimUser,
  event?: NewEventRow,
): Promise<number> {
  const userId = await insertUser(tx, user.user)
  await insertScimUserConnection(tx, { ...user, userId, ownsUser: true })
  await enqueueChange(tx, { kind: 'user', userPk: userId }, user.now)
  if (event) await recordEvent(tx, withModelPk(event, userId))
  return userId
}

/** A connection row and its email rows; `ownsUser` false when it links an existing user. */
export async function insertScimUserConnection(
  tx: Executor,
  c: ScimUserWrite & {
    id: string
    sourceId: string
    userId: number
    emails: readonly EmailEntry[]
    ownsUser: boolean
  },
): Promise<void> {
  await insertScimUserRow(tx, {
    id: c.id,
    source_id: c.sourceId,
    user_id: c.userId,
    external_id: c.externalId,
    user_name_key: c.userNameKey,
    resource: JSON.stringify(c.document),
    created: c.now,
    last_modified: c.now,
    version: 1,
    owns_user: c.ownsUser ? 1 : 0,
  })
  await replaceScimUserEmails(tx, c.sourceId, c.id, c.emails, true)
}

/** A connection of some source to a directory user. */
export interface UserHolder {
  id: string
  sourceId: string
  ownsUser: boolean
}

/** Every connection to the directory user `userPk`, oldest first. */
export async function listUserHolders(db: Executor, userPk: number): Promise<UserHolder[]> {
  const rows = await db
    .selectFrom('scim_source_users')
    .select(['id', 'source_id', 'owns_user'])
    .where('user_id', '=', userPk)
    .orderBy('created')
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ id: r.id, sourceId: r.source_id, ownsUser: r.owns_user === 1 }))
}

/** Deletes one connection (its email rows cascade), leaving the directory user. */
export async function deleteScimUserConnection(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<void> {
  await db
    .deleteFrom('scim_source_users')
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .execute()
}

/**
 * Before a source is deleted: the directory users it owns that another source also holds
 * pass to their oldest other holder, and the users it owns that nobody else holds are
 * deleted. Users it only linked stay. Its connection rows go with the source (cascade).
 */
export async function releaseSourceUsers(db: Executor, sourceId: string): Promise<void> {
  await sql`update scim_source_users set owns_user = 1 where id in (
    select o.id from scim_source_users o
    join scim_source_users mine
      on mine.user_id = o.user_id and mine.source_id = ${sourceId} and mine.owns_user = 1
    where o.source_id <> ${sourceId} and not exists (
      select 1 from scim_source_users p
      where p.user_id = o.user_id and p.source_id <> ${sourceId}
        and (p.created < o.created or (p.created = o.created and p.id < o.id))))`.execute(db)
  await sql`delete from users where id in (
    select mine.user_id from scim_source_users mine
    where mine.source_id = ${sourceId} and mine.owns_user = 1 and not exists (
      select 1 from scim_source_users o
      where o.user_id = mine.user_id and o.source_id <> ${sourceId}))`.execute(db)
}

/** Makes a connection the one its directory user exists for. */
export async function markOwnsUser(db: Executor, id: string): Promise<void> {
  await db.updateTable('scim_source_users').set({ owns_user: 1 }).where('id', '=', id).execute()
}

/** createScimUser's statement on PostgreSQL: its row is the users row and the rest, prefixed. */
type UserCreateRow = InsertableUserRow & {
  scim_id: string
  scim_source_id: string
  scim_external_id: string | null
  scim_user_name_key: string
  scim_resource: string
  scim_now: string
  /** emailRows as JSON. */
  scim_emails: string
  /** The event row as JSON, if any; its model_pk is the new user's pk. */
  scim_event?: string
}

const createUserAtOnce = preparedRowQuery((db, row: UserCreateRow) => {
  const {
    scim_id: id,
    scim_source_id: sourceId,
    scim_external_id: externalId,
    scim_user_name_key: userNameKey,
    scim_resource: resource,
    scim_now: now,
    scim_emails: emails,
    scim_event: event,
    ...user
  } = row
  const query = db
    .with('u', (q) => q.insertInto('users').values(user).returning('id'))
    .with('s', (q) =>
      q
        .insertInto('scim_source_users')
        .columns([
          'id',
          'source_id',
          'user_id',
          'external_id',
          'user_name_key',
          'resource',
          'created',
          'last_modified',
          'version',
        ])
        .expression(
          sql`select ${id}, ${sourceId}, u.id, ${externalId}, ${userNameKey}, ${resource},
            ${now}, ${now}, 1 from u`,
        ),
    )
    .with('e', (q) =>
      q
        .insertInto('scim_source_user_emails')
        .columns(['user_id', 'source_id', 'position', 'value', 'value_key', 'type', 'is_primary'])
        .expression(
          sql`select ${id}, ${sourceId}, e.position, e.value, e.value_key, e.type, e.is_primary
            from jsonb_to_recordset(${emails}::jsonb)
              as e(position integer, value text, value_key text, type text, is_primary integer)`,
        ),
    )
    // The outbox rows of the change (outbox.ts enqueueChange), in the same statement.
    .with('o', (q) =>
      q
        .insertInto('outbox')
        .columns(['provider_id', 'kind', 'object_id', 'member_id', 'created_at', 'available_at'])
        .expression(
          sql`select p.id, 'user', cast(${user.uuid} as text), null, cast(${now} as text),
          cast(${now} as text) from providers p`,
        ),
    )
  // The event's model is the user, whose pk is known once inserted.
  const withEvent =
    event === undefined
      ? query
      : // One more CTE changes nothing the final select can see: typed as without it.
        (query.with('ev', (q) =>
          q
            .insertInto('events')
            .columns(EVENT_COLUMNS)
            .expression(selectEventFromJson(event, sql<number>`(select id from u)`)),
        ) as unknown as typeof query)
  return withEvent.selectFrom('u').select('id').compile()
})

/**
 * Reads a user for a read-modify-write and, on PostgreSQL, locks its row until the
 * transaction ends (`for no key update`: it does not block foreign-key checks of rows that
 * reference it). A concurrent PATCH from any instance waits here and then reads the state
 * this one wrote, instead of both starting from the same version and one being retried.
 */
export async function findScimUserForUpdate(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<ScimUserRecord | undefined> {
  const [row] = await userByIdForUpdate(db, sourceId, id)
  return row && new StoredUserRecord(id, sourceId, row)
}

/**
 * Writes a new state of a user if it is still at `expectedVersion` (optimistic concurrency:
 * a concurrent writer makes this return false and the caller retries on fresh data).
 */
export async function updateScimUser(
  db: Executor,
  sourceId: string,
  id: string,
  expectedVersion: number,
  write: ScimUserWrite,
): Promise<boolean> {
  const key = { user_name_key: write.userNameKey }
  return updateRecord(db, 'scim_source_users', sourceId, id, expectedVersion, key, write)
}

const userByNameKey = preparedQuery((db, sourceId: string, userNameKey: string) =>
  db
    .selectFrom('scim_source_users')
    // By name, never `*`, as every prepared query (prepared.ts).
    .select(['id', 'source_id', 'user_name_key', ...USER_COLUMNS])
    .where('source_id', '=', sourceId)
    .where('user_name_key', '=', userNameKey)
    .compile(),
)

export async function findScimUser(
  db: Kysely<Database>,
  sourceId: string,
  id: string,
): Promise<ScimUserRecord | undefined> {
  const [row] = await userById(db, sourceId, id)
  return row && new StoredUserRecord(id, sourceId, row)
}

/** A user with their groups (UserGroupRef, direct and indirect). */
export interface ScimUserWithGroups {
  record: ScimUserRecord
  groups: UserGroupRef[]
}

/**
 * A user with their groups, read in one query (a GET of one user: one round trip to
 * PostgreSQL, one statement on SQLite); the nesting walk, when a group is nested, is a
 * second.
 */
export async function findScimUserWithGroups(
  db: Kysely<Database>,
  sourceId: string,
  id: string,
): Promise<ScimUserWithGroups | undefined> {
  const [row] = await userWithGroupsById(db, sourceId, id)
  return row && withGroups(db, sourceId, row)
}

/** findScimUserWithGroups by userName (the existence check before a create). */
export async function findScimUserWithGroupsByUserName(
  db: Kysely<Database>,
  sourceId: string,
  userName: string,
): Promise<ScimUserWithGroups | undefined> {
  const [row] = await userWithGroupsByNameKey(db, sourceId, userNameKey(userName))
  return row && withGroups(db, sourceId, row)
}

type UserWithGroupsRow = UserColumns & { id: string; direct_groups: string }

async function withGroups(
  db: Kysely<Database>,
  sourceId: string,
  row: UserWithGroupsRow,
): Promise<ScimUserWithGroups> {
  return {
    record: new StoredUserRecord(row.id, sourceId, row),
    groups: await groupsOfUserFromJson(db, sourceId, row.user_id, row.direct_groups),
  }
}

/** A user and their direct groups (../members.ts directGroupsJson), by a unique key. */
function userWithGroupsBy(key: 'id' | 'user_name_key') {
  return preparedQuery((db, sourceId: string, value: string) =>
    sql<UserWithGroupsRow>`
      select u.id, ${sql.join(USER_COLUMNS.map((c) => sql.ref(`u.${c}`)))},
        ${directGroupsJson(dialectOf(db), sql.ref('u.user_id'), sql.ref('u.source_id'))}
          as direct_groups
      from scim_source_users u
      where u.source_id = ${sourceId} and ${sql.ref(`u.${key}`)} = ${value}`.compile(db),
  )
}

const userWithGroupsById = userWithGroupsBy('id')
const userWithGroupsByNameKey = userWithGroupsBy('user_name_key')

/** The user with this userName (compared case-insensitively: the key is lower-cased). */
export async function findScimUserByUserName(
  db: Kysely<Database>,
  sourceId: string,
  userName: string,
): Promise<ScimUserRecord | undefined> {
  const [row] = await userByNameKey(db, sourceId, userNameKey(userName))
  return row && toScimUserRecord(row)
}

/** userName is unique per source regardless of case (RFC 7643 §4.1.1: caseExact false). */
export function userNameKey(userName: string): string {
  return userName.toLowerCase()
}

/** Rows per insert: 7 columns × 500 stays far below SQLite's 32,766 bound variables. */
const INSERT_CHUNK = 500

/** Replaces a user's rows in the email side table (kept in step with the document). */
export async function replaceScimUserEmails(
  db: Executor,
  sourceId: string,
  userId: string,
  emails: readonly EmailEntry[],
  isNew: boolean,
): Promise<void> {
  if (!isNew) await deleteEmails(db, userId)
  if (emails.length === 0) return
  const rows: InsertableScimSourceUserEmailRow[] = emailRows(emails).map((row) => ({
    user_id: userId,
    source_id: sourceId,
    ...row,
  }))
  if (rows.length === 1) {
    await insertEmailRow(db, rows[0] as InsertableScimSourceUserEmailRow)
    return
  }
  // In chunks: one statement for 4,700 emails passed SQLite's limit of bound variables.
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db
      .insertInto('scim_source_user_emails')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute()
  }
}

/** A user's email rows but their user and source. */
function emailRows(emails: readonly EmailEntry[]) {
  return emails.map((e, position) => ({
    position,
    value: e.value,
    value_key: e.value.toLowerCase(),
    type: e.type,
    is_primary: e.primary ? 1 : 0,
  }))
}

const deleteEmails = preparedQuery((db, userId: string) =>
  db.deleteFrom('scim_source_user_emails').where('user_id', '=', userId).compile(),
)

/** Most users have one email: that insert is prepared. */
const insertEmailRow = preparedRowQuery((db, row: InsertableScimSourceUserEmailRow) =>
  db.insertInto('scim_source_user_emails').values(row).compile(),
)

export async function listScimUsers(
  db: Executor,
  sourceId: string,
  page: PageQuery,
): Promise<ScimUserRecord[]> {
  const rows = await selectResourcePage(db, 'scim_source_users', sourceId, page).execute()
  return rows.map(toScimUserRecord)
}

export function countScimUsers(
  db: Executor,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
): Promise<number> {
  return countResources(db, 'scim_source_users', sourceId, where)
}
