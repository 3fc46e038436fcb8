/**
 * startServer(): a real scimd process (`node --import tsx src/cli.ts serve`) on a free
 * 127.0.0.1 port with a temporary SQLite file, or a throwaway PostgreSQL schema when
 * DATABASE_URL is a postgres URL; third-party suites (newman, the Okta runner) talk to it
 * over HTTP exactly as they would to a deployed server.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createScratchSchema, isPostgres } from '../../support/pg.js'

const REPO_ROOT = join(import.meta.dirname, '../../..')
const ADMIN_KEY = `clients-admin-${randomBytes(16).toString('hex')}`
const SECRET_KEY = `clients-secret-${randomBytes(24).toString('hex')}`
/** How long a cold `tsx` start plus migrations may take before the test gives up. */
const STARTUP_LIMIT_MS = 60_000

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string
  /** Creates a source through the admin API; returns its SCIM base URL and token key. */
  createSource(slug: string): Promise<{ scimUrl: string; key: string }>
  /** Stops the process (SIGTERM by PID) and removes its database. */
  stop(): Promise<void>
  /** What the process wrote to stdout/stderr, for failure messages. */
  output(): string
}

async function freePort(): Promise<number> {
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

interface Database {
  url: string
  drop(): Promise<void>
}

async function temporaryDatabase(): Promise<Database> {
  if (isPostgres) {
    const scratch = await createScratchSchema()
    return { url: scratch.url, drop: scratch.drop }
  }
  const dir = mkdtempSync(join(tmpdir(), 'scimd-clients-'))
  return {
    url: `sqlite:${join(dir, 'scimd.db')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function waitUntilReady(origin: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + STARTUP_LIMIT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`scimd exited during start:\n${log()}`)
    try {
      const res = await fetch(`${origin}/-/health/ready/`)
      if (res.status === 204) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`scimd did not become ready:\n${log()}`)
}

interface Process {
  origin: string
  output: () => string
  stop: () => Promise<void>
}

/** Spawns scimd on a free port; resolves once it is ready, or rejects with its output. */
async function spawnServer(databaseUrl: string): Promise<Process> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  let output = ''
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SCIMD_BOOTSTRAP_TOKEN: ADMIN_KEY,
      SCIMD_SECRET_KEY: SECRET_KEY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM')
    }
    await exited(child)
  }
  try {
    await waitUntilReady(origin, child, () => output)
  } catch (err) {
    await stop()
    throw err
  }
  return { origin, output: () => output, stop }
}

export async function startServer(): Promise<RunningServer> {
  const database = await temporaryDatabase()
  let server: Process | undefined
  // The free port may be taken between probing and listening; try another one then.
  for (let attempt = 1; !server; attempt++) {
    try {
      server = await spawnServer(database.url)
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) {
        await database.drop()
        throw err
      }
    }
  }
  const { origin } = server
  const stop = async () => {
    await server.stop()
    await database.drop()
  }

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${origin}/api/v3${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }

  return {
    origin,
    output: server.output,
    stop,
    createSource: async (slug) => {
      const source = await admin('POST', '/sources/scim/', { name: `Clients ${slug}`, slug })
      const token = source.token_obj as { identifier: string }
      const { key } = await admin('GET', `/core/tokens/${token.identifier}/view_key/`)
      return { scimUrl: `${origin}/source/scim/${slug}/v2`, key: String(key) }
    },
  }
}
