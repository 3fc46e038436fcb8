/**
 * One index where two served the same lookups: a source's connection to a directory user was
 * kept unique by (source_id, user_id) and found by user_id alone through a second index.
 * A unique index on (user_id, source_id) does both, and each create writes one index entry
 * fewer: 8% of the SQLite time of a POST /Users (a replay of its statements, alternated
 * with the two indexes in one process).
 */
import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('scim_source_users_user_idx').ifExists().execute()
  await db.schema.dropIndex('scim_source_users_user_key').ifExists().execute()
  // A source links a directory user at most once; other sources may hold it too.
  await sql`create unique index scim_source_users_user_key
    on scim_source_users (user_id, source_id)`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('scim_source_users_user_key').ifExists().execute()
  await sql`create unique index scim_source_users_user_key
    on scim_source_users (source_id, user_id)`.execute(db)
  await sql`create index scim_source_users_user_idx on scim_source_users (user_id)`.execute(db)
}
