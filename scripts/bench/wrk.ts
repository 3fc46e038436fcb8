/** Runs wrk with one of the Lua workloads in scripts/bench/lua and parses its result line. */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnTracked } from './processes.js'

const LUA_DIR = join(import.meta.dirname, 'lua')

export const WRK_THREADS = 2
export const WRK_CONNECTIONS = 32
/** A request slower than this counts as a socket timeout (an error). */
export const WRK_TIMEOUT = '10s'

export interface WrkResult {
  /** Completed requests (any status). */
  requests: number
  /** Requests the Lua script built (completed or still in flight at the end). */
  issued: number
  durationSeconds: number
  requestsPerSecond: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  /** connect + read + write + timeout errors. */
  socketErrors: number
  /** First non-2xx response, for the report. */
  failure?: { status: number; body: string }
}

/** Fails with installation instructions when wrk is not on PATH. */
export function checkWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  if (probe.error) {
    throw new Error(
      'wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk (Debian package "wrk").',
    )
  }
}

/** Writes common.lua + `<workload>.lua` as one script into `dir` (wrk loads a single file). */
export function luaScript(dir: string, workload: string): string {
  const path = join(dir, `${workload}.lua`)
  const common = readFileSync(join(LUA_DIR, 'common.lua'), 'utf8')
  const own = readFileSync(join(LUA_DIR, `${workload}.lua`), 'utf8')
  writeFileSync(path, `${common}\n${own}`)
  return path
}

export interface WrkRun {
  origin: string
  script: string
  durationSeconds: number
  options: Record<string, string | number>
}

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    `-t${WRK_THREADS}`,
    `-c${WRK_CONNECTIONS}`,
    `-d${run.durationSeconds}s`,
    `--timeout`,
    WRK_TIMEOUT,
    '-s',
    run.script,
    run.origin,
    '--',
    ...Object.entries(run.options).map(([k, v]) => `${k}=${v}`),
  ]
  const { child, output } = spawnTracked('wrk', args, process.env)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const text = output()
  const line = /^BENCH_RESULT (.*)$/m.exec(text)?.[1]
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${text}`)
  const r = JSON.parse(line) as {
    requests: number
    issued: number
    durationUs: number
    p50Us: number
    p90Us: number
    p99Us: number
    maxUs: number
    non2xx: number
    connect: number
    read: number
    write: number
    timeout: number
    failStatus: number
  }
  const durationSeconds = r.durationUs / 1e6
  const failBody = /^BENCH_FAIL_BODY (.*)$/m.exec(text)?.[1] ?? ''
  return {
    requests: r.requests,
    issued: r.issued,
    durationSeconds,
    requestsPerSecond: r.requests / durationSeconds,
    p50Ms: r.p50Us / 1000,
    p90Ms: r.p90Us / 1000,
    p99Ms: r.p99Us / 1000,
    maxMs: r.maxUs / 1000,
    non2xx: r.non2xx,
    socketErrors: r.connect + r.read + r.write + r.timeout,
    ...(r.failStatus !== 0 ? { failure: { status: r.failStatus, body: failBody } } : {}),
  }
}
