/**
 * WAL checkpoints on a worker thread (src/store/sqlite/checkpointer.ts), on real SQLite files: what
 * the writer commits reaches the database file itself without the writer checkpointing.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, type Store } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { startCheckpointer } from '../../src/store/sqlite/checkpointer.js'

let dir: string
let store: Store | undefined

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-checkpointer-'))
})

afterEach(async () => {
  await store?.close()
  store = undefined
  rmSync(dir, { recursive: true, force: true })
})

/** The groups in the database file alone, as if its WAL were lost: only checkpointed rows. */
function groupsInMainFile(path: string): string[] {
  const copy = join(dir, 'copy.db')
  copyFileSync(path, copy)
  const db = new SQLite(copy, { readonly: true })
  try {
    const rows = db.prepare('select name from groups order by name').all() as { name: string }[]
    return rows.map((r) => r.name)
  } catch {
    return [] // not even the migrations are in the file yet
  } finally {
    db.close()
  }
}

async function addGroups(s: Store, names: string[]): Promise<void> {
  await s.transactor.run(async (tx) => {
    for (const name of names) {
      await tx
        .insertInto('groups')
        .values({ id: name, name, created_at: 'now', last_updated: 'now' })
        .execute()
    }
  })
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return check()
}

describe('background WAL checkpoints', () => {
  it('copy commits into the database file while the writer only appends to the WAL', async () => {
    const path = join(dir, 'scimd.db')
    const errors: string[] = []
    store = connect(
      { kind: 'sqlite', path },
      { backgroundCheckpoints: { onError: (message) => errors.push(message) } },
    )
    await migrateToLatest(store.db)
    await addGroups(store, ['g1', 'g2'])
    // A few pages, far below any automatic checkpoint of the writer's: only the worker
    // puts them into the database file.
    expect(await eventually(() => groupsInMainFile(path).includes('g2'))).toBe(true)
    await addGroups(store, ['g3'])
    expect(await eventually(() => groupsInMainFile(path).includes('g3'))).toBe(true)
    expect(errors).toEqual([])
  })

  it('leaves the WAL alone without it (the test above would fail without the worker)', async () => {
    const path = join(dir, 'scimd.db')
    store = connect({ kind: 'sqlite', path })
    await migrateToLatest(store.db)
    await addGroups(store, ['g1'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(groupsInMainFile(path)).not.toContain('g1')
  })

  it('lets a process that has nothing else to do close the store completely', () => {
    // In its own process: the test runner keeps the event loop alive, a server that is
    // shutting down does not, and an unreferenced worker would let it exit mid-close.
    const path = join(dir, 'scimd.db')
    const script = `
      import { connect } from './src/store/connect.ts'
      import { migrateToLatest } from './src/store/migrate.ts'
      const store = connect({ kind: 'sqlite', path: ${JSON.stringify(path)} },
        { backgroundCheckpoints: { onError: (m) => console.log('error', m) } })
      await migrateToLatest(store.db)
      await store.close()
      console.log('closed')`
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 30_000 },
    )
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe('closed')
    expect(run.status).toBe(0)
    // The last connection closed: SQLite checkpointed and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false)
  })

  it('never creates a database that is not there', async () => {
    const missing = join(dir, 'missing.db')
    const errors: string[] = []
    const checkpointer = startCheckpointer(missing, (message) => errors.push(message), {
      busyMs: 5,
      idleMs: 5,
    })
    expect(await eventually(() => errors.length > 0)).toBe(true)
    await checkpointer.stop()
    expect(existsSync(missing)).toBe(false)
  })

  it('reports a worker that cannot open the database, and still stops', async () => {
    const notADatabase = join(dir, 'garbage.db')
    writeFileSync(notADatabase, 'not a database file, not at all, just text'.repeat(100))
    const errors: string[] = []
    const checkpointer = startCheckpointer(notADatabase, (message) => errors.push(message), {
      busyMs: 5,
      idleMs: 5,
    })
    expect(await eventually(() => errors.length > 0)).toBe(true)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/not a database/)
    await checkpointer.stop()
  })
})
