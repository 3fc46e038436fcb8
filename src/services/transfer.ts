/**
 * `scimd export` / `scimd import`: the whole database as JSON lines, to move a deployment
 * from SQLite to PostgreSQL (or back, or between servers).
 *
 * The file is a header line, one line per row (`{"table":…,"row":{…}}`, tables in foreign-key
 * order) and an end line with the row counts, so a truncated file is refused. Token keys
 * travel only as they are stored (HMAC digest and sealed copy), both bound to the server
 * secret: the target must run with the same SCIMD_SECRET_KEY (with SQLite and no
 * SCIMD_SECRET_KEY, the contents of `<data dir>/secret.key`). The header carries a check
 * value derived from the secret, and import refuses a target whose secret differs.
 */
import { once } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import * as z from 'zod'
import { nowIso } from '../core/ids.js'
import type { Executor } from '../store/database.js'
import { appliedMigrations } from '../store/migrate.js'
import { requestFullSyncAll } from '../store/providers.js'
import {
  countTableRows,
  deleteManagedMappings,
  INSERT_BATCH,
  insertTableRows,
  readTablePage,
  readUserIdentity,
  resetIdentities,
  TRANSFER_TABLES,
  type TransferRow,
  type TransferTable,
  transferSpec,
} from '../store/transfer.js'
import type { Deps } from './deps.js'

export const EXPORT_FORMAT = 'scimd-export'
export const EXPORT_VERSION = 1
const SECRET_CHECK_LABEL = 'scimd export secret check'
const READ_PAGE = 1000

export class TransferError extends Error {
  override name = 'TransferError'
}

/** Rows per table, as written or read. */
export type TransferCounts = Record<TransferTable, number>

const Header = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exported_at: z.string(),
  dialect: z.enum(['sqlite', 'postgres']),
  migrations: z.array(z.string()),
  secret_check: z.string(),
  /** The highest user pk the exporting database ever handed out (absent in older exports). */
  used_user_pk: z.number().int().nonnegative().optional(),
})
type Header = z.infer<typeof Header>

const RowLine = z.object({
  table: z.string(),
  row: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
})
const EndLine = z.object({ end: z.literal(true), counts: z.record(z.string(), z.number()) })

function zeroCounts(): TransferCounts {
  return Object.fromEntries(TRANSFER_TABLES.map(([t]) => [t, 0])) as TransferCounts
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain')
}

/**
 * Writes the whole database to `out` as JSON lines, from one consistent snapshot (a
 * read-only REPEATABLE READ transaction on PostgreSQL; SQLite's read transaction in WAL
 * mode). Does not end `out`. Safe while the server runs: it blocks no writer.
 */
export async function exportData(deps: Deps, out: Writable): Promise<TransferCounts> {
  const header: Header = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exported_at: nowIso(),
    dialect: deps.dialect,
    migrations: await appliedMigrations(deps.db),
    secret_check: deps.secrets.digest(SECRET_CHECK_LABEL),
  }
  const counts = zeroCounts()
  const transaction =
    deps.dialect === 'postgres'
      ? deps.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only')
      : deps.db.transaction()
  await transaction.execute(async (tx) => {
    // Read in the snapshot, first: every user exported has a pk at most this.
    header.used_user_pk = await readUserIdentity(tx)
    await write(out, `${JSON.stringify(header)}\n`)
    for (const [table, spec] of TRANSFER_TABLES) {
      let after: Array<string | number> | undefined
      for (;;) {
        const rows = await readTablePage(tx, table, after, READ_PAGE)
        if (rows.length === 0) break
        await write(out, rows.map((row) => `${JSON.stringify({ table, row })}\n`).join(''))
        counts[table] += rows.length
        const last = rows[rows.length - 1] as TransferRow
        after = spec.key.map((k) => last[k] as string | number)
        if (rows.length < READ_PAGE) break
      }
    }
    await write(out, `${JSON.stringify({ end: true, counts })}\n`)
  })
  return counts
}

/** Splits a byte stream into lines; reading pauses while the consumer works (backpressure). */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let buffered = ''
  for await (const chunk of input) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      yield buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  }
  buffered += decoder.end()
  if (buffered !== '') yield buffered
}

function parseJson(line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line)
  } catch {
    throw new TransferError(`line ${lineNo}: not JSON`)
  }
}

function checkHeader(deps: Deps, value: unknown, targetMigrations: string[]): Header {
  const parsed = Header.safeParse(value)
  if (!parsed.success) {
    throw new TransferError(`line 1: not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} header`)
  }
  const header = parsed.data
  if (header.secret_check !== deps.secrets.digest(SECRET_CHECK_LABEL)) {
    throw new TransferError(
      'The export was made with another server secret. Run the import with the SCIMD_SECRET_KEY ' +
        'of the exporting server (with SQLite and no SCIMD_SECRET_KEY: the contents of its ' +
        'data/secret.key); token digests and sealed keys are bound to it.',
    )
  }
  if (header.migrations.join('\n') !== targetMigrations.join('\n')) {
    throw new TransferError(
      `The export's schema (${header.migrations.at(-1) ?? 'none'}) differs from this database's ` +
        `(${targetMigrations.at(-1) ?? 'none'}): export and import with the same scimd version`,
    )
  }
  return header
}

async function ensureEmpty(tx: Executor): Promise<void> {
  for (const [table] of TRANSFER_TABLES) {
    const n = await countTableRows(tx, table, true)
    if (n > 0) {
      throw new TransferError(
        `The target database is not empty (${table} has ${n} rows). Import into a freshly ` +
          'migrated database (`scimd migrate`, and no SCIMD_BOOTSTRAP_TOKEN until imported).',
      )
    }
  }
}

function checkRow(table: TransferTable, row: TransferRow, lineNo: number): TransferRow {
  const spec = transferSpec(table)
  const columns = spec?.columns ?? []
  const keys = Object.keys(row)
  const unknown = keys.filter((k) => !columns.includes(k))
  const missing = columns.filter((c) => !(c in row))
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      ...unknown.map((k) => `unknown column ${k}`),
      ...missing.map((c) => `missing column ${c}`),
    ]
    throw new TransferError(`line ${lineNo}: ${table}: ${problems.join(', ')}`)
  }
  return row
}

/**
 * Loads an export into this (empty, migrated) database in one transaction: everything or,
 * on any problem, nothing. Checks the header (format, same migrations, same server secret),
 * every row's table and columns, and the end line's counts; then moves the id counters past
 * the imported ids and past every user pk the exporting database ever handed out.
 */
export async function importData(deps: Deps, input: Readable): Promise<TransferCounts> {
  const targetMigrations = await appliedMigrations(deps.db)
  const lines = linesOf(input)
  const first = await lines.next()
  if (first.done) throw new TransferError('The input is empty')
  const header = checkHeader(deps, parseJson(first.value, 1), targetMigrations)

  const order = new Map(TRANSFER_TABLES.map(([t], i) => [t as string, i]))
  return deps.db.transaction().execute(async (tx) => {
    await ensureEmpty(tx)
    await deleteManagedMappings(tx)
    const counts = zeroCounts()
    let position = 0
    let batchTable: TransferTable | undefined
    let batch: TransferRow[] = []
    let ended = false
    let lineNo = 1
    const flush = async () => {
      if (batchTable && batch.length > 0) await insertTableRows(tx, batchTable, batch)
      batch = []
    }
    try {
      for await (const line of lines) {
        lineNo++
        if (line.trim() === '') continue
        if (ended) throw new TransferError(`line ${lineNo}: data after the end line`)
        const value = parseJson(line, lineNo)
        const end = EndLine.safeParse(value)
        if (end.success) {
          await flush()
          for (const [table] of TRANSFER_TABLES) {
            if ((end.data.counts[table] ?? 0) !== counts[table]) {
              throw new TransferError(
                `line ${lineNo}: the end line counts ${end.data.counts[table] ?? 0} ${table} rows, ` +
                  `the file has ${counts[table]}`,
              )
            }
          }
          ended = true
          continue
        }
        const parsed = RowLine.safeParse(value)
        if (!parsed.success) throw new TransferError(`line ${lineNo}: not a row line`)
        const index = order.get(parsed.data.table)
        if (index === undefined) {
          throw new TransferError(`line ${lineNo}: unknown table ${parsed.data.table}`)
        }
        if (index < position) {
          throw new TransferError(`line ${lineNo}: ${parsed.data.table} rows out of order`)
        }
        const table = parsed.data.table as TransferTable
        if (table !== batchTable) {
          await flush()
          batchTable = table
          position = index
        }
        batch.push(checkRow(table, parsed.data.row, lineNo))
        counts[table]++
        if (batch.length >= INSERT_BATCH) await flush()
      }
      if (!ended) throw new TransferError('The input ends without its end line: it is truncated')
    } catch (err) {
      if (err instanceof TransferError) throw err
      const detail = err instanceof Error ? err.message : String(err)
      throw new TransferError(`near line ${lineNo}: ${detail}`)
    }
    await resetIdentities(tx, header.used_user_pk)
    // The imported directory is new to every imported provider's remote: each syncs it all.
    await requestFullSyncAll(tx, nowIso())
    return counts
  })
}
