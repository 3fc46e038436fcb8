/** Outbound SCIM providers, their connection objects and the outbox of directory changes. */
import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter
  const identity = (c: ColumnDefinitionBuilder) =>
    isPostgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()

  await db.schema
    .createTable('providers')
    .addColumn('id', 'integer', identity)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    // The bearer token, sealed (JWE) under the server secret like token keys; never plaintext.
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('verify_certificates', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('compatibility_mode', 'text', (c) => c.notNull().defaultTo('default'))
    .addColumn('exclude_users_service_account', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('filter_group', 'text')
    .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
    // A full sync is wanted from this instant on (set on create, scope change, on demand).
    .addColumn('full_sync_requested_at', 'text')
    .addColumn('last_full_sync_started_at', 'text')
    .addColumn('last_full_sync_finished_at', 'text')
    .addColumn('last_sync_status', 'text')
    .addColumn('last_sync_message', 'text')
    .addColumn('last_successful_sync', 'text')
    // Which instance works this provider's outbox and full syncs, until when (a lease).
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('providers_name_idx').on('providers').column('name').execute()

  for (const kind of ['user', 'group'] as const) {
    const table = `provider_${kind}s`
    await db.schema
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('provider_id', 'integer', (c) =>
        c.notNull().references('providers.id').onDelete('cascade'),
      )
      // No foreign key: the link outlives the directory object, so that its deletion can
      // still be pushed (the worker deletes the remote object, then the link).
      .addColumn(`${kind}_id`, 'text', (c) => c.notNull())
      .addColumn('remote_id', 'text')
      .addColumn('last_body', 'text')
      .addColumn('last_request', 'text')
      .addColumn('last_error', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint(`${table}_object_key`, ['provider_id', `${kind}_id`])
      .execute()
    await db.schema
      .createIndex(`${table}_remote_idx`)
      .on(table)
      .columns(['provider_id', 'remote_id'])
      .execute()
  }

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'integer', identity)
    .addColumn('provider_id', 'integer', (c) =>
      c.notNull().references('providers.id').onDelete('cascade'),
    )
    // user | group | member (one membership) | members (the whole member list)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('available_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute()
  await db.schema
    .createIndex('outbox_provider_idx')
    .on('outbox')
    .columns(['provider_id', 'id'])
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox').execute()
  await db.schema.dropTable('provider_groups').execute()
  await db.schema.dropTable('provider_users').execute()
  await db.schema.dropTable('providers').execute()
}
