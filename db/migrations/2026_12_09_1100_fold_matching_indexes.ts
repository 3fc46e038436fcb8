/**
 * The matching modes' indexes on the folded email and username, folded as the SCIM filters
 * fold (issue 23): every script, not ASCII only. SQLite's lower() left `É` and `Σ` as they
 * were, so `email_deny` let `ÉLODIE@…` in beside `élodie@…`. On SQLite the fold is scimd's
 * function (scimd_fold_case, defined on each connection); on PostgreSQL lower() under the ICU
 * root locale.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  for (const column of ['email', 'username']) {
    await db.schema.dropIndex(`users_${column}_lower_idx`).ifExists().execute()
    const folded = postgres
      ? sql`lower(${sql.ref(column)} collate "und-x-icu")`
      : sql`scimd_fold_case(${sql.ref(column)})`
    await sql`create index ${sql.id(`users_${column}_fold_idx`)} on users (${folded})`.execute(db)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['email', 'username']) {
    await db.schema.dropIndex(`users_${column}_fold_idx`).ifExists().execute()
    await sql`create index ${sql.id(`users_${column}_lower_idx`)} on users (lower(${sql.ref(column)}))`.execute(
      db,
    )
  }
}
