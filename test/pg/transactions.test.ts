/**
 * inTransaction's retry policy on a real database: conflicts are retried on fresh data,
 * give up as a 409 that changed nothing, and a PostgreSQL deadlock costs a retry, not a 500.
 */
import { describe, expect, it } from 'vitest'
import { nowIso } from '../../src/core/ids.js'
import { ScimError } from '../../src/scim/errors.js'
import { inTransaction, VersionConflict } from '../../src/services/deps.js'
import { insertGroup } from '../../src/store/directory.js'
import { isPostgres, PG_ONLY } from '../support/pg.js'
import { startTestRuntime } from '../support/runtime.js'

const TARGET = isPostgres ? 'postgres' : 'sqlite'
const ENV = { SCIMD_SECRET_KEY: 'transactions-secret-0123456789abcdef0123' }

describe(`inTransaction on ${TARGET}`, () => {
  it('retries the whole transaction after a VersionConflict and keeps only the last try', async () => {
    const { runtime } = await startTestRuntime(TARGET, ENV)
    const deps = runtime.deps
    let tries = 0
    const result = await inTransaction(deps, async (tx) => {
      tries++
      await insertGroup(tx, { id: `g-${tries}`, name: `try ${tries}`, now: nowIso() })
      if (tries < 3) throw new VersionConflict()
      return tries
    })
    expect(result).toBe(3)
    const names = await deps.db.selectFrom('groups').select('name').execute()
    expect(names.map((n) => n.name)).toEqual(['try 3'])
  })

  it('answers 409 after repeated conflicts, with nothing written', async () => {
    const { runtime } = await startTestRuntime(TARGET, ENV)
    const deps = runtime.deps
    let tries = 0
    const err = await inTransaction(deps, async (tx) => {
      tries++
      await insertGroup(tx, { id: `g-${tries}`, name: `try ${tries}`, now: nowIso() })
      throw new VersionConflict()
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ScimError)
    expect((err as ScimError).status).toBe(409)
    expect(tries).toBeGreaterThan(1)
    expect(await deps.db.selectFrom('groups').select('id').execute()).toEqual([])
  })

  it('does not retry other errors', async () => {
    const { runtime } = await startTestRuntime(TARGET, ENV)
    let tries = 0
    const err = await inTransaction(runtime.deps, async () => {
      tries++
      throw ScimError.invalidValue('no')
    }).catch((e: unknown) => e)
    expect((err as ScimError).status).toBe(400)
    expect(tries).toBe(1)
  })
})

describe.skipIf(!isPostgres)(`inTransaction and deadlocks (${PG_ONLY})`, () => {
  it('retries the transaction PostgreSQL chose as a deadlock victim; both complete', async () => {
    const { runtime } = await startTestRuntime('postgres', ENV)
    const deps = runtime.deps
    const now = nowIso()
    await insertGroup(deps.db, { id: 'a', name: 'a', now })
    await insertGroup(deps.db, { id: 'b', name: 'b', now })

    // Each transaction locks its first row, waits until the other has too, then wants the
    // other's row: a deadlock on the first try, which the server breaks by failing one.
    let arrived = 0
    let release: () => void = () => {}
    const bothLocked = new Promise<void>((resolve) => {
      release = resolve
    })
    const attempts = { ab: 0, ba: 0 }
    const crosswise = (first: string, second: string, name: 'ab' | 'ba') =>
      inTransaction(deps, async (tx) => {
        attempts[name]++
        await tx.updateTable('groups').set({ name }).where('id', '=', first).execute()
        if (attempts[name] === 1) {
          if (++arrived === 2) release()
          await bothLocked
        }
        await tx.updateTable('groups').set({ name }).where('id', '=', second).execute()
        return name
      })
    const results = await Promise.all([crosswise('a', 'b', 'ab'), crosswise('b', 'a', 'ba')])
    expect(results).toEqual(['ab', 'ba'])
    expect(attempts.ab + attempts.ba).toBe(3)
    const rows = await deps.db.selectFrom('groups').select('name').execute()
    const names = new Set(rows.map((r) => r.name))
    expect(names.size).toBe(1)
  })
})
