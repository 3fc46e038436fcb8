/** `scimd provider …` as an admin runs it: a real process on a SQLite file, pushing to a target. */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startMemoryTarget } from '../support/targets/memory-target.js'

const ROOT = join(import.meta.dirname, '../..')

/** Async, so that the in-process target answers while the CLI runs. */
function scimdIn(dir: string, extraEnv: Record<string, string> = {}) {
  return (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}`,
          LOG_LEVEL: 'silent',
          ...extraEnv,
        },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => {
        stdout += d
      })
      child.stderr.on('data', (d) => {
        stderr += d
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, stdout, stderr })
      })
    })
}

describe('scimd provider', () => {
  it('creates, lists, syncs, shows and deletes a provider; the token stays out of argv', async () => {
    const target = await startMemoryTarget()
    const dir = mkdtempSync(join(tmpdir(), 'scimd-provider-cli-'))
    const scimd = scimdIn(dir, { SCIMD_PROVIDER_TOKEN: target.token })
    expect((await scimd('source', 'create', '--name', 'Entra', '--slug', 'entra')).code).toBe(0)

    const noToken = await scimdIn(dir)('provider', 'create', '--name', 'x', '--url', target.url)
    expect(noToken.code).toBe(2)
    expect(noToken.stderr).toContain('SCIMD_PROVIDER_TOKEN')

    const created = await scimd(
      'provider',
      'create',
      '--name',
      'mem',
      '--url',
      target.url,
      '--json',
    )
    expect(created.code, created.stderr).toBe(0)
    const { pk } = JSON.parse(created.stdout) as { pk: number }
    const list = await scimd('provider', 'list')
    expect(list.stdout).toContain(`${pk}  mem  ${target.url}`)

    const synced = await scimd('provider', 'sync', String(pk), '--json')
    expect(synced.code, synced.stderr).toBe(0)
    const status = JSON.parse(synced.stdout).status as Record<string, unknown>
    expect(status).toMatchObject({ lastSyncStatus: 'success', users: { linked: 1 } })
    // The source's service account is a directory user, pushed like any other.
    expect([...target.users.values()].map((u) => u.userName)).toEqual([
      expect.stringMatching(/^ak-source-scim-/),
    ])

    const shown = await scimd('provider', 'show', String(pk))
    expect(shown.stdout).toContain('last sync: success')
    expect((await scimd('provider', 'delete', String(pk))).code).toBe(2)
    expect((await scimd('provider', 'delete', String(pk), '--yes')).code).toBe(0)
    expect((await scimd('provider', 'show', String(pk))).code).toBe(3)
  }, 240_000)
})
