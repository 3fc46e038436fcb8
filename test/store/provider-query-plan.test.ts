/**
 * Plans of the provider's hot queries on SQLite. The per-page link reads are probes of the
 * (provider_id, user_id) key, never a scan of the provider's links: `remote_id is not null`
 * once made SQLite pick the remote_id index and read every link for each page of group
 * members (O(directory) per page). The status's failed links and the outbox rows of a long
 * member list likewise (docs/benchmark.md, round 17).
 */
import { CompiledQuery } from 'kysely'
import { describe, expect, it } from 'vitest'
import { insertMemberRows } from '../../src/store/outbox.js'
import { selectProviderObjects, selectRemoteUserIds } from '../../src/store/providers.js'
import { createTestApp, isPostgres } from '../support/app.js'

describe.skipIf(isPostgres)('provider link reads (SQLite query plan)', () => {
  it('looks up remote ids by the (provider_id, user_id) key', async () => {
    const t = await createTestApp()
    const compiled = selectRemoteUserIds(t.runtime.deps.db, 1, ['a', 'b', 'c']).compile()
    const result = await t.runtime.deps.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
    )
    const details = result.rows.map((r) => r.detail).join('\n')
    expect(details).toMatch(
      /SEARCH provider_users USING INDEX \S+ \(provider_id=\? AND user_id=\?\)/,
    )
    expect(details).not.toContain('provider_users_remote_idx')
  })
})

describe.skipIf(isPostgres)('the sync status (SQLite query plan)', () => {
  it("lists a provider's failed links from their partial index, not by sorting every link", async () => {
    const t = await createTestApp()
    for (const kind of ['user', 'group'] as const) {
      const compiled = selectProviderObjects(
        t.runtime.deps.db,
        kind,
        { providerId: 1 },
        { offset: 0, limit: 10 },
        { withErrors: true },
      ).compile()
      const result = await t.runtime.deps.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      )
      const details = result.rows.map((r) => r.detail).join('\n')
      expect(details).toContain(`USING INDEX provider_${kind}s_failed_idx (provider_id=?)`)
    }
  })
})

describe.skipIf(isPostgres)('the outbox rows of a long member list (SQLite query plan)', () => {
  it('reads the providers first, so a target without one looks up no member', async () => {
    const t = await createTestApp()
    const compiled = insertMemberRows(t.runtime.deps.db, 'g', 'now', [1, 2, 3]).compile()
    const result = await t.runtime.deps.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
    )
    const details = result.rows.map((r) => r.detail)
    const providers = details.findIndex((d) => /\bp\b/.test(d))
    const users = details.findIndex((d) => /SEARCH u\b/.test(d))
    expect(providers).toBeGreaterThanOrEqual(0)
    expect(users).toBeGreaterThan(providers)
  })
})
