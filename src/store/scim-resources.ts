/** SCIM connection rows (scim_source_users / scim_source_groups) and the indexed email side table. */
import type { Expression, SqlBool } from 'kysely'
import type { ScimDocument, ScimGroupRecord, ScimUserRecord } from '../domain.js'
import type {
  Executor,
  InsertableScimSourceUserEmailRow,
  ScimSourceGroupRow,
  ScimSourceUserRow,
} from './database.js'

export function toScimUserRecord(row: ScimSourceUserRow): ScimUserRecord {
  return {
    id: row.id,
    sourceId: row.source_id,
    userId: row.user_id,
    externalId: row.external_id,
    document: JSON.parse(row.resource) as ScimDocument,
    created: row.created,
    lastModified: row.last_modified,
    version: row.version,
  }
}

export function toScimGroupRecord(row: ScimSourceGroupRow): ScimGroupRecord {
  return {
    id: row.id,
    sourceId: row.source_id,
    externalId: row.external_id,
    document: JSON.parse(row.resource) as ScimDocument,
    created: row.created,
    lastModified: row.last_modified,
    version: row.version,
  }
}

export interface ScimUserWrite {
  externalId: string | null
  userNameKey: string
  document: ScimDocument
  now: string
}

export async function insertScimUser(
  db: Executor,
  row: { id: string; sourceId: string; userId: number } & ScimUserWrite,
): Promise<void> {
  await db
    .insertInto('scim_source_users')
    .values({
      id: row.id,
      source_id: row.sourceId,
      user_id: row.userId,
      external_id: row.externalId,
      user_name_key: row.userNameKey,
      resource: JSON.stringify(row.document),
      created: row.now,
      last_modified: row.now,
      version: 1,
    })
    .execute()
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
  const result = await db
    .updateTable('scim_source_users')
    .set({
      external_id: write.externalId,
      user_name_key: write.userNameKey,
      resource: JSON.stringify(write.document),
      last_modified: write.now,
      version: expectedVersion + 1,
    })
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst()
  return result.numUpdatedRows === 1n
}

export async function findScimUser(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<ScimUserRecord | undefined> {
  const row = await db
    .selectFrom('scim_source_users')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toScimUserRecord(row)
}

/** Replaces a user's rows in the email side table (kept in step with the document). */
export async function replaceScimUserEmails(
  db: Executor,
  sourceId: string,
  userId: string,
  emails: ReadonlyArray<{ value: string; type: string | null; primary: boolean }>,
  isNew: boolean,
): Promise<void> {
  if (!isNew) await db.deleteFrom('scim_source_user_emails').where('user_id', '=', userId).execute()
  if (emails.length === 0) return
  const rows: InsertableScimSourceUserEmailRow[] = emails.map((e, position) => ({
    user_id: userId,
    source_id: sourceId,
    position,
    value: e.value,
    value_key: e.value.toLowerCase(),
    type: e.type,
    is_primary: e.primary ? 1 : 0,
  }))
  await db.insertInto('scim_source_user_emails').values(rows).execute()
}

export interface PageQuery {
  where: Expression<SqlBool> | undefined
  /** Zero-based offset. */
  offset: number
  limit: number
  /** SQL expression to sort by, and direction; the id breaks ties so the order is total. */
  sort?: { expression: Expression<unknown>; descending: boolean }
}

export async function listScimUsers(
  db: Executor,
  sourceId: string,
  page: PageQuery,
): Promise<ScimUserRecord[]> {
  let query = db
    .selectFrom('scim_source_users as r')
    .selectAll('r')
    .where('r.source_id', '=', sourceId)
  if (page.where) query = query.where(page.where)
  if (page.sort) query = query.orderBy(page.sort.expression, page.sort.descending ? 'desc' : 'asc')
  const rows = await query
    .orderBy('r.id', page.sort?.descending ? 'desc' : 'asc')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map(toScimUserRecord)
}

export async function countScimUsers(
  db: Executor,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
): Promise<number> {
  let query = db
    .selectFrom('scim_source_users as r')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('r.source_id', '=', sourceId)
  if (where) query = query.where(where)
  const { n } = await query.executeTakeFirstOrThrow()
  return Number(n)
}

export interface ScimGroupWrite {
  externalId: string | null
  displayNameKey: string
  document: ScimDocument
  now: string
}

export async function insertScimGroup(
  db: Executor,
  row: { id: string; sourceId: string } & ScimGroupWrite,
): Promise<void> {
  await db
    .insertInto('scim_source_groups')
    .values({
      id: row.id,
      source_id: row.sourceId,
      group_id: row.id,
      external_id: row.externalId,
      display_name_key: row.displayNameKey,
      resource: JSON.stringify(row.document),
      created: row.now,
      last_modified: row.now,
      version: 1,
    })
    .execute()
}

export async function updateScimGroup(
  db: Executor,
  sourceId: string,
  id: string,
  expectedVersion: number,
  write: ScimGroupWrite,
): Promise<boolean> {
  const result = await db
    .updateTable('scim_source_groups')
    .set({
      external_id: write.externalId,
      display_name_key: write.displayNameKey,
      resource: JSON.stringify(write.document),
      last_modified: write.now,
      version: expectedVersion + 1,
    })
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst()
  return result.numUpdatedRows === 1n
}

/** Bumps a group's version and lastModified after a membership-only change. */
export async function touchScimGroup(
  db: Executor,
  sourceId: string,
  id: string,
  now: string,
): Promise<void> {
  await db
    .updateTable('scim_source_groups')
    .set((eb) => ({ last_modified: now, version: eb('version', '+', 1) }))
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .execute()
}

export async function findScimGroup(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<ScimGroupRecord | undefined> {
  const row = await db
    .selectFrom('scim_source_groups')
    .selectAll()
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .executeTakeFirst()
  return row && toScimGroupRecord(row)
}

export async function listScimGroups(
  db: Executor,
  sourceId: string,
  page: PageQuery,
): Promise<ScimGroupRecord[]> {
  let query = db
    .selectFrom('scim_source_groups as r')
    .selectAll('r')
    .where('r.source_id', '=', sourceId)
  if (page.where) query = query.where(page.where)
  if (page.sort) query = query.orderBy(page.sort.expression, page.sort.descending ? 'desc' : 'asc')
  const rows = await query
    .orderBy('r.id', page.sort?.descending ? 'desc' : 'asc')
    .limit(page.limit)
    .offset(page.offset)
    .execute()
  return rows.map(toScimGroupRecord)
}

export async function countScimGroups(
  db: Executor,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
): Promise<number> {
  let query = db
    .selectFrom('scim_source_groups as r')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('r.source_id', '=', sourceId)
  if (where) query = query.where(where)
  const { n } = await query.executeTakeFirstOrThrow()
  return Number(n)
}
