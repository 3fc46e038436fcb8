/**
 * A provider's property mappings (authentik's `property_mappings` for users and
 * `property_mappings_group` for groups): JSON arrays of provider mapping ids, read with the
 * provider row the sync reads anyway, so a provider without mappings costs nothing. Also
 * a partial index of the links that failed, which the sync status counts and lists: without
 * it each status read scanned every link of the provider (100,000 rows at the bench's size).
 */
import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('providers')
    .addColumn('property_mappings', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema
    .alterTable('providers')
    .addColumn('property_mappings_group', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  for (const table of ['provider_users', 'provider_groups']) {
    await db.schema
      .createIndex(`${table}_failed_idx`)
      .on(table)
      .columns(['provider_id', 'updated_at'])
      .where(sql.ref('last_error'), 'is not', null)
      .execute()
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('provider_groups_failed_idx').ifExists().execute()
  await db.schema.dropIndex('provider_users_failed_idx').ifExists().execute()
  await db.schema.alterTable('providers').dropColumn('property_mappings_group').execute()
  await db.schema.alterTable('providers').dropColumn('property_mappings').execute()
}
