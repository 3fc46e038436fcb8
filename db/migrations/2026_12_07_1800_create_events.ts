/**
 * The event log (authentik's Event: who did what to which object, from where, until when it
 * is kept) and the failed-authentication counters that brute-force limits share between
 * instances.
 */
import type { Kysely } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  // What the admin API filters on (username, source, model) has a column of its own, copied
  // from the JSON at write time, so that no filter reads JSON; only `created`, `expires` and
  // the source are indexed, to keep the insert that every provisioning write makes cheap.
  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('user_pk', 'integer')
    .addColumn('username', 'text')
    .addColumn('context', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('client_ip', 'text')
    .addColumn('source_id', 'text')
    .addColumn('model_app', 'text')
    .addColumn('model_name', 'text')
    .addColumn('model_pk', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('expires', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('events_created_idx').on('events').columns(['created']).execute()
  await db.schema.createIndex('events_expires_idx').on('events').columns(['expires']).execute()
  await db.schema
    .createIndex('events_source_idx')
    .on('events')
    .columns(['source_id', 'created'])
    .execute()

  // One row per client address with failures in the current window.
  await db.schema
    .createTable('auth_failures')
    .addColumn('client_ip', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('auth_failures').ifExists().execute()
  await db.schema.dropTable('events').ifExists().execute()
}
