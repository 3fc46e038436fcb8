/**
 * The CLI in an operator's first hour: where the server is, what a command did, JSON for
 * scripts (errors included), admin token housekeeping, backups while serving, and the
 * secret and export files that must not be lost or left lying around.
 * @see issue 24
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'

// Each case spawns CLI processes (tsx compiles src/ at each start): minutes on a loaded
// 2-core machine, where the suite's other files run at the same time.
vi.setConfig({ testTimeout: 240_000 })

// biome-ignore lint/suspicious/noExplicitAny: CLI output is probed field by field
type Json = Record<string, any>

const ROOT = join(import.meta.dirname, '../..')
const CLI = [process.execPath, '--import', 'tsx', 'src/cli.ts'] as const

function workspace(base: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-cli-'))
  const databaseUrl = `sqlite:${join(dir, 'scimd.db')}`
  const env = (extra: Record<string, string>) => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    ...base,
    ...extra,
  })
  const run = (args: string[], extra: Record<string, string> = {}) => {
    const [node, ...rest] = CLI
    const r = spawnSync(node, [...rest, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: env(extra),
      timeout: 60_000,
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const json = (args: string[], extra: Record<string, string> = {}) => {
    const r = run([...args, '--json'], extra)
    expect(r.code, r.stderr + r.stdout).toBe(0)
    return JSON.parse(r.stdout) as Json
  }
  /** The app a `scimd serve` on the same files would be. */
  const server = async () => {
    const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', ...base })
    const runtime = await startRuntime(config, { logger: createLogger('silent'), serving: true })
    onTestFinished(() => runtime.close())
    return createApp(runtime.deps)
  }
  return { dir, databaseUrl, run, json, env, server }
}

describe('scimd, bare and with --version', () => {
  it('prints help on stderr and exits 2 when given nothing', () => {
    const w = workspace()
    const bare = w.run([])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toContain('Usage: scimd <command>')
    expect(existsSync(join(w.dir, 'scimd.db'))).toBe(false)
  })

  it("prints package.json's version", () => {
    const w = workspace()
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(w.run(['--version']).stdout).toBe(`scimd ${version}\n`)
    expect(w.json(['--version'])).toEqual({ version })
  })
})

describe('the SCIM base URL the CLI prints', () => {
  it('comes from --base-url, else SCIMD_BASE_URL, else HOST and PORT', () => {
    const w = workspace()
    w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    const root = (extra: Record<string, string>, args: string[] = []) =>
      w.json(['source', 'show', 'a', ...args], extra).root_url
    expect(root({})).toBe('http://localhost:9000/source/scim/a/v2')
    expect(root({ PORT: '8123' })).toBe('http://localhost:8123/source/scim/a/v2')
    expect(root({ HOST: '127.0.0.2', PORT: '8123' })).toBe('http://127.0.0.2:8123/source/scim/a/v2')
    expect(root({ HOST: '::1', PORT: '8123' })).toBe('http://[::1]:8123/source/scim/a/v2')
    expect(root({ SCIMD_BASE_URL: 'https://scim.example.com/', PORT: '8123' })).toBe(
      'https://scim.example.com/source/scim/a/v2',
    )
    expect(root({ SCIMD_BASE_URL: 'https://x.example' }, ['--base-url', 'https://y.example'])).toBe(
      'https://y.example/source/scim/a/v2',
    )
  }, 120_000)

  it('names what is wrong with a bad SCIMD_BASE_URL or --base-url', () => {
    const w = workspace()
    const noScheme = w.run(['source', 'list'], { SCIMD_BASE_URL: 'scim.example.com' })
    expect(noScheme.code).toBe(2)
    expect(noScheme.stderr).toContain('SCIMD_BASE_URL: needs a scheme (http:// or https://)')
    const ftp = w.run(['source', 'list'], { SCIMD_BASE_URL: 'ftp://scim.example.com' })
    expect(ftp.stderr).toContain('must be http:// or https://')
    const query = w.run(['source', 'list', '--base-url', 'https://x.example/?a=1'])
    expect(query.code).toBe(2)
    expect(query.stderr).toContain('--base-url must not have a query')
    const flag = w.run(['source', 'list', '--base-url', 'x.example'])
    expect(flag.stderr).toContain('--base-url needs a scheme')
  })
})

describe('scimd migrate', () => {
  it('says what it applied, and that there was nothing the second time', () => {
    const w = workspace()
    const first = w.run(['migrate'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/^Applied \d+ migrations:\n {2}2026_11_23_2100_create_directory\n/)
    expect(w.run(['migrate']).stdout).toMatch(/^Nothing to apply: the database is up to date/)
    const again = w.json(['migrate'])
    expect(again.applied).toEqual([])
    expect(again.migrations).toContain('2026_12_07_1600_never_reuse_user_pks')
  })
})

describe('--json', () => {
  it('answers errors as JSON on stdout with the same exit codes', () => {
    const w = workspace()
    w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    const cases: Array<[string[], number, string]> = [
      [['frobnicate'], 2, 'usage'],
      [['source', 'list', '--bogus'], 2, 'usage'],
      [['source', 'show', 'nope'], 3, 'not_found'],
      [['source', 'create', '--name', 'A', '--slug', 'a'], 4, 'conflict'],
      [['source', 'delete', 'a'], 2, 'usage'],
      [['token', 'rotate', 'nope'], 3, 'not_found'],
      [['admin-token', 'revoke', 'nope'], 3, 'not_found'],
      [['admin-token', 'create', '--expires', 'soon'], 2, 'usage'],
      [['backup'], 2, 'usage'],
      [['import', '--input', join(w.dir, 'missing.jsonl')], 1, 'failure'],
    ]
    for (const [args, code, name] of cases) {
      const r = w.run([...args, '--json'])
      expect(r.code, args.join(' ')).toBe(code)
      expect(r.stderr, args.join(' ')).toBe('')
      const body = JSON.parse(r.stdout) as Json
      expect(body.error.code, args.join(' ')).toBe(name)
      expect(body.error.message, args.join(' ')).toEqual(expect.any(String))
    }
    const badUrl = w.run(['source', 'list', '--json'], { SCIMD_BASE_URL: 'nope' })
    expect(JSON.parse(badUrl.stdout).error.message).toContain('needs a scheme')
  }, 180_000)
})

describe('admin tokens', () => {
  it('lists admin tokens without keys, and revokes one so that its key stops working', async () => {
    const w = workspace()
    const created = w.json(['admin-token', 'create'])
    const source = w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    const list = w.json(['admin-token', 'list'])
    expect(list).toEqual([
      {
        identifier: created.identifier,
        description: 'Admin API token',
        expiring: false,
        expires: null,
        created: expect.any(String),
      },
    ])
    expect(JSON.stringify(list)).not.toContain(created.key)
    expect(w.run(['admin-token', 'list']).stdout).toMatch(
      new RegExp(`^IDENTIFIER +EXPIRES +CREATED +DESCRIPTION\\n${created.identifier} +never `),
    )

    const app = await w.server()
    const asAdmin = (key: string) =>
      app.request('http://localhost/api/v3/core/tokens/', {
        headers: { authorization: `Bearer ${key}` },
      })
    expect((await asAdmin(created.key)).status).toBe(200)

    // A source's token is not an admin token: refused, and it keeps working.
    const refused = w.run(['admin-token', 'revoke', source.token_obj.identifier])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('rotate its key instead')

    expect(w.json(['admin-token', 'revoke', created.identifier])).toEqual({
      revoked: created.identifier,
    })
    expect((await asAdmin(created.key)).status).toBe(401)
    expect(w.json(['admin-token', 'list'])).toEqual([])
    expect(w.run(['admin-token', 'revoke', created.identifier]).code).toBe(3)
  }, 120_000)
})

describe('scimd backup', () => {
  it('copies the database consistently while the server writes, and the copy restores', async () => {
    const w = workspace({ SCIMD_SECRET_KEY: 'backup-secret-0123456789abcdef0123456789' })
    const source = w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    const app = await w.server()
    const scim = (method: string, path: string, body?: unknown) =>
      app.request(`http://localhost/source/scim/a/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${source.token}`,
          'content-type': 'application/scim+json',
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
    const group = (await (
      await scim('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Everyone',
      })
    ).json()) as Json

    // Writes go on (users created and added to the group) while the backup runs.
    let writing = true
    let written = 0
    const writer = (async () => {
      while (writing && written < 5000) {
        const user = (await (
          await scim('POST', '/Users', {
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName: `user${written}`,
          })
        ).json()) as Json
        await scim('PATCH', `/Groups/${group.id}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }],
        })
        written++
      }
    })()
    while (written < 20) await new Promise((r) => setTimeout(r, 10))
    const output = join(w.dir, 'backup.db')
    const [node, ...rest] = CLI
    const backup = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (done) => {
        const child = spawn(node, [...rest, 'backup', '--output', output, '--json'], {
          cwd: ROOT,
          env: w.env({}),
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => {
          stdout += d
        })
        child.stderr.on('data', (d) => {
          stderr += d
        })
        child.on('close', (code) => done({ code, stdout, stderr }))
      },
    )
    const duringBackup = written
    writing = false
    await writer
    expect(backup.code, `${backup.stderr} ${backup.stdout}`).toBe(0)
    expect(JSON.parse(backup.stdout)).toMatchObject({ output, integrity: 'ok' })
    expect(written).toBeGreaterThan(duringBackup - 1)
    expect(statSync(output).mode & 0o777).toBe(0o600)

    // The copy is one commit's state: every user is in the group, each once.
    const copy = new Sqlite(output, { readonly: true })
    const users = copy.prepare('select count(*) as n from scim_source_users').get() as Json
    const members = copy.prepare('select count(*) as n from group_members').get() as Json
    expect(copy.pragma('foreign_key_check')).toEqual([])
    copy.close()
    expect(users.n).toBeGreaterThan(0)
    expect(members.n).toBeGreaterThanOrEqual(users.n - 1)
    expect(members.n).toBeLessThanOrEqual(users.n)

    // Restore as the README says: the copy in place of the database, same secret.
    const restored = workspace({ SCIMD_SECRET_KEY: 'backup-secret-0123456789abcdef0123456789' })
    copyFileSync(output, join(restored.dir, 'scimd.db'))
    const restoredApp = await restored.server()
    const res = await restoredApp.request('http://localhost/source/scim/a/v2/Users?count=1', {
      headers: { authorization: `Bearer ${source.token}` },
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as Json).totalResults).toBe(users.n)

    // An existing file is never overwritten; PostgreSQL is pg_dump's job.
    const again = w.run(['backup', '--output', output])
    expect(again.code).toBe(4)
    expect(again.stderr).toContain('exists already')
    const pg = w.run(['backup', '--output', join(w.dir, 'x.db')], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
    })
    expect(pg.code).toBe(2)
    expect(pg.stderr).toContain('pg_dump')
  }, 120_000)
})

describe('export and import files', () => {
  it('writes an export file mode 0600, and ends quietly when its reader stops', async () => {
    const w = workspace()
    const source = w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    // More than a pipe's buffer (64 KiB), so that the export is still writing when head exits.
    const app = await w.server()
    for (let i = 0; i < 400; i++) {
      await app.request('http://localhost/source/scim/a/v2/Users', {
        method: 'POST',
        headers: { authorization: `Bearer ${source.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: `user${i}@example.com`,
          name: { givenName: 'Given', familyName: `Family ${i}` },
          emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }],
        }),
      })
    }
    const file = join(w.dir, 'dump.jsonl')
    writeFileSync(file, 'old', { mode: 0o644 })
    const r = w.run(['export', '--output', file])
    expect(r.code, r.stderr).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8').split('\n')[0]).toContain('"format"')

    expect(statSync(file).size).toBeGreaterThan(128 * 1024)
    const piped = spawnSync(
      'sh',
      ['-c', `${CLI.join(' ')} export | head -c 10 >/dev/null; echo "$?"`],
      { cwd: ROOT, encoding: 'utf8', env: w.env({}), timeout: 60_000 },
    )
    expect(piped.stderr).toBe('')
    expect(piped.stdout).toBe('0\n')
  }, 120_000)

  it('leaves no database or secret.key behind when an import fails', () => {
    const w = workspace()
    const bad = join(w.dir, 'bad.jsonl')
    writeFileSync(bad, '{"not": "an export"}\n')
    const target = `sqlite:${join(w.dir, 'new', 'scimd.db')}`
    const r = w.run(['import', '--input', bad], { DATABASE_URL: target })
    expect(r.code).toBe(1)
    for (const file of ['scimd.db', 'scimd.db-wal', 'scimd.db-shm', 'secret.key']) {
      expect(existsSync(join(w.dir, 'new', file)), file).toBe(false)
    }
  })

  it('refuses to start with another secret than the database was sealed with', () => {
    const w = workspace()
    w.json(['source', 'create', '--name', 'A', '--slug', 'a'])
    const expected = w.run(['secret', 'fingerprint']).stdout.trim()
    expect(expected).toMatch(/^[0-9a-f]{16}$/)
    const other = w.run(['source', 'list'], {
      SCIMD_SECRET_KEY: 'another-secret-0123456789abcdef0123456789',
    })
    expect(other.code).toBe(1)
    expect(other.stderr).toContain(`fingerprint is ${expected}`)
  })
})
