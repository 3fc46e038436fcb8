/**
 * Events keyed by a sequence number, with no index to maintain: every provisioning write
 * inserts one, and the text UUID key, the `expires` column and its index were about half
 * of what that insert cost SQLite (a replay of a create's statements, docs/benchmark.md,
 * round 17). An event's pk is now a UUIDv7 made from its `created` instant and its `seq`
 * (RFC 9562 §6.2, a counter in the random bits), so it is computed, not stored; events
 * recorded before keep their stored `id` (a partial index that new rows never enter finds
 * them). Expiry follows the sequence (oldest first) and the retention configured now, so
 * `expires` is computed too.
 */
import { type CreateTableBuilder, type Kysely, PostgresAdapter, sql } from 'kysely'

const COLUMNS = [
  'action',
  'app',
  'user_pk',
  'username',
  'client_ip',
  'source_id',
  'source_slug',
  'model_app',
  'model_name',
  'model_pk',
  'model_label',
  'context',
  'created',
]

/** The columns an event has under either key, in COLUMNS' order. */
function eventColumns<T extends string>(table: CreateTableBuilder<T>): CreateTableBuilder<T> {
  return table
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
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter
  await db.schema
    .createTable('events_next')
    // SQLite: the rowid itself (no second b-tree); PostgreSQL: an identity, which an import
    // may set explicitly.
    .addColumn('seq', isPostgres ? 'bigint' : 'integer', (c) =>
      isPostgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
    )
    .addColumn('id', 'text')
    .$call(eventColumns)
    .execute()
  // Old ids are UUIDv7, so their order is the order the events were recorded in.
  const columns = sql.join(['id', ...COLUMNS].map((c) => sql.id(c)))
  await sql`insert into events_next (${columns}) select ${columns} from events order by id`.execute(
    db,
  )
  await db.schema.dropTable('events').execute()
  await db.schema.alterTable('events_next').renameTo('events').execute()
  await db.schema
    .createIndex('events_legacy_id_idx')
    .on('events')
    .column('id')
    .unique()
    .where(sql.ref('id'), 'is not', null)
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter
  await db.schema
    .createTable('events_previous')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .$call(eventColumns)
    .addColumn('expires', 'text', (c) => c.notNull())
    .$call((table) => (isPostgres ? table : table.modifyEnd(sql`without rowid`)))
    .execute()
  // Events recorded since `up` had no stored id: they keep the pk the API showed for them
  // (their created instant's milliseconds and their seq, as src/store/events.ts makes it),
  // and expire 30 days after they were created.
  const columns = sql.join(COLUMNS.map((c) => sql.id(c)))
  const ms = isPostgres
    ? sql`(extract(epoch from created::timestamptz) * 1000)::bigint`
    : sql`cast(round((julianday(created) - 2440587.5) * 86400000) as integer)`
  const hex = (value: unknown, digits: number) =>
    isPostgres
      ? sql`lpad(to_hex(${value}), ${digits}, '0')`
      : sql`printf('%0${sql.raw(String(digits))}x', ${value})`
  const pk = sql`coalesce(id, ${hex(sql`${ms} >> 16`, 8)} || '-' || ${hex(sql`${ms} & 65535`, 4)}
    || '-7000-8' || ${hex(sql`seq >> 48`, 3)} || '-' || ${hex(sql`seq & 281474976710655`, 12)})`
  const expires = isPostgres
    ? sql`to_char((created::timestamptz + interval '30 days') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : sql`strftime('%Y-%m-%dT%H:%M:%fZ', created, '+30 days')`
  await sql`insert into events_previous (id, ${columns}, expires)
    select ${pk}, ${columns}, ${expires} from events`.execute(db)
  await db.schema.dropTable('events').execute()
  await db.schema.alterTable('events_previous').renameTo('events').execute()
  await db.schema.createIndex('events_expires_idx').on('events').columns(['expires']).execute()
}
