/**
 * Indexes for filters and sorting beyond the first migration's columns: the User displayName
 * filter (Microsoft's test collection filters users by it) through an expression index on
 * the exact expression scim/filter.ts compiles, and on PostgreSQL byte-ordered ("C") copies
 * of the key-column indexes, which serve `sw` ranges and sortBy whatever the database's
 * default collation is (with the id, so a page's ids come from the index alone).
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index scim_source_users_display_name_idx on scim_source_users
      (source_id, translate((resource::jsonb) ->> 'displayName',
        'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))`.execute(db)
    await sql`create index scim_source_users_name_c_idx on scim_source_users
      (source_id, user_name_key collate "C", id)`.execute(db)
    await sql`create index scim_source_groups_name_c_idx on scim_source_groups
      (source_id, display_name_key collate "C", id)`.execute(db)
    return
  }
  await sql`create index scim_source_users_display_name_idx on scim_source_users
    (source_id, lower(json_extract(resource, '$.displayName')))`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'scim_source_users_display_name_idx',
    'scim_source_users_name_c_idx',
    'scim_source_groups_name_c_idx',
  ]) {
    await db.schema.dropIndex(index).ifExists().execute()
  }
}
