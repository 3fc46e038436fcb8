/**
 * Real scimd processes (`node --import tsx src/cli.ts serve`) on PORT=0: the port each one
 * got is read from its `scimd listening` log line. Stopped by PID, never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const ROOT = join(import.meta.dirname, '../..')

export interface Instance {
  pid: number
  /** http://127.0.0.1:<port> */
  url: string
  /** What the process logged so far, one entry a line (JSON lines parsed). */
  logs: Array<Record<string, unknown>>
  stop(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts `scimd serve` with `env` (on top of PATH/HOME) and waits until it listens. */
export async function startInstance(
  env: Record<string, string>,
  { startTimeoutMs = 60_000 } = {},
): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid
  if (pid === undefined) throw new Error('scimd did not start')
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const done = exited(child)
    process.kill(pid, 'SIGTERM')
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL')
    }, 15_000)
    await done
    clearTimeout(timer)
  }

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`scimd (pid ${pid}) did not listen within ${startTimeoutMs} ms\n${stderr}`))
    }, startTimeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`scimd (pid ${pid}) exited (${code ?? signal}) before listening\n${stderr}`))
    })
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    lines.on('line', (line) => {
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line) as Record<string, unknown>
      } catch {
        entry = { text: line }
      }
      logs.push(entry)
      if (entry.msg === 'scimd listening' && typeof entry.url === 'string') {
        clearTimeout(timer)
        resolve(entry.url)
      }
    })
  }).catch(async (err: unknown) => {
    await stop()
    throw err
  })
  return { pid, url, logs, stop }
}

/** Starts one instance per env at once; if any fails to start, stops the others and throws. */
export async function startInstances(envs: Array<Record<string, string>>): Promise<Instance[]> {
  const settled = await Promise.allSettled(envs.map((env) => startInstance(env)))
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) {
    await Promise.all(started.map((i) => i.stop()))
    throw failed.reason
  }
  return started
}
