/** The directory, tokens, sources and SCIM connection objects; portable to SQLite and PostgreSQL. */
import { type Kysely, PostgresAdapter } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter

  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (c) =>
      isPostgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
    )
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('type', 'text', (c) => c.notNull().defaultTo('internal'))
    .addColumn('path', 'text', (c) => c.notNull().defaultTo('users'))
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('password_hash', 'text')
    .addColumn('date_joined', 'text', (c) => c.notNull())
    .addColumn('last_login', 'text')
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('users_username_idx').on('users').column('username').execute()

  await db.schema
    .createTable('groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_superuser', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('groups_name_idx').on('groups').column('name').execute()

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
    .execute()
  await db.schema
    .createIndex('group_members_user_idx')
    .on('group_members')
    .columns(['user_id', 'group_id'])
    .execute()

  // Nested groups (RFC 7643 §4.2): group_id is a member of parent_id.
  await db.schema
    .createTable('group_parents')
    .addColumn('parent_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_parents_pk', ['parent_id', 'group_id'])
    .execute()
  await db.schema
    .createIndex('group_parents_child_idx')
    .on('group_parents')
    .columns(['group_id', 'parent_id'])
    .execute()

  // Keys are stored only as an HMAC digest (lookup) and a sealed copy (view_key).
  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('identifier', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('intent', 'text', (c) => c.notNull().defaultTo('api'))
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('expires', 'text')
    .addColumn('expiring', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('managed', 'text')
    .addColumn('key_digest', 'text', (c) => c.notNull().unique())
    .addColumn('key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('tokens_user_idx').on('tokens').column('user_id').execute()

  await db.schema
    .createTable('sources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('user_matching_mode', 'text', (c) => c.notNull().defaultTo('identifier'))
    .addColumn('user_path_template', 'text', (c) =>
      c.notNull().defaultTo('goauthentik.io/sources/%(slug)s'),
    )
    .addColumn('service_account_id', 'integer', (c) =>
      c.references('users.id').onDelete('set null'),
    )
    .addColumn('token_id', 'text', (c) => c.references('tokens.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  // One row per provisioned user per source; `id` is the SCIM id (= users.uuid).
  await db.schema
    .createTable('scim_source_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) =>
      c.notNull().unique().references('users.id').onDelete('cascade'),
    )
    .addColumn('external_id', 'text')
    .addColumn('user_name_key', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_modified', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute()
  await db.schema
    .createIndex('scim_source_users_name_key')
    .unique()
    .on('scim_source_users')
    .columns(['source_id', 'user_name_key'])
    .execute()
  await db.schema
    .createIndex('scim_source_users_external_idx')
    .on('scim_source_users')
    .columns(['source_id', 'external_id'])
    .execute()
  await db.schema
    .createIndex('scim_source_users_modified_idx')
    .on('scim_source_users')
    .columns(['source_id', 'last_modified'])
    .execute()
  await db.schema
    .createIndex('scim_source_users_source_id_idx')
    .on('scim_source_users')
    .columns(['source_id', 'id'])
    .execute()

  // emails.value is what identity providers match on: a side table keeps it indexed.
  await db.schema
    .createTable('scim_source_user_emails')
    .addColumn('user_id', 'text', (c) =>
      c.notNull().references('scim_source_users.id').onDelete('cascade'),
    )
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('value_key', 'text', (c) => c.notNull())
    .addColumn('type', 'text')
    .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('scim_source_user_emails_pk', ['user_id', 'position'])
    .execute()
  await db.schema
    .createIndex('scim_source_user_emails_value_idx')
    .on('scim_source_user_emails')
    .columns(['source_id', 'value_key'])
    .execute()

  // One row per provisioned group per source; `id` is the SCIM id (= groups.id).
  await db.schema
    .createTable('scim_source_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source_id', 'text', (c) => c.notNull().references('sources.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) =>
      c.notNull().unique().references('groups.id').onDelete('cascade'),
    )
    .addColumn('external_id', 'text')
    .addColumn('display_name_key', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_modified', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute()
  await db.schema
    .createIndex('scim_source_groups_name_key')
    .unique()
    .on('scim_source_groups')
    .columns(['source_id', 'display_name_key'])
    .execute()
  await db.schema
    .createIndex('scim_source_groups_external_idx')
    .on('scim_source_groups')
    .columns(['source_id', 'external_id'])
    .execute()
  await db.schema
    .createIndex('scim_source_groups_modified_idx')
    .on('scim_source_groups')
    .columns(['source_id', 'last_modified'])
    .execute()
  await db.schema
    .createIndex('scim_source_groups_source_id_idx')
    .on('scim_source_groups')
    .columns(['source_id', 'id'])
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'scim_source_groups',
    'scim_source_user_emails',
    'scim_source_users',
    'sources',
    'tokens',
    'group_parents',
    'group_members',
    'groups',
    'users',
  ]) {
    await db.schema.dropTable(table).ifExists().execute()
  }
}
