/**
 * A provider's property mappings (authentik's `property_mappings` for users and
 * `property_mappings_group` for groups): JSON arrays of provider mapping ids, read with the
 * provider row the sync reads anyway, so a provider without mappings costs nothing.
 */
import type { Kysely } from 'kysely'

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
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('providers').dropColumn('property_mappings_group').execute()
  await db.schema.alterTable('providers').dropColumn('property_mappings').execute()
}
