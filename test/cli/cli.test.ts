/**
 * The CLI as an admin runs it: a real process on a SQLite file, checked against the admin API
 * and SCIM served from the same file.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'

// biome-ignore lint/suspicious/noExplicitAny: CLI output is probed field by field
type Json = Record<string, any>

const ROOT = join(import.meta.dirname, '../..')

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-cli-'))
  const databaseUrl = `sqlite:${join(dir, 'scimd.db')}`
  const scimd = (...args: string[]) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'silent',
      },
      timeout: 60_000,
    })
    return { code: run.status, stdout: run.stdout, stderr: run.stderr }
  }
  const json = (...args: string[]) => {
    const run = scimd(...args, '--json')
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout) as Json
  }
  /** The server a `scimd serve` on the same database would be. */
  const server = async () => {
    const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' })
    const runtime = await startRuntime(config, { logger: createLogger('silent') })
    onTestFinished(() => runtime.close())
    const app = createApp(runtime.deps)
    return (path: string, key: string) =>
      app.request(`http://localhost${path}`, { headers: { authorization: `Bearer ${key}` } })
  }
  return { dir, scimd, json, server }
}

describe('scimd CLI', () => {
  it('creates a source whose printed token provisions, and lists and shows it', async () => {
    const w = workspace()
    const created = w.scimd('source', 'create', '--name', 'Entra ID', '--slug', 'entra')
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toContain('SCIM base URL: http://localhost:9000/source/scim/entra/v2')
    const key = /Token:\s+(\S+)/.exec(created.stdout)?.[1] as string
    expect(key).toMatch(/^[A-Za-z0-9_-]{64}$/)

    const list = w.json('source', 'list', '--base-url', 'https://idp.example.com/')
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({
      slug: 'entra',
      name: 'Entra ID',
      enabled: true,
      root_url: 'https://idp.example.com/source/scim/entra/v2',
      token_obj: { intent: 'api', expiring: false },
    })
    expect(JSON.stringify(list)).not.toContain(key)
    expect(w.json('source', 'show', 'entra', '--base-url', 'https://idp.example.com')).toEqual(
      list[0],
    )
    const text = w.scimd('source', 'list')
    expect(text.stdout).toMatch(/entra\s+enabled\s+Entra ID\s+http:\/\/localhost:9000/)

    const request = await w.server()
    expect((await request('/source/scim/entra/v2/Users', key)).status).toBe(200)
  })

  it('prints the API shape and the key with --json on create', () => {
    const w = workspace()
    const created = w.json('source', 'create', '--name', 'Okta', '--slug', 'okta')
    expect(created).toMatchObject({ slug: 'okta', component: 'ak-source-scim-form' })
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{64}$/)
    expect(created.token_obj.identifier).toMatch(/^ak-source-scim-/)
  })

  it('exits 2 naming invalid input, 4 for a taken slug, 3 for an unknown one', () => {
    const w = workspace()
    const invalid = w.scimd('source', 'create', '--name', '', '--slug', 'no spaces!')
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('--name: This field may not be blank.')
    expect(invalid.stderr).toContain('--slug: Enter a valid “slug”')
    expect(w.scimd('source', 'create', '--slug', 'x').stderr).toContain(
      '--name: This field is required.',
    )
    expect(w.scimd('source', 'create', '--name', 'A', '--slug', 'a').code).toBe(0)
    const taken = w.scimd('source', 'create', '--name', 'A', '--slug', 'a')
    expect(taken.code).toBe(4)
    expect(taken.stderr).toContain("'a' already exists")
    const missing = w.scimd('source', 'show', 'nope')
    expect(missing.code).toBe(3)
    expect(missing.stderr).toBe('scimd: No source "nope"\n')
    expect(w.scimd('token', 'rotate', 'nope').code).toBe(3)
  })

  it('deletes a source only with --yes', () => {
    const w = workspace()
    w.json('source', 'create', '--name', 'Gone', '--slug', 'gone')
    const unconfirmed = w.scimd('source', 'delete', 'gone')
    expect(unconfirmed.code).toBe(2)
    expect(unconfirmed.stderr).toContain('--yes')
    expect(w.scimd('source', 'show', 'gone').code).toBe(0)
    expect(w.json('source', 'delete', 'gone', '--yes')).toEqual({ deleted: 'gone' })
    expect(w.scimd('source', 'show', 'gone').code).toBe(3)
    expect(w.scimd('source', 'delete', 'gone', '--yes').code).toBe(3)
  })

  it('rotates a token: the printed key works, the old one no longer does', async () => {
    const w = workspace()
    const created = w.json('source', 'create', '--name', 'Rot', '--slug', 'rot')
    const rotated = w.json('token', 'rotate', created.token_obj.identifier)
    expect(rotated.identifier).toBe(created.token_obj.identifier)
    expect(rotated.key).not.toBe(created.token)
    const request = await w.server()
    expect((await request('/source/scim/rot/v2/Users', created.token)).status).toBe(401)
    expect((await request('/source/scim/rot/v2/Users', rotated.key)).status).toBe(200)
  })

  it('creates admin tokens that work on the admin API, with an optional expiry', async () => {
    const w = workspace()
    const plain = w.json('admin-token', 'create')
    expect(plain).toMatchObject({
      identifier: expect.stringMatching(/^scimd-admin-/),
      expires: null,
    })
    const expiring = w.json('admin-token', 'create', '--expires', '2099-01-31T00:00:00Z')
    expect(expiring.expires).toBe('2099-01-31T00:00:00.000Z')
    const past = w.scimd('admin-token', 'create', '--expires', '2020-01-01')
    expect(past.code).toBe(2)
    expect(past.stderr).toContain('in the past')
    expect(w.scimd('admin-token', 'create', '--expires', 'soon').code).toBe(2)
    // A day that does not exist is refused, not rolled over to 2099-03-03.
    expect(w.scimd('admin-token', 'create', '--expires', '2099-02-31T00:00:00Z').code).toBe(2)
    const request = await w.server()
    for (const key of [plain.key, expiring.key]) {
      expect((await request('/api/v3/core/tokens/', key)).status).toBe(200)
    }
  })

  it('says in one log line that the port is taken, and exits 1', async () => {
    const w = workspace()
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => void taken.close())
    const port = (taken.address() as { port: number }).port
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: w.dir,
        DATABASE_URL: `sqlite:${join(w.dir, 'scimd.db')}`,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'error',
      },
      timeout: 60_000,
    })
    expect(run.status, run.stderr).toBe(1)
    expect(run.stderr).not.toContain('Unhandled')
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Json)
    expect(lines).toMatchObject([
      { level: 'error', msg: 'cannot listen', address: `127.0.0.1:${port}`, code: 'EADDRINUSE' },
    ])
  })

  it('refuses unknown commands and options with exit 2 before touching the database', () => {
    const w = workspace()
    for (const args of [['frobnicate'], ['source', 'rename', 'a'], ['source', 'list', '--bogus']]) {
      const run = w.scimd(...args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.stderr, args.join(' ')).toMatch(/^scimd: /)
    }
    expect(existsSync(join(w.dir, 'scimd.db'))).toBe(false)
    const help = w.scimd('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('source create --name N --slug S')
  })
})

describe('scimd events', () => {
  // Five CLI processes, each a tsx start: slower than one test's default on a busy machine.
  it('lists the newest events, filtered by action, as a table or JSON', () => {
    const w = workspace()
    const created = w.json('source', 'create', '--name', 'Okta', '--slug', 'okta')
    expect(w.scimd('token', 'rotate', created.token_obj.identifier).code).toBe(0)
    const list = w.json('events', '--limit', '5')
    expect(list.map((e: Json) => e.action)).toEqual(['secret_rotate', 'model_created'])
    expect(list[1]).toMatchObject({
      app: 'scimd.cli',
      user: {},
      context: { model: { model_name: 'scimsource', name: 'Okta' }, source: { slug: 'okta' } },
    })
    const text = w.scimd('events', '--action', 'created')
    expect(text.stdout).toMatch(/^CREATED +ACTION/)
    expect(text.stdout).toContain('scimsource Okta')
    expect(text.stdout).not.toContain('secret_rotate')
    expect(w.scimd('events', '--limit', 'x').code).toBe(2)
  }, 120_000)
})
