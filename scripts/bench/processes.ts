/** Starts and stops the benchmark's server processes (scimd, the bare Hono app, the reference) by PID. */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

export const REPO_ROOT = join(import.meta.dirname, '../..')

export interface ServerProcess {
  name: string
  pid: number
  origin: string
  child: ChildProcess
  /** The last lines the process wrote, for failure messages. */
  output(): string
}

const running = new Set<ChildProcess>()

/** A free TCP port on 127.0.0.1 (the kernel picks it; the probe closes before we use it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Spawns a tracked child; its output is kept (last 64 KiB) and echoed only on failure. */
export function spawnTracked(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = REPO_ROOT,
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-65_536)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output: () => log }
}

/** Waits until `url` answers 2xx, or fails when the process exits or the time is up. */
async function waitUntilReady(
  name: string,
  child: ChildProcess,
  url: string,
  output: () => string,
  limitMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`${name} exited during startup (code ${child.exitCode}):\n${output()}`)
    }
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${name} did not become ready within ${limitMs / 1000} s:\n${output()}`)
}

export interface ScimdOptions {
  databaseUrl: string
  bootstrapToken: string
  secretKey: string
  /** Directory for `--cpu-prof` output; the process is profiled when set. */
  cpuProfDir?: string
  /** More environment (a setting the run compares, e.g. SCIMD_METRICS=off). */
  env?: Record<string, string>
  /** A checkout whose built dist/ runs instead of this one's (an older build to compare). */
  cwd?: string
}

/** Starts the built scimd (`node dist/src/cli.js serve`) on a free 127.0.0.1 port. */
export async function startScimd(options: ScimdOptions): Promise<ServerProcess> {
  const port = await freePort()
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    SCIMD_BOOTSTRAP_TOKEN: options.bootstrapToken,
    SCIMD_SECRET_KEY: options.secretKey,
    LOG_LEVEL: 'warn',
    // Tuning a run may try (README, Configuration); unset, scimd's default.
    SCIMD_SQLITE_MMAP_MB: process.env.SCIMD_SQLITE_MMAP_MB,
    SCIMD_PG_POOL_MAX: process.env.SCIMD_PG_POOL_MAX,
    ...options.env,
  }
  const { child, output } = spawnTracked(
    process.execPath,
    [...nodeArgs, 'dist/src/cli.js', 'serve'],
    env,
    options.cwd,
  )
  const origin = `http://127.0.0.1:${port}`
  await waitUntilReady('scimd', child, `${origin}/-/health/ready/`, output)
  return { name: 'scimd', pid: child.pid as number, origin, child, output }
}

/** Starts the bare Hono app (scripts/bench/bare-server.ts) on a free 127.0.0.1 port. */
export function startBare(database: { url: string; sourceId: string }): Promise<ServerProcess> {
  return startBenchScript('bare', 'bare Hono app', 'scripts/bench/bare-server.ts', {
    BENCH_DATABASE_URL: database.url,
    BENCH_SOURCE_ID: database.sourceId,
  })
}

/**
 * Starts issue 26's hand-rolled reference (scripts/bench/reference-server.ts) on a free
 * 127.0.0.1 port, with its own SQLite file `dbPath`, seeded with `users` users before it
 * listens (a million take a while: the wait is long).
 */
export function startReference(dbPath: string, users: number): Promise<ServerProcess> {
  return startBenchScript(
    'reference',
    'reference server',
    'scripts/bench/reference-server.ts',
    { BENCH_REFERENCE_DB: dbPath, BENCH_REFERENCE_USERS: String(users) },
    900_000,
  )
}

/** A server script of the bench's own (run by tsx) on a free port, ready once `/` answers. */
async function startBenchScript(
  name: string,
  label: string,
  script: string,
  settings: Record<string, string>,
  readyWithinMs?: number,
): Promise<ServerProcess> {
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    BENCH_PORT: String(port),
    ...settings,
  }
  const { child, output } = spawnTracked(process.execPath, ['--import', 'tsx', script], env)
  const origin = `http://127.0.0.1:${port}`
  await waitUntilReady(label, child, `${origin}/`, output, readyWithinMs)
  return { name, pid: child.pid as number, origin, child, output }
}

/** Stops one process by its PID: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (!hasExited(child) && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  }, graceMs)
  await exited(child)
  clearTimeout(timer)
}

/** Stops every process this run started (each by its own PID). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child)))
}

/** Synchronous last resort from a signal handler: SIGKILL each tracked PID. */
export function killAllNow(): void {
  for (const child of running) {
    if (!hasExited(child) && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
}

/** Peak resident set size (VmHWM) of a live process, in bytes; undefined if unreadable. */
export function peakRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * CPU time (user + system) a live process has used, in milliseconds, from /proc/<pid>/stat
 * (fields 14 and 15, in clock ticks of 1/100 s on Linux); undefined where unreadable.
 */
export function cpuMillis(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; the fields after it start after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

/**
 * CPU time a live process's threads have used, in nanoseconds, from each thread's
 * /proc/<pid>/task/<tid>/sched (the scheduler's `se.sum_exec_runtime`, in ms to the ns; its
 * schedstat is zero on kernels without schedstats), not clock ticks of 10 ms:
 * a chunk of 2,000 PATCHes is 200 ms of CPU, which ticks would measure to ±5%). A thread
 * that exits takes its time with it; scimd's threads (main, libuv's pool, V8's helpers)
 * live as long as it does. Undefined where unreadable.
 */
export function cpuNanos(pid: number): number | undefined {
  try {
    let total = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const sched = readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8')
      const ms = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(sched)?.[1]
      if (ms === undefined) return undefined
      total += Number(ms) * 1e6
    }
    return total
  } catch {
    return undefined
  }
}

/**
 * Samples the anonymous part of a process's resident memory (RssAnon: its heap and what it
 * allocated, not pages of files it maps) every `everyMs`, and gives the highest sample. The
 * peak starts over when `pid()` names a new process (scimd restarted under --cpu-prof).
 */
export function sampleAnonymousPeak(pid: () => number, everyMs = 500): () => number | undefined {
  let sampledPid: number | undefined
  let peak: number | undefined
  const sample = () => {
    const current = pid()
    if (current !== sampledPid) {
      sampledPid = current
      peak = undefined
    }
    try {
      const status = readFileSync(`/proc/${current}/status`, 'utf8')
      const match = /^RssAnon:\s+(\d+)\s+kB/m.exec(status)
      if (match) peak = Math.max(peak ?? 0, Number(match[1]) * 1024)
    } catch {
      // Gone or not readable: no sample.
    }
  }
  sample()
  const timer = setInterval(sample, everyMs)
  timer.unref()
  return () => {
    sample()
    clearInterval(timer)
    return peak
  }
}
