/** SCIM connection rows read into records, and the prepared lookups by SCIM id both kinds share. */
import type { CompiledQuery } from 'kysely'
import type { ScimGroupRecord, ScimUserRecord } from '../../core/domain.js'
import { StoredDocument } from '../../core/stored-document.js'
import type { Executor, ScimSourceGroupRow, ScimSourceUserRow } from '../database.js'
import { hasRowLocks } from '../locks.js'
import { preparedQuery } from '../prepared.js'

/** A record's columns but its id and source, which a lookup by id already has. */
export type UserColumns = Omit<
  ScimSourceUserRow,
  'id' | 'source_id' | 'user_name_key' | 'owns_user'
>
export type GroupColumns = Omit<
  ScimSourceGroupRow,
  'id' | 'source_id' | 'group_id' | 'display_name_key'
>

export const USER_COLUMNS = [
  'user_id',
  'external_id',
  'resource',
  'created',
  'last_modified',
  'version',
] as const satisfies readonly (keyof UserColumns)[]
export const GROUP_COLUMNS = [
  'external_id',
  'resource',
  'created',
  'last_modified',
  'version',
] as const satisfies readonly (keyof GroupColumns)[]

/** The columns both kinds of record read besides their own. */
export type RecordColumns = Pick<
  ScimSourceUserRow,
  'external_id' | 'resource' | 'created' | 'last_modified' | 'version'
>

/** A record read from the database: its document is parsed when first read (stored-document.ts). */
export abstract class StoredRecord extends StoredDocument {
  id: string
  sourceId: string
  externalId: string | null
  created: string
  lastModified: string
  version: number

  constructor(id: string, sourceId: string, row: RecordColumns) {
    super(row.resource)
    this.id = id
    this.sourceId = sourceId
    this.externalId = row.external_id
    this.created = row.created
    this.lastModified = row.last_modified
    this.version = row.version
  }
}

export class StoredUserRecord extends StoredRecord implements ScimUserRecord {
  userId: number

  constructor(id: string, sourceId: string, row: UserColumns) {
    super(id, sourceId, row)
    this.userId = row.user_id
  }
}

export class StoredGroupRecord extends StoredRecord implements ScimGroupRecord {}

export function toScimUserRecord(row: Omit<ScimSourceUserRow, 'owns_user'>): ScimUserRecord {
  return new StoredUserRecord(row.id, row.source_id, row)
}

export function toScimGroupRecord(row: ScimSourceGroupRow): ScimGroupRecord {
  return new StoredGroupRecord(row.id, row.source_id, row)
}

/**
 * A source's user or group by SCIM id, prepared: only the columns its record is built from
 * (turning a column into a JS value is a good part of a lookup's cost). `lock`: for a
 * read-modify-write, the row stays locked until the transaction ends where the database has
 * row locks (see findScimUserForUpdate).
 */
export function rowById<T extends keyof ColumnsOf>(table: T, lock: boolean) {
  const columns = table === 'scim_source_users' ? USER_COLUMNS : GROUP_COLUMNS
  return preparedQuery((db, sourceId: string, id: string) => {
    const query = db
      .selectFrom(table as keyof ColumnsOf)
      .select(columns)
      .where('source_id', '=', sourceId)
      .where('id', '=', id)
    // Kysely types a select from a union of tables loosely; the row is the table's.
    return (lock && hasRowLocks(db) ? query.forNoKeyUpdate() : query).compile() as CompiledQuery<
      ColumnsOf[T]
    >
  })
}

export interface ColumnsOf {
  scim_source_users: UserColumns
  scim_source_groups: GroupColumns
}

export interface ScimRowOf {
  scim_source_users: ScimSourceUserRow
  scim_source_groups: ScimSourceGroupRow
}

export const userById = rowById('scim_source_users', false)
export const userByIdForUpdate = rowById('scim_source_users', true)
export const groupById = rowById('scim_source_groups', false)
export const groupByIdForUpdate = rowById('scim_source_groups', true)

/** What a write of a user or group sets besides its key column: the same for both. */
export interface RecordWrite {
  externalId: string | null
  document: Record<string, unknown>
  now: string
}

/**
 * Writes a new state of a user or group if it is still at `expectedVersion` (optimistic
 * concurrency: a concurrent writer makes this return false and the caller retries on fresh
 * data). `key` is the table's lower-cased unique column (user_name_key, display_name_key).
 */
export async function updateRecord(
  db: Executor,
  table: keyof ScimRowOf,
  sourceId: string,
  id: string,
  expectedVersion: number,
  key: { user_name_key: string } | { display_name_key: string },
  write: RecordWrite,
): Promise<boolean> {
  const result = await db
    // Kysely types an update of a union of tables loosely; each table has the key it is given.
    .updateTable(table as 'scim_source_users')
    .set({
      ...(key as { user_name_key: string }),
      external_id: write.externalId,
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
