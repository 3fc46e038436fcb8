/** The files of a new SQLite database are readable by their owner only, like secret.key. */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'

let dir: string
const modeOf = (file: string) => statSync(file).mode & 0o777

describe('a SQLite database file', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scimd-mode-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('is created 0600, and so are its -wal and -shm files', async () => {
    const path = join(dir, 'new', 'scimd.db')
    const store = connect({ kind: 'sqlite', path })
    await migrateToLatest(store.db)
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(modeOf(file), file).toBe(0o600)
    await store.close()
  })

  it('keeps the mode an operator gave an existing file', async () => {
    const path = join(dir, 'scimd.db')
    writeFileSync(path, '')
    chmodSync(path, 0o640)
    const store = connect({ kind: 'sqlite', path })
    await migrateToLatest(store.db)
    expect(modeOf(path)).toBe(0o640)
    await store.close()
  })
})
