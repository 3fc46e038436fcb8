/**
 * WAL checkpoints on a worker thread. In WAL mode every commit appends pages to the WAL
 * file, and a checkpoint copies them back into the database file (and syncs it). SQLite
 * runs it inside the commit that crosses `wal_autocheckpoint` pages: on the writer, on the
 * event loop, a twentieth of a create's CPU time with its fsync (perf record). A checkpoint
 * may run beside readers and writers, from any connection, so a worker thread with its own
 * connection does it instead and the writer only falls back on its own when the worker
 * lags far behind.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * How often the worker checkpoints while the WAL grows: at ten thousand creates a second,
 * 25 ms is about a thousand pages (4 MB) a checkpoint. While nothing is written it waits
 * twice as long each time, up to a second.
 */
const BUSY_INTERVAL_MS = 25
const IDLE_INTERVAL_MS = 1000

/**
 * The writer's own automatic checkpoint, in pages, while the worker runs: 4× SQLite's
 * default, so it only acts if the worker stops keeping up: how far checkpoints lag stays
 * bounded either way. (The WAL file is reused from its start after a complete checkpoint,
 * not shrunk.)
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 4000

/**
 * The worker's whole program. Evaluated as CommonJS, so it needs no file of its own that
 * the TypeScript build and the tests would both have to find.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads')
const { busyMs, idleMs } = workerData
const describe = (error) => String((error && error.message) || error)
let db
let checkpoint
let delay = busyMs
let lastLog = 0
let reported = false
let timer
const tick = () => {
  try {
    // Never creates the file: if it is gone, that is reported, not papered over.
    db ??= new (require(workerData.module))(workerData.path, { fileMustExist: true })
    checkpoint ??= db.prepare('pragma wal_checkpoint(PASSIVE)')
    // log: frames in the WAL; it changes when something was written since the last time.
    const { log } = checkpoint.get()
    delay = log !== lastLog ? busyMs : Math.min(delay * 2, idleMs)
    lastLog = log
  } catch (error) {
    // Reported once; the writer's own automatic checkpoint still bounds the WAL.
    if (!reported) parentPort.postMessage({ error: describe(error) })
    reported = true
    delay = idleMs
  }
  timer = setTimeout(tick, delay)
}
timer = setTimeout(tick, delay)
parentPort.on('message', () => {
  clearTimeout(timer)
  db?.close()
  parentPort.close()
})
`

export interface Checkpointer {
  /** Stops the worker after its current checkpoint and closes its connection. */
  stop(): Promise<void>
}

export function startCheckpointer(
  path: string,
  onError: (message: string) => void,
  { busyMs = BUSY_INTERVAL_MS, idleMs = IDLE_INTERVAL_MS } = {},
): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(PROGRAM, {
    eval: true,
    // Not the parent's flags: `--input-type=module` would make the program ESM, and a
    // loader such as tsx's has nothing to do here.
    execArgv: [],
    workerData: { path, module, busyMs, idleMs },
  })
  // A server that is otherwise done must not be kept alive by its checkpointer.
  worker.unref()
  worker.on('message', (message: { error?: string }) => {
    if (message.error) onError(message.error)
  })
  worker.on('error', (error) => onError(String(error?.message ?? error)))
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return {
    stop: async () => {
      // Referenced again, or a process with nothing else to do would exit before the worker
      // has closed its connection, and whoever awaits stop() would never resume.
      worker.ref()
      worker.postMessage('stop')
      await exited
    },
  }
}
