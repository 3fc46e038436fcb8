/**
 * The event log (authentik's Event: who did what to which object, from where, until when it
 * is kept) and the failed-authentication counters that brute-force limits share between
 * instances.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter
  // One row per event, kept small: every provisioning write inserts one. The object and the
  // source an event concerns are columns (the API shows them in `context`, and filters on
  // them without reading JSON); `context` holds only what else there is. On SQLite the table
  // is clustered on its id (no rowid b-tree beside the primary key's), and ids are UUIDv7:
  // new rows, and new `expires`, go to the right edge of the two b-trees, so a commit of many
  // events dirties few pages. Creation order is id order, so `created` needs no index.
  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('app', 'text', (c) => c.notNull())
    .addColumn('user_pk', 'integer')
    .addColumn('username', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('source_id', 'text')
    .addColumn('source_slug', 'text')
    .addColumn('model_app', 'text')
    .addColumn('model_name', 'text')
    .addColumn('model_pk', 'text')
    .addColumn('model_label', 'text')
    .addColumn('context', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('expires', 'text', (c) => c.notNull())
    .$call((table) => (isPostgres ? table : table.modifyEnd(sql`without rowid`)))
    .execute()
  await db.schema.createIndex('events_expires_idx').on('events').columns(['expires']).execute()

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
