/**
 * User matching modes (`email_link`, `username_link`): several sources may hold one directory
 * user, each through its own connection row, so `scim_source_users.user_id` is unique per
 * source instead of across the table; `owns_user` says which connection the user exists for
 * (it is deleted with the last one that owns it, never with a connection that only linked
 * it); the directory gets case-insensitive indexes on username and email for the lookups
 * the matching modes make.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table scim_source_users drop constraint scim_source_users_user_id_key`.execute(
      db,
    )
    await sql`alter table scim_source_users add column owns_user integer not null default 1`.execute(
      db,
    )
    await createIndexes(db)
    return
  }
  // SQLite cannot drop a column's UNIQUE: the table is rebuilt, in one transaction (Kysely's
  // Migrator runs SQLite migrations outside one). The email table is rebuilt with it, so
  // that dropping the old users table has no rows to cascade to.
  await db.transaction().execute(async (tx) => {
    await sql`create table scim_source_users_next (
      id text primary key,
      source_id text not null references sources(id) on delete cascade,
      user_id integer not null references users(id) on delete cascade,
      external_id text,
      user_name_key text not null,
      resource text not null,
      created text not null,
      last_modified text not null,
      version integer not null default 1,
      owns_user integer not null default 1)`.execute(tx)
    await sql`insert into scim_source_users_next
      (id, source_id, user_id, external_id, user_name_key, resource, created, last_modified,
        version, owns_user)
      select id, source_id, user_id, external_id, user_name_key, resource, created,
        last_modified, version, 1 from scim_source_users`.execute(tx)
    await sql`create table scim_source_user_emails_next (
      user_id text not null references scim_source_users_next(id) on delete cascade,
      source_id text not null,
      position integer not null,
      value text not null,
      value_key text not null,
      type text,
      is_primary integer not null default 0,
      constraint scim_source_user_emails_pk primary key (user_id, position))`.execute(tx)
    await sql`insert into scim_source_user_emails_next select user_id, source_id, position,
      value, value_key, type, is_primary from scim_source_user_emails`.execute(tx)
    await sql`drop table scim_source_user_emails`.execute(tx)
    await sql`drop table scim_source_users`.execute(tx)
    // Renaming rewrites the email table's reference to the new name (SQLite ≥ 3.26).
    await sql`alter table scim_source_users_next rename to scim_source_users`.execute(tx)
    await sql`alter table scim_source_user_emails_next rename to scim_source_user_emails`.execute(
      tx,
    )
    await sql`create unique index scim_source_users_name_key
      on scim_source_users (source_id, user_name_key)`.execute(tx)
    await sql`create index scim_source_users_external_idx
      on scim_source_users (source_id, external_id)`.execute(tx)
    await sql`create index scim_source_users_modified_idx
      on scim_source_users (source_id, last_modified)`.execute(tx)
    await sql`create index scim_source_users_source_id_idx
      on scim_source_users (source_id, id)`.execute(tx)
    await sql`create index scim_source_users_display_name_idx on scim_source_users
      (source_id, lower(json_extract(resource, '$.displayName')))`.execute(tx)
    await sql`create index scim_source_user_emails_value_idx
      on scim_source_user_emails (source_id, value_key)`.execute(tx)
    await createIndexes(tx)
  })
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
async function createIndexes(db: Kysely<any>): Promise<void> {
  // A source links a directory user at most once; other sources may hold it too.
  await sql`create unique index scim_source_users_user_key
    on scim_source_users (source_id, user_id)`.execute(db)
  // Who else holds a user (deleting a linked user), without a scan.
  await sql`create index scim_source_users_user_idx on scim_source_users (user_id)`.execute(db)
  // The matching modes' lookups: email is compared case-insensitively, as mail systems do;
  // username as SCIM compares userName (RFC 7643 §4.1.1, caseExact false).
  await sql`create index users_email_lower_idx on users (lower(email))`.execute(db)
  await sql`create index users_username_lower_idx on users (lower(username))`.execute(db)
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'users_email_lower_idx',
    'users_username_lower_idx',
    'scim_source_users_user_idx',
    'scim_source_users_user_key',
  ]) {
    await db.schema.dropIndex(index).ifExists().execute()
  }
  // A user held by several sources keeps one connection (the one that owns it, else the
  // oldest), so that the table-wide uniqueness can come back.
  await sql`delete from scim_source_users where id in (
    select s.id from scim_source_users s where exists (
      select 1 from scim_source_users o where o.user_id = s.user_id and o.id <> s.id
        and (o.owns_user > s.owns_user or (o.owns_user = s.owns_user and o.created < s.created)
          or (o.owns_user = s.owns_user and o.created = s.created and o.id < s.id))))`.execute(db)
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table scim_source_users drop column owns_user`.execute(db)
    await sql`alter table scim_source_users add constraint scim_source_users_user_id_key
      unique (user_id)`.execute(db)
    return
  }
  await sql`alter table scim_source_users drop column owns_user`.execute(db)
  await sql`create unique index scim_source_users_user_id_unique
    on scim_source_users (user_id)`.execute(db)
}
