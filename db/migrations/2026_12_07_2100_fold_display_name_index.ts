/**
 * The User displayName filter's expression index, on the expression the filter compiler now
 * writes: case folding of every script (issue 23), not ASCII only. On SQLite the fold is the
 * function scimd defines on each connection (scimd_fold_case, deterministic); on PostgreSQL
 * lower() under the ICU root locale.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('scim_source_users_display_name_idx').ifExists().execute()
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index scim_source_users_display_name_idx on scim_source_users
      (source_id, lower(((resource::jsonb) ->> 'displayName') collate "und-x-icu"))`.execute(db)
    return
  }
  await sql`create index scim_source_users_display_name_idx on scim_source_users
    (source_id, scimd_fold_case(json_extract(resource, '$.displayName')))`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('scim_source_users_display_name_idx').ifExists().execute()
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index scim_source_users_display_name_idx on scim_source_users
      (source_id, translate((resource::jsonb) ->> 'displayName',
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))`.execute(db)
    return
  }
  await sql`create index scim_source_users_display_name_idx on scim_source_users
    (source_id, lower(json_extract(resource, '$.displayName')))`.execute(db)
}
