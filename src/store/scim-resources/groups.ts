/** A source's SCIM groups (scim_source_groups); their membership is in ../members.ts. */
import { type Expression, type SqlBool, sql } from 'kysely'
import type { ScimDocument, ScimGroupRecord } from '../../core/domain.js'
import type { Executor, ScimSourceGroupRow } from '../database.js'
import { preparedQuery } from '../prepared.js'
import { countResources, type PageQuery, selectResourcePage } from './pages.js'
import { groupById, groupByIdForUpdate, StoredGroupRecord, toScimGroupRecord } from './records.js'

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

/** findScimGroup that locks the row until the transaction ends; see findScimUserForUpdate. */
export async function findScimGroupForUpdate(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<ScimGroupRecord | undefined> {
  const [row] = await groupByIdForUpdate(db, sourceId, id)
  return row && new StoredGroupRecord(id, sourceId, row)
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

const touchGroup = preparedQuery((db, sourceId: string, id: string, now: string) =>
  db
    .updateTable('scim_source_groups')
    .set({ last_modified: now, version: sql<number>`version + 1` })
    .where('source_id', '=', sourceId)
    .where('id', '=', id)
    .compile(),
)

/** Bumps a group's version and lastModified after a membership-only change. */
export async function touchScimGroup(
  db: Executor,
  sourceId: string,
  id: string,
  now: string,
): Promise<void> {
  await touchGroup(db, sourceId, id, now)
}

export async function findScimGroup(
  db: Executor,
  sourceId: string,
  id: string,
): Promise<ScimGroupRecord | undefined> {
  const [row] = await groupById(db, sourceId, id)
  return row && new StoredGroupRecord(id, sourceId, row)
}

export async function listScimGroups(
  db: Executor,
  sourceId: string,
  page: PageQuery,
): Promise<ScimGroupRecord[]> {
  const rows = await selectResourcePage(db, 'scim_source_groups', sourceId, page).execute()
  return (rows as unknown as ScimSourceGroupRow[]).map(toScimGroupRecord)
}

export function countScimGroups(
  db: Executor,
  sourceId: string,
  where: Expression<SqlBool> | undefined,
): Promise<number> {
  return countResources(db, 'scim_source_groups', sourceId, where)
}
