/** A consistent online copy of a SQLite database file with SQLite's backup API (better-sqlite3). */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import Sqlite from 'better-sqlite3'
import { defineFunctions } from './functions.js'

export class BackupError extends Error {
  override name = 'BackupError'
}

export interface BackupResult {
  pages: number
  bytes: number
  integrity: string
}

/**
 * Copies the database at `source` to `destination` while servers keep writing to it. The
 * copy runs in one backup step, so it is one read transaction: a snapshot of the last
 * commit, never half of one (in WAL mode writers go on meanwhile; stepping page by page
 * would restart whenever another connection commits). It is written to a temporary file
 * created mode 0600 (the database holds password hashes and sealed keys), checked with
 * `PRAGMA integrity_check`, then renamed into place. An existing destination is refused.
 */
export async function backupSqlite(source: string, destination: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new BackupError(`No SQLite database at ${source}`)
  if (existsSync(destination)) {
    throw new BackupError(`${destination} exists already; choose a new file name`)
  }
  if (!existsSync(dirname(destination))) {
    throw new BackupError(`The directory ${dirname(destination)} does not exist`)
  }
  const partial = `${destination}.partial-${process.pid}`
  writeFileSync(partial, '', { mode: 0o600 })
  const db = new Sqlite(source, { readonly: true, fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    // 0x7fffffff pages a step: the whole database in the step after the first.
    const progress = await db.backup(partial, { progress: () => 0x7fffffff })
    const copy = new Sqlite(partial, { readonly: true })
    // The integrity check evaluates expression indexes, which use scimd's SQL functions.
    defineFunctions(copy)
    let integrity: string
    try {
      integrity = String(copy.pragma('integrity_check', { simple: true }))
    } finally {
      copy.close()
    }
    if (integrity !== 'ok')
      throw new BackupError(`The copy failed its integrity check: ${integrity}`)
    renameSync(partial, destination)
    return { pages: progress.totalPages, bytes: statSync(destination).size, integrity }
  } catch (err) {
    for (const file of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(file, { force: true })
    throw err
  } finally {
    db.close()
  }
}
