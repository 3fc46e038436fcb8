/**
 * What scimd sets on each PostgreSQL session it opens. JIT compilation is off: a broad but
 * valid filter once took 20 times as long compiled, holding a pooled connection (connect.ts).
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createTestApp, isPostgres } from '../support/app.js'
import { PG_ONLY } from '../support/pg.js'

describe.skipIf(!isPostgres)(`PostgreSQL sessions (${PG_ONLY})`, () => {
  it('turns JIT compilation off on every pooled connection', async () => {
    const t = await createTestApp({ env: { SCIMD_PG_POOL_MAX: '2' } })
    const db = t.runtime.deps.db
    // Both connections of the pool: two transactions held open at once.
    const settings = await db.transaction().execute(async (a) => {
      const first = sql<{ jit: string }>`show jit`.execute(a)
      const second = db.transaction().execute((b) => sql<{ jit: string }>`show jit`.execute(b))
      return Promise.all([first, second])
    })
    expect(settings.map((r) => r.rows[0]?.jit)).toEqual(['off', 'off'])
    // And the SCIM requests that ran on them still answer.
    expect((await t.scim('GET', '/Users?filter=userName eq "nobody"')).status).toBe(200)
  })
})
