/**
 * Replays every request `npm run fuzz` saved in test/regressions/fuzz-corpus/ (a 5xx, a hang
 * or a crash it found) against a fresh scimd served over real HTTP, as the fuzzer sent it:
 * each must get a whole response, and not a 5xx. @see issue 29
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type FuzzRequest, send } from '../../scripts/fuzz/request.js'
import { listen } from '../../src/http/server.js'
import { ADMIN_KEY, createTestApp } from '../support/app.js'

const CORPUS = join(import.meta.dirname, 'fuzz-corpus')
/** A guard against a hang, not a performance figure: linear work answers in far less. */
const HANG_MS = 120_000

const cases = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const saved = JSON.parse(readFileSync(join(CORPUS, file), 'utf8')) as {
      found: { outcome: string }
      request: FuzzRequest
    }
    return { file, ...saved }
  })

const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'

describe('requests the fuzzer found failing', () => {
  it('has cases to replay', () => {
    expect(cases.length).toBeGreaterThan(0)
  })

  for (const c of cases) {
    it(`${c.file}: ${c.request.kind} (was ${c.found.outcome})`, {
      timeout: HANG_MS + 30_000,
    }, async () => {
      const t = await createTestApp({ slug: 'fuzz' })
      // The fuzzer's seeded resources: a user with an email, a group with that user, another user.
      const user = await t.scim('POST', '/Users', {
        schemas: [USER_URN],
        userName: 'fuzz-seed-user',
        emails: [{ value: 'fuzz-seed-user@example.com', type: 'work', primary: true }],
      })
      const userId = ((await user.json()) as { id: string }).id
      const group = await t.scim('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'fuzz-seed-group',
        members: [{ value: userId }],
      })
      const groupId = ((await group.json()) as { id: string }).id
      const fresh = await t.scim('POST', '/Users', {
        schemas: [USER_URN],
        userName: 'fuzz-fresh-0',
      })
      const freshId = ((await fresh.json()) as { id: string }).id

      // Served as scimd serves itself: the same Node server limits.
      const limits = t.runtime.deps.config.http
      const server = await new Promise<ReturnType<typeof listen>>((resolve) => {
        const s = listen(t.app.fetch, { hostname: '127.0.0.1', port: 0, limits }, () => resolve(s))
      })
      onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0

      const outcome = await send(
        `http://127.0.0.1:${port}`,
        c.request,
        {
          slug: 'fuzz',
          key: t.key,
          adminKey: ADMIN_KEY,
          user: userId,
          group: groupId,
          fresh: freshId,
          freshGroup: groupId,
        },
        HANG_MS,
      )
      expect(outcome.kind === 'response' ? outcome.status : outcome).toBeLessThan(500)
    })
  }
})
