/**
 * Sessions of the admin web UI: one row per signed-in browser, found by a keyed digest of
 * its cookie (the cookie's value itself is never stored), ending at an absolute expiry.
 */
import type { Kysely } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ui_sessions')
    .addColumn('id_digest', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Deleting the admin token that opened the session ends the session.
    .addColumn('token_id', 'text', (c) => c.notNull().references('tokens.id').onDelete('cascade'))
    // The token's key digest at sign-in: a rotated key ends the sessions it opened.
    .addColumn('token_key_digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('ui_sessions_expires_idx')
    .on('ui_sessions')
    .column('expires_at')
    .execute()
  await db.schema
    .createIndex('ui_sessions_token_idx')
    .on('ui_sessions')
    .column('token_id')
    .execute()
  await db.schema.createIndex('ui_sessions_user_idx').on('ui_sessions').column('user_id').execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ui_sessions').execute()
}
