/**
 * Property mappings (authentik's SCIM source and provider mappings): JSONata expressions that
 * shape a directory user or group from what an identity provider sends, or the SCIM body a
 * provider sends on; each source's list of them; and the managed default
 * mappings, which state the built-in behaviour so that admins can read and copy it.
 */
import type { Kysely } from 'kysely'

/** The managed defaults as they stood when this migration was written (frozen history). */
const MANAGED = [
  {
    id: '0193f6a0-0000-7000-8000-000000000001',
    kind: 'source',
    managed: 'goauthentik.io/sources/scim/user',
    name: 'authentik default SCIM Source Mapping: User',
    expression: `(
  $name := data.name;
  $formatted := $type($name.formatted) = "string"
    ? $name.formatted
    : $join([$name.givenName, $name.familyName][$type($) = "string" and $ != ""], " ");
  $emails := data.emails[$type(value) = "string"];
  $primary := $emails[primary = true][0].value;
  {
    "username": data.userName,
    "name": $type(data.displayName) = "string" and data.displayName != ""
      ? data.displayName : $formatted,
    "email": $exists($primary) ? $primary : $exists($emails[0].value) ? $emails[0].value : "",
    "is_active": data.active = false ? false : true,
    "path": $replace(source.user_path_template, "%(slug)s", source.slug, 1)
  }
)`,
  },
  {
    id: '0193f6a0-0000-7000-8000-000000000002',
    kind: 'source',
    managed: 'goauthentik.io/sources/scim/group',
    name: 'authentik default SCIM Source Mapping: Group',
    expression: `{ "name": data.displayName }`,
  },
  {
    id: '0193f6a0-0000-7000-8000-000000000003',
    kind: 'provider',
    managed: 'goauthentik.io/providers/scim/user',
    name: 'authentik default SCIM Mapping: User',
    expression: `(
  $words := $split($trim(user.name), " ")[$ != ""];
  {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "externalId": user.uuid,
    "userName": user.username,
    "name": {
      "formatted": user.name,
      "givenName": $count($words) > 0 ? $words[0] : "",
      "familyName": $count($words) > 1 ? $join($words[[1..$count($words) - 1]], " ") : ""
    },
    "displayName": user.name,
    "active": user.is_active,
    "emails": user.email != ""
      ? [{ "value": user.email, "type": "other", "primary": true }] : []
  }
)`,
  },
  {
    id: '0193f6a0-0000-7000-8000-000000000004',
    kind: 'provider',
    managed: 'goauthentik.io/providers/scim/group',
    name: 'authentik default SCIM Mapping: Group',
    expression: `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "externalId": group.pk,
  "displayName": group.name
}`,
  },
]

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('property_mappings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // `source` (SCIM source mappings) or `provider` (SCIM provider mappings).
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('managed', 'text', (c) => c.unique())
    .addColumn('expression', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('property_mappings_kind_idx')
    .on('property_mappings')
    .columns(['kind', 'name'])
    .execute()

  // A source's mappings, as JSON arrays of mapping ids: read with the source itself (one
  // row, which every SCIM request reads anyway), so a source without mappings costs nothing.
  await db.schema
    .alterTable('sources')
    .addColumn('user_property_mappings', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema
    .alterTable('sources')
    .addColumn('group_property_mappings', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()

  const now = '2026-12-07T19:00:00.000Z'
  await db
    .insertInto('property_mappings')
    .values(MANAGED.map((m) => ({ ...m, created_at: now, updated_at: now })))
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sources').dropColumn('group_property_mappings').execute()
  await db.schema.alterTable('sources').dropColumn('user_property_mappings').execute()
  await db.schema.dropTable('property_mappings').ifExists().execute()
}
