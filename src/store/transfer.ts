/**
 * Table-by-table copy of the whole database for export/import: rows are read in key order
 * in pages and written in batches, verbatim (both dialects store the same text and integers).
 */
import { type Kysely, sql } from 'kysely'
import { type Database, dialectOf, type Executor } from './database.js'
import { EVENT_COLUMNS } from './events.js'

export type TransferTable = keyof Database

/** A row as exported: column name → text, integer or null. */
export type TransferRow = Record<string, string | number | null>

interface TableSpec {
  columns: readonly string[]
  /** The primary key, in order: pages are read by `(key) > (last key)`. */
  key: readonly string[]
  /** Columns that are bigint on PostgreSQL, which pg returns as text. */
  bigints?: readonly string[]
}

/**
 * Tables that describe the database they are in, not the directory, and so stay behind:
 * `server_state` holds the fingerprint of the server secret, which the importing server
 * records itself (an import needs the same secret).
 */
export const LOCAL_TABLES: readonly string[] = ['server_state']

/**
 * Every table, in an order where each row's foreign keys point at tables before it, with
 * every column. A migration that adds a table or column must add it here (a test compares
 * this list with the migrated schema).
 */
export const TRANSFER_TABLES: ReadonlyArray<readonly [TransferTable, TableSpec]> = [
  [
    'users',
    {
      columns: [
        'id',
        'uuid',
        'username',
        'name',
        'email',
        'is_active',
        'type',
        'path',
        'attributes',
        'password_hash',
        'date_joined',
        'last_login',
        'last_updated',
      ],
      key: ['id'],
    },
  ],
  [
    'groups',
    {
      columns: ['id', 'name', 'is_superuser', 'attributes', 'created_at', 'last_updated'],
      key: ['id'],
    },
  ],
  ['group_members', { columns: ['group_id', 'user_id'], key: ['group_id', 'user_id'] }],
  ['group_parents', { columns: ['parent_id', 'group_id'], key: ['parent_id', 'group_id'] }],
  [
    'tokens',
    {
      columns: [
        'id',
        'identifier',
        'user_id',
        'intent',
        'description',
        'expires',
        'expiring',
        'managed',
        'key_digest',
        'key_sealed',
        'created_at',
      ],
      key: ['id'],
    },
  ],
  [
    'sources',
    {
      columns: [
        'id',
        'slug',
        'name',
        'enabled',
        'user_matching_mode',
        'user_path_template',
        'service_account_id',
        'token_id',
        'created_at',
        'updated_at',
        'user_property_mappings',
        'group_property_mappings',
      ],
      key: ['id'],
    },
  ],
  [
    'scim_source_users',
    {
      columns: [
        'id',
        'source_id',
        'user_id',
        'external_id',
        'user_name_key',
        'resource',
        'created',
        'last_modified',
        'version',
        'owns_user',
      ],
      key: ['id'],
    },
  ],
  [
    'scim_source_user_emails',
    {
      columns: ['user_id', 'source_id', 'position', 'value', 'value_key', 'type', 'is_primary'],
      key: ['user_id', 'position'],
    },
  ],
  [
    'scim_source_groups',
    {
      columns: [
        'id',
        'source_id',
        'group_id',
        'external_id',
        'display_name_key',
        'resource',
        'created',
        'last_modified',
        'version',
      ],
      key: ['id'],
    },
  ],
  [
    'providers',
    {
      columns: [
        'id',
        'name',
        'url',
        'token_sealed',
        'verify_certificates',
        'compatibility_mode',
        'exclude_users_service_account',
        'filter_group',
        'dry_run',
        'full_sync_requested_at',
        'last_full_sync_started_at',
        'last_full_sync_finished_at',
        'last_sync_status',
        'last_sync_message',
        'last_successful_sync',
        'lease_owner',
        'lease_until',
        'property_mappings',
        'property_mappings_group',
        'created_at',
        'updated_at',
      ],
      key: ['id'],
    },
  ],
  ...(['provider_users', 'provider_groups'] as const).map(
    (table) =>
      [
        table,
        {
          columns: [
            'id',
            'provider_id',
            table === 'provider_users' ? 'user_id' : 'group_id',
            'remote_id',
            'last_body',
            'last_request',
            'last_error',
            'attempts',
            'created_at',
            'updated_at',
          ],
          key: ['id'],
        },
      ] as const,
  ),
  [
    'outbox',
    {
      columns: [
        'id',
        'provider_id',
        'kind',
        'object_id',
        'member_id',
        'created_at',
        'available_at',
        'attempts',
        'last_error',
      ],
      key: ['id'],
    },
  ],
  [
    'ui_sessions',
    {
      columns: ['id_digest', 'user_id', 'token_id', 'token_key_digest', 'created_at', 'expires_at'],
      key: ['id_digest'],
    },
  ],
  [
    'property_mappings',
    {
      columns: ['id', 'kind', 'name', 'managed', 'expression', 'created_at', 'updated_at'],
      key: ['id'],
    },
  ],
  [
    'events',
    {
      columns: ['seq', 'id', ...EVENT_COLUMNS],
      key: ['seq'],
      bigints: ['seq'],
    },
  ],
  ['auth_failures', { columns: ['client_ip', 'window_start', 'failures'], key: ['client_ip'] }],
]

const SPECS = new Map<string, TableSpec>(TRANSFER_TABLES)

export function transferSpec(table: string): TableSpec | undefined {
  return SPECS.get(table)
}

// Table names come from TRANSFER_TABLES only, never from input, so the untyped builder is safe.
// biome-ignore lint/suspicious/noExplicitAny: tables are addressed by name from the list above
function untyped(db: Executor): Kysely<any> {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return db as unknown as Kysely<any>
}

/** One page of a table in key order, after `after` (the last key of the previous page). */
export async function readTablePage(
  db: Executor,
  table: TransferTable,
  after: readonly (string | number)[] | undefined,
  limit: number,
): Promise<TransferRow[]> {
  const spec = SPECS.get(table) as TableSpec
  let query = untyped(db).selectFrom(table).select(spec.columns)
  if (after) {
    const keyRefs = sql.join(spec.key.map((k) => sql.ref(k)))
    query = query.where(sql<boolean>`(${keyRefs}) > (${sql.join(after)})`)
  }
  for (const k of spec.key) query = query.orderBy(k)
  const rows = (await query.limit(limit).execute()) as TransferRow[]
  return rows.map((row) => normaliseRow(spec, row))
}

/** Every integer column as a JS number (they all fit one), whatever the driver returned. */
function normaliseRow(spec: TableSpec, row: TransferRow): TransferRow {
  const out: TransferRow = {}
  for (const c of spec.columns) {
    const v = row[c]
    const bigint = typeof v === 'bigint' || (typeof v === 'string' && spec.bigints?.includes(c))
    out[c] = bigint ? Number(v) : (v ?? null)
  }
  return out
}

export async function insertTableRows(
  db: Executor,
  table: TransferTable,
  rows: readonly TransferRow[],
): Promise<void> {
  if (rows.length === 0) return
  await untyped(db).insertInto(table).values(rows).execute()
}

/**
 * The rows of a table; `userMade`: only those a migration did not seed (the managed
 * property mappings, which every migrated database has and an export carries too).
 */
export async function countTableRows(
  db: Executor,
  table: TransferTable,
  userMade = false,
): Promise<number> {
  let query = untyped(db).selectFrom(table)
  if (userMade && table === 'property_mappings') query = query.where('managed', 'is', null)
  const { n } = await query
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(n)
}

/** Before an import: the seeded managed mappings make way for the export's copies. */
export async function deleteManagedMappings(db: Executor): Promise<void> {
  await db.deleteFrom('property_mappings').where('managed', 'is not', null).execute()
}

/**
 * The highest user pk ever handed out, deleted users included (SQLite's AUTOINCREMENT counter
 * in sqlite_sequence, PostgreSQL's identity sequence): an export carries it so that the
 * imported database never gives a new user the pk of one deleted before (issue 24 item 9).
 */
export async function readUserIdentity(db: Executor): Promise<number> {
  if (dialectOf(db) === 'postgres') {
    const seq = await sql<{
      name: string | null
    }>`select pg_get_serial_sequence('users', 'id') as name`.execute(db)
    const name = seq.rows[0]?.name
    if (!name) return 0
    // The name comes from PostgreSQL itself (schema-qualified and quoted as needed).
    const { rows } = await sql<{
      last: number | string
    }>`select case when is_called then last_value else last_value - 1 end as last from ${sql.raw(name)}`.execute(
      db,
    )
    return Number(rows[0]?.last ?? 0)
  }
  const { rows } = await sql<{
    seq: number
  }>`select seq from sqlite_sequence where name = 'users'`.execute(db)
  return Number(rows[0]?.seq ?? 0)
}

/** PostgreSQL's identity columns, by table. */
const IDENTITIES = [
  ['users', 'id'],
  ['providers', 'id'],
  ['outbox', 'id'],
  ['events', 'seq'],
] as const

/**
 * After rows were inserted with explicit ids, moves the counters past the highest one, and the
 * users' past `usedUserPk` (readUserIdentity of the exporting database), so the next row the
 * server creates neither collides nor reuses a deleted user's pk. PostgreSQL: the identities
 * of users, providers, outbox and events; SQLite: users' AUTOINCREMENT counter (the others continue
 * from their maximum).
 */
export async function resetIdentities(db: Executor, usedUserPk = 0): Promise<void> {
  if (dialectOf(db) !== 'postgres') {
    // Inserting users with explicit pks moved the counter to their maximum; never lower it.
    await sql`update sqlite_sequence set seq = ${usedUserPk} where name = 'users' and seq < ${usedUserPk}`.execute(
      db,
    )
    await sql`insert into sqlite_sequence (name, seq) select 'users', ${usedUserPk}
      where not exists (select 1 from sqlite_sequence where name = 'users')`.execute(db)
    return
  }
  for (const [table, column] of IDENTITIES) {
    const floor = table === 'users' ? usedUserPk : 0
    await sql`select setval(pg_get_serial_sequence(${table}, ${column}),
      greatest(coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0), ${floor}) + 1, false)`.execute(
      db,
    )
  }
}

/** Rows per insert: the widest table has 13 columns, well under both drivers' parameter limits. */
export const INSERT_BATCH = 500
