/** The Kysely Database interface: one table interface per table, with its row types. */
import {
  type Generated,
  type Insertable,
  type Kysely,
  PostgresAdapter,
  type Selectable,
  type Transaction,
  type Updateable,
} from 'kysely'

/** Booleans are stored as 0/1 integers and timestamps as ISO-8601 UTC text on both dialects. */
type Flag = number
type Timestamp = string

export interface UserTable {
  id: Generated<number>
  uuid: string
  username: string
  name: Generated<string>
  email: Generated<string>
  is_active: Generated<Flag>
  type: Generated<string>
  path: Generated<string>
  attributes: Generated<string>
  password_hash: string | null
  date_joined: Timestamp
  last_login: Timestamp | null
  last_updated: Timestamp
}
export type UserRow = Selectable<UserTable>
export type InsertableUserRow = Insertable<UserTable>
export type UpdateableUserRow = Updateable<UserTable>

export interface GroupTable {
  id: string
  name: string
  is_superuser: Generated<Flag>
  attributes: Generated<string>
  created_at: Timestamp
  last_updated: Timestamp
}
export type GroupRow = Selectable<GroupTable>

export interface GroupMemberTable {
  group_id: string
  user_id: number
}

export interface GroupParentTable {
  parent_id: string
  group_id: string
}

export interface TokenTable {
  id: string
  identifier: string
  user_id: number
  intent: Generated<string>
  description: Generated<string>
  expires: Timestamp | null
  expiring: Generated<Flag>
  managed: string | null
  key_digest: string
  key_sealed: string
  created_at: Timestamp
}
export type TokenRow = Selectable<TokenTable>
export type InsertableTokenRow = Insertable<TokenTable>

export interface SourceTable {
  id: string
  slug: string
  name: string
  enabled: Generated<Flag>
  user_matching_mode: Generated<string>
  user_path_template: Generated<string>
  service_account_id: number | null
  token_id: string | null
  created_at: Timestamp
  updated_at: Timestamp
  /** JSON arrays of property mapping ids. */
  user_property_mappings: Generated<string>
  group_property_mappings: Generated<string>
}
export type SourceRow = Selectable<SourceTable>
export type UpdateableSourceRow = Updateable<SourceTable>

export interface ScimSourceUserTable {
  id: string
  source_id: string
  user_id: number
  external_id: string | null
  user_name_key: string
  resource: string
  created: Timestamp
  last_modified: Timestamp
  version: Generated<number>
  /** 1: the user exists for this connection; 0: it linked a user that existed before. */
  owns_user: Generated<Flag>
}
export type ScimSourceUserRow = Selectable<ScimSourceUserTable>
export type InsertableScimSourceUserRow = Insertable<ScimSourceUserTable>

export interface ScimSourceUserEmailTable {
  user_id: string
  source_id: string
  position: number
  value: string
  value_key: string
  type: string | null
  is_primary: Flag
}
export type InsertableScimSourceUserEmailRow = Insertable<ScimSourceUserEmailTable>

export interface ScimSourceGroupTable {
  id: string
  source_id: string
  group_id: string
  external_id: string | null
  display_name_key: string
  resource: string
  created: Timestamp
  last_modified: Timestamp
  version: Generated<number>
}
export type ScimSourceGroupRow = Selectable<ScimSourceGroupTable>

export interface PropertyMappingTable {
  id: string
  /** `source` or `provider`. */
  kind: string
  name: string
  managed: string | null
  expression: string
  created_at: Timestamp
  updated_at: Timestamp
}
export type PropertyMappingRow = Selectable<PropertyMappingTable>

export interface ProviderTable {
  id: Generated<number>
  name: string
  url: string
  token_sealed: string
  verify_certificates: Generated<Flag>
  compatibility_mode: Generated<string>
  exclude_users_service_account: Generated<Flag>
  filter_group: string | null
  dry_run: Generated<Flag>
  full_sync_requested_at: Timestamp | null
  last_full_sync_started_at: Timestamp | null
  last_full_sync_finished_at: Timestamp | null
  last_sync_status: string | null
  last_sync_message: string | null
  last_successful_sync: Timestamp | null
  lease_owner: string | null
  lease_until: Timestamp | null
  /** JSON arrays of provider property mapping ids (users, groups). */
  property_mappings: Generated<string>
  property_mappings_group: Generated<string>
  created_at: Timestamp
  updated_at: Timestamp
}
export type ProviderRow = Selectable<ProviderTable>
export type UpdateableProviderRow = Updateable<ProviderTable>

/** A directory object's link to its remote copy on one provider. */
interface ProviderObjectColumns {
  id: string
  provider_id: number
  remote_id: string | null
  last_body: string | null
  last_request: string | null
  last_error: string | null
  attempts: Generated<number>
  created_at: Timestamp
  updated_at: Timestamp
}
export interface ProviderUserTable extends ProviderObjectColumns {
  user_id: string
}
export interface ProviderGroupTable extends ProviderObjectColumns {
  group_id: string
}
export type ProviderUserRow = Selectable<ProviderUserTable>
export type ProviderGroupRow = Selectable<ProviderGroupTable>

export interface OutboxTable {
  id: Generated<number>
  provider_id: number
  kind: string
  object_id: string
  member_id: string | null
  created_at: Timestamp
  available_at: Timestamp
  attempts: Generated<number>
  last_error: string | null
}
export type OutboxRow = Selectable<OutboxTable>

export interface EventTable {
  /**
   * The order events were recorded in; with `created`, it makes the pk (store/events.ts).
   * A bigint on PostgreSQL, which pg returns as text.
   */
  seq: Generated<number | string>
  /** The pk of an event recorded before migration 2026_12_10_1000, null for later ones. */
  id: string | null
  action: string
  app: string
  user_pk: number | null
  username: string | null
  client_ip: string | null
  source_id: string | null
  source_slug: string | null
  model_app: string | null
  model_name: string | null
  model_pk: string | null
  model_label: string | null
  /** JSON object: the context but its model and source (which are the columns above). */
  context: string
  created: Timestamp
}
export type EventRow = Selectable<EventTable>
/** An event as recorded: its seq is the database's to give, and only old events have an id. */
export type NewEventRow = Omit<EventRow, 'seq' | 'id'>

export interface AuthFailureTable {
  client_ip: string
  window_start: Timestamp
  failures: number
}

/** An admin UI session, found by a keyed digest of its cookie value. */
export interface UiSessionTable {
  id_digest: string
  user_id: number
  token_id: string
  token_key_digest: string
  created_at: Timestamp
  expires_at: Timestamp
}

export interface Database {
  users: UserTable
  groups: GroupTable
  group_members: GroupMemberTable
  group_parents: GroupParentTable
  tokens: TokenTable
  sources: SourceTable
  scim_source_users: ScimSourceUserTable
  scim_source_user_emails: ScimSourceUserEmailTable
  scim_source_groups: ScimSourceGroupTable
  property_mappings: PropertyMappingTable
  providers: ProviderTable
  provider_users: ProviderUserTable
  provider_groups: ProviderGroupTable
  outbox: OutboxTable
  server_state: ServerStateTable
  events: EventTable
  auth_failures: AuthFailureTable
  ui_sessions: UiSessionTable
}

/** Named values about the deployment itself (e.g. `secret_fingerprint`). */
export interface ServerStateTable {
  name: string
  value: string
  updated_at: string
}

/** Anything store functions can run on: the database or an open transaction. */
/** The database handle services hold (Deps.db, Deps.reader). */
export type Db = Kysely<Database>
/** A write transaction, as inTransaction() hands it to a service. */
export type Tx = Transaction<Database>
export type Executor = Db | Tx

export type Dialect = 'sqlite' | 'postgres'

/** The dialect an executor speaks. */
export function dialectOf(db: Executor): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite'
}

/** The database handle (not a transaction), for layers that must not import Kysely itself. */
export type DatabaseHandle = Kysely<Database>
