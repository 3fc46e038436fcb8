/**
 * A built scimd as a child process for the fuzzer and the crash test: started on a free
 * 127.0.0.1 port with the loop probe preloaded, asked over IPC how long its event loop was
 * held and how much memory it uses, stopped or killed by its own PID.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, REPO_ROOT } from '../bench/processes.js'

export { REPO_ROOT }

export interface ScimdChild {
  origin: string
  port: number
  child: ChildProcess
  pid: number
  /** The last 64 KiB the process wrote. */
  output(): string
  /**
   * The longest event-loop delay since the last call, in ms, and the most CPU time the
   * process spent between two ticks of the probe's 10 ms timer (about that hold's length on
   * an idle machine); undefined if it did not answer.
   */
  loopHold(timeoutMs?: number): Promise<{ ms: number; cpuMs: number } | undefined>
  /** Resident set size and heap after a full GC, in bytes. */
  memory(): Promise<{ rss: number; heapUsed: number } | undefined>
  alive(): boolean
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL now; resolves once the process is gone. */
  kill(): Promise<void>
}

export interface ChildOptions {
  databaseUrl: string
  adminKey: string
  secretKey: string
  /** Listen on this port (a restart keeps its address); default a free one. */
  port?: number
  env?: Record<string, string>
}

const running = new Set<ChildProcess>()

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'dist/src/cli.js'))) {
    throw new Error('dist/src/cli.js is missing: run npm run build first')
  }
}

/** Starts `node dist/src/cli.js serve` and resolves once /-/health/ready/ answers 204. */
export async function startChild(options: ChildOptions): Promise<ScimdChild> {
  const port = options.port ?? (await freePort())
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', './scripts/fuzz/loop-probe.mjs', 'dist/src/cli.js', 'serve'],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: options.databaseUrl,
        SCIMD_BOOTSTRAP_TOKEN: options.adminKey,
        SCIMD_SECRET_KEY: options.secretKey,
        LOG_LEVEL: 'warn',
        // Wrong tokens are part of the fuzz: after 20 of them every request from 127.0.0.1
        // would get 429 and nothing else would be tested (test/scim/auth tests the limit).
        SCIMD_AUTH_FAILURE_LIMIT: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  running.add(child)
  child.once('exit', () => running.delete(child))
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-65_536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)

  let nextId = 0
  const waiting = new Map<number, (m: Record<string, number>) => void>()
  child.on('message', (m: Record<string, number>) => {
    const resolve = waiting.get(m.id as number)
    if (resolve) {
      waiting.delete(m.id as number)
      resolve(m)
    }
  })
  const ask = (probe: string, timeoutMs: number, extra: object = {}) =>
    new Promise<Record<string, number> | undefined>((resolve) => {
      if (hasExited(child) || !child.connected) return resolve(undefined)
      const id = nextId++
      const timer = setTimeout(() => {
        waiting.delete(id)
        resolve(undefined)
      }, timeoutMs)
      waiting.set(id, (m) => {
        clearTimeout(timer)
        resolve(m)
      })
      child.send({ probe, id, ...extra })
    })

  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (hasExited(child)) throw new Error(`scimd exited during start:\n${log}`)
    try {
      const res = await fetch(`${origin}/-/health/ready/`)
      await res.arrayBuffer()
      if (res.status === 204) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`scimd did not become ready:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }

  return {
    origin,
    port,
    child,
    pid: child.pid as number,
    output: () => log,
    alive: () => !hasExited(child),
    loopHold: async (timeoutMs = 30_000) => {
      const answer = await ask('loop', timeoutMs)
      return answer && { ms: answer.maxMs as number, cpuMs: answer.cpuMs as number }
    },
    memory: async () => {
      const m = await ask('memory', 30_000, { gc: true })
      return m ? { rss: m.rss as number, heapUsed: m.heapUsed as number } : undefined
    },
    stop: async (graceMs = 15_000) => {
      if (hasExited(child)) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => {
        if (!hasExited(child)) child.kill('SIGKILL')
      }, graceMs)
      await exited(child)
      clearTimeout(timer)
    },
    kill: async () => {
      if (!hasExited(child)) child.kill('SIGKILL')
      await exited(child)
    },
  }
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export function peakRss(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** From a signal handler: SIGKILL each child this process started, by its PID. */
export function killChildrenNow(): void {
  for (const child of running) {
    if (!hasExited(child)) child.kill('SIGKILL')
  }
}
