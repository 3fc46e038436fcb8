/**
 * The read connection's shared snapshot (src/store/sqlite/read-snapshot.ts) on a real SQLite file:
 * reads of one event-loop turn share a read transaction, which never hides a write of this
 * process, ends with the turn, and holds nothing while the server is idle; without and with
 * the file mapped into memory (SQLite's mmap_size), the map smaller than the file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, type Store } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'

let dir: string
let path: string
let store: Store
/** Another process's connection, like the CLI's. */
let other: SQLite.Database

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

function insertByOther(name: string): void {
  other
    .prepare('insert into groups (id, name, created_at, last_updated) values (?, ?, ?, ?)')
    .run(name, name, 'now', 'now')
}

async function readerSees(name: string): Promise<boolean> {
  const row = await store.reader
    .selectFrom('groups')
    .select('id')
    .where('id', '=', name)
    .executeTakeFirst()
  return row !== undefined
}

describe.each([0, 256 * 1024])('the read connection, mmap_size %i', (mmapBytes) => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scimd-snapshot-'))
    path = join(dir, 'scimd.db')
    store = connect({ kind: 'sqlite', path }, { sqliteMmapBytes: mmapBytes })
    await migrateToLatest(store.db)
    other = new SQLite(path)
    other.pragma('busy_timeout = 5000')
  })

  afterEach(async () => {
    other.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('shares one snapshot among the reads of a turn, and takes a new one the next turn', async () => {
    expect(await readerSees('g1')).toBe(false)
    insertByOther('g1')
    // Same turn: the snapshot the first read opened is still the one read.
    expect(await readerSees('g1')).toBe(false)
    await nextTurn()
    expect(await readerSees('g1')).toBe(true)
  })

  it("sees this process's own writes at once, even within the turn", async () => {
    expect(await readerSees('g2')).toBe(false)
    await store.db
      .insertInto('groups')
      .values({ id: 'g2', name: 'g2', created_at: 'now', last_updated: 'now' })
      .execute()
    expect(await readerSees('g2')).toBe(true)
  })

  it('sees a group commit as soon as its promise settles', async () => {
    expect(await readerSees('g3')).toBe(false)
    const committed = store.transactor.run(async (tx) => {
      await tx
        .insertInto('groups')
        .values({ id: 'g3', name: 'g3', created_at: 'now', last_updated: 'now' })
        .execute()
    })
    // Read while the batch is open: the write is not committed yet.
    expect(await readerSees('g3')).toBe(false)
    await committed
    expect(await readerSees('g3')).toBe(true)
  })

  it('holds no read lock once the turn is over: a full checkpoint by another connection succeeds', async () => {
    await store.db
      .insertInto('groups')
      .values({ id: 'g4', name: 'g4', created_at: 'now', last_updated: 'now' })
      .execute()
    expect(await readerSees('g4')).toBe(true)
    other.pragma('busy_timeout = 0')
    // While the snapshot is open, the WAL cannot be truncated.
    const during = other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
    expect(during[0]?.busy).toBe(1)
    await nextTurn()
    const after = other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
    expect(after[0]?.busy).toBe(0)
  })

  it('keeps its version while nothing is committed, and moves it on any commit', async () => {
    const first = store.readVersion()
    expect(first).toBeTypeOf('number')
    await nextTurn()
    await readerSees('nothing')
    expect(store.readVersion()).toBe(first)
    insertByOther('g5')
    // Another connection's commit shows from the next snapshot on.
    expect(store.readVersion()).toBe(first)
    await nextTurn()
    const second = store.readVersion()
    expect(second).not.toBe(first)
    await store.db
      .insertInto('groups')
      .values({ id: 'g6', name: 'g6', created_at: 'now', last_updated: 'now' })
      .execute()
    // This process's own write: at once.
    expect(store.readVersion()).not.toBe(second)
  })

  it('recovers when SQLite ends the read transaction by itself', async () => {
    expect(await readerSees('g7')).toBe(false)
    // What SQLite does on an I/O or out-of-memory error: the snapshot's transaction is gone.
    await sql`rollback`.execute(store.reader)
    // Writes must not fail on the vanished snapshot, and reads see them.
    await store.db
      .insertInto('groups')
      .values({ id: 'g7', name: 'g7', created_at: 'now', last_updated: 'now' })
      .execute()
    expect(await readerSees('g7')).toBe(true)
    await sql`rollback`.execute(store.reader)
    insertByOther('g8')
    await nextTurn()
    expect(await readerSees('g8')).toBe(true)
    await nextTurn()
    other.pragma('busy_timeout = 0')
    const checkpoint = other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
    expect(checkpoint[0]?.busy).toBe(0)
  })
  it('maps as much of the file as it is told, on the read connection only', async () => {
    const mapped = async (db: Store['db']) =>
      (await sql<{ mmap_size: number }>`pragma mmap_size`.execute(db)).rows[0]?.mmap_size
    expect(await mapped(store.reader)).toBe(mmapBytes)
    expect(await mapped(store.db)).toBe(0)
  })

  it('reads what another connection wrote and checkpointed into the file, past the map too', async () => {
    expect(await readerSees('late-0')).toBe(false)
    const insert = other.prepare(
      "insert into groups (id, name, attributes, created_at, last_updated) values (?, ?, ?, 'now', 'now')",
    )
    // About 2 MB, far beyond the smaller map: the file grows under it.
    other.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`late-${i}`, `late-${i}`, 'x'.repeat(1000))
    })()
    // Once the reader's snapshot has ended, every page goes from the WAL into the file.
    const checkpointed = async () => {
      await nextTurn()
      other.pragma('busy_timeout = 0')
      const [result] = other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>
      expect(result?.busy).toBe(0)
    }
    await checkpointed()
    const count = async () =>
      (
        await store.reader
          .selectFrom('groups')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('name', 'like', 'late-%')
          .executeTakeFirstOrThrow()
      ).n
    expect(await count()).toBe(2000)
    expect(await readerSees('late-1999')).toBe(true)
    // Pages already read (and mapped) change in the file: the next snapshot reads the change.
    other.prepare("update groups set name = 'renamed-' || id where id like 'late-%'").run()
    await checkpointed()
    expect(await count()).toBe(0)
  })
})
