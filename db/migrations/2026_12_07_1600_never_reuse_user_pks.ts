/**
 * A deleted user's pk is never given to another user. PostgreSQL's identity column never
 * hands a value out twice; SQLite's INTEGER PRIMARY KEY takes max(id) + 1, so deleting the
 * newest user gave its pk to the next one (a service account got a deleted user's pk).
 * SQLite's AUTOINCREMENT keeps the highest pk ever used in sqlite_sequence: the table is
 * rebuilt with it (SQLite cannot alter a column), keeping its rows, indexes and triggers.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen history and never see app types (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await rebuildUsers(db, (create) =>
    create.replace(/("id" integer primary key)(?! autoincrement)/i, '$1 autoincrement'),
  )
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export async function down(db: Kysely<any>): Promise<void> {
  await rebuildUsers(db, (create) => create.replace(/ autoincrement/i, ''))
}

/**
 * SQLite's documented way to change a table's definition (ALTER TABLE §7): with foreign keys
 * off (DROP TABLE would otherwise cascade to every membership, token and connection row),
 * copy into a new table, drop the old, rename, recreate its indexes and triggers, and check
 * every foreign key before committing. Kysely runs SQLite migrations outside a transaction,
 * so the pragma takes effect; it is switched back on whatever happens.
 */
// biome-ignore lint/suspicious/noExplicitAny: as above
async function rebuildUsers(db: Kysely<any>, define: (create: string) => string): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return
  await db.connection().execute(async (conn) => {
    const { rows: tables } = await sql<{ sql: string }>`
      select sql from sqlite_master where type = 'table' and name = 'users'`.execute(conn)
    const create = tables[0]?.sql
    if (!create) throw new Error('no users table to rebuild')
    const { rows: dependents } = await sql<{ sql: string }>`
      select sql from sqlite_master
      where tbl_name = 'users' and type in ('index', 'trigger') and sql is not null`.execute(conn)
    const rebuilt = define(create).replace(/^create table "?users"?/i, 'create table "users_new"')
    if (rebuilt === create) throw new Error('users table definition not recognised')
    await sql`pragma foreign_keys = off`.execute(conn)
    try {
      await sql`begin immediate`.execute(conn)
      try {
        await sql.raw(rebuilt).execute(conn)
        await sql`insert into users_new select * from users`.execute(conn)
        await sql`drop table users`.execute(conn)
        await sql`alter table users_new rename to users`.execute(conn)
        for (const { sql: statement } of dependents) await sql.raw(statement).execute(conn)
        const { rows: broken } = await sql`pragma foreign_key_check`.execute(conn)
        if (broken.length > 0) throw new Error('foreign keys broken by the users rebuild')
        await sql`commit`.execute(conn)
      } catch (err) {
        await sql`rollback`.execute(conn)
        throw err
      }
    } finally {
      await sql`pragma foreign_keys = on`.execute(conn)
    }
  })
}
