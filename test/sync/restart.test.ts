/**
 * `kill -9` of a serving scimd in the middle of a full sync: after the restart it catches
 * up (the interrupted full sync starts over, changes made while it was down come from the
 * outbox) and nothing is created twice.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { startRuntime } from '../../src/runtime.js'
import * as providers from '../../src/services/providers.js'
import * as sources from '../../src/services/sources.js'
import * as users from '../../src/services/users.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'

const ROOT = join(import.meta.dirname, '../..')

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('restart', () => {
  it('catches up after kill -9 mid-sync, without duplicates', async () => {
    const target = await startMemoryTarget({ writeDelayMs: 30 })
    const dir = mkdtempSync(join(tmpdir(), 'scimd-restart-'))
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'a.db')}`,
      SCIMD_SECRET_KEY: 'restart-test-secret-key-0123456789abcdef',
      LOG_LEVEL: 'silent',
    }
    // Prepare A's database: a source with 150 users and a provider to the target.
    const withRuntime = async (
      work: (deps: Awaited<ReturnType<typeof startRuntime>>['deps']) => Promise<void>,
    ) => {
      const runtime = await startRuntime(loadConfig(env), { logger: createLogger('silent') })
      try {
        await work(runtime.deps)
      } finally {
        await runtime.close()
      }
    }
    let source: Awaited<ReturnType<typeof sources.createSource>>['source'] | undefined
    await withRuntime(async (deps) => {
      source = (await sources.createSource(deps, { name: 'Entra', slug: 'entra' })).source
      for (let i = 0; i < 150; i++) {
        await users.createUser(deps, source, { userName: `user${i}` }, { withGroups: false })
      }
      await providers.createProvider(deps, {
        name: 'target',
        url: target.url,
        token: target.token,
        excludeUsersServiceAccount: true,
      })
    })

    const start = (): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          ...env,
          HOST: '127.0.0.1',
          PORT: '0',
          SCIMD_PROVIDER_LEASE: '2',
        },
        stdio: 'ignore',
      })
      onTestFinished(() => {
        child.kill('SIGKILL')
      })
      return child
    }
    const a = start()
    await until(() => target.users.size >= 20, 60_000, 'the sync to start')
    a.kill('SIGKILL')
    await new Promise((resolve) => a.once('exit', resolve))
    const before = target.users.size
    expect(before).toBeLessThan(150)

    // While A is down: more changes, which only the outbox remembers.
    await withRuntime(async (deps) => {
      for (let i = 150; i < 160; i++) {
        await users.createUser(
          deps,
          source as NonNullable<typeof source>,
          { userName: `user${i}` },
          {
            withGroups: false,
          },
        )
      }
    })
    start()
    await until(() => target.users.size >= 160, 90_000, 'the catch-up')
    // Give it a moment to (wrongly) send more, then check nothing was created twice.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const names = [...target.users.values()].map((u) => String(u.userName))
    expect(new Set(names).size).toBe(names.length)
    expect(names.filter((n) => n.startsWith('user'))).toHaveLength(160)
    const posts = target.requests.filter((r) => r.method === 'POST' && r.status === 201)
    expect(posts.length).toBe(names.length)
  }, 240_000)
})
