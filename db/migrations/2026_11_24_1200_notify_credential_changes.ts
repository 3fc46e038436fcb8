/**
 * On PostgreSQL, every commit that changes a source or a token notifies the
 * `scimd_credentials` channel with the schema's name, so that instances which keep what their
 * token lookups returned drop it at once (src/store/credential-watch.ts), and deployments in
 * other schemas of the database know it is not theirs. One notification per statement;
 * PostgreSQL folds the identical notifications of one transaction into one. SQLite has no
 * other instances to tell: nothing to do there.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

const TABLES = ['sources', 'tokens']

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return
  // A PostgreSQL-compatible engine without PL/pgSQL gets no triggers; its instances then
  // keep no token lookups (credential-watch.ts probes for the triggers).
  const { rows } = await sql<{ ok: boolean }>`
    select exists(select 1 from pg_language where lanname = 'plpgsql') as ok`.execute(db)
  if (!rows[0]?.ok) return
  await sql`create function scimd_notify_credentials() returns trigger language plpgsql as $$
    begin
      perform pg_notify('scimd_credentials', TG_TABLE_SCHEMA);
      return null;
    end $$`.execute(db)
  for (const table of TABLES) {
    await sql`create trigger ${sql.id(`${table}_notify_credentials`)}
      after insert or update or delete or truncate on ${sql.table(table)}
      for each statement execute function scimd_notify_credentials()`.execute(db)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return
  for (const table of TABLES) {
    await sql`drop trigger if exists ${sql.id(`${table}_notify_credentials`)} on ${sql.table(table)}`.execute(
      db,
    )
  }
  await sql`drop function if exists scimd_notify_credentials()`.execute(db)
}
