/**
 * saveNewLinks, the many-rows upsert a full sync's page writes its created links with: new
 * rows are inserted, and a link that had failed before (no remote id, an error, attempts) is
 * replaced by the created object's id with its error cleared, its row id and creation kept.
 */
import { describe, expect, it } from 'vitest'
import {
  findProviderObject,
  insertProvider,
  type NewLink,
  saveNewLinks,
  saveProviderObject,
} from '../../src/store/providers.js'
import { createTestApp } from '../support/app.js'

describe('saveNewLinks', () => {
  it('inserts new links and resets a failed one in one statement', async () => {
    const t = await createTestApp()
    const db = t.runtime.deps.db
    const pk = await insertProvider(db, {
      name: 'p',
      url: 'https://example.invalid/v2',
      tokenSealed: await t.runtime.deps.secrets.seal('token-1234'),
      verifyCertificates: true,
      compatibilityMode: 'default',
      excludeUsersServiceAccount: false,
      filterGroup: null,
      dryRun: false,
      now: '2026-01-01T00:00:00.000Z',
    })
    await saveProviderObject(
      db,
      'user',
      pk,
      'failed-user',
      { lastError: 'POST /Users → 400: no', attempts: 3 },
      { id: 'row-failed', now: '2026-01-01T00:00:00.000Z' },
    )
    const links: NewLink[] = Array.from({ length: 150 }, (_, i) => ({
      objectId: `user-${i}`,
      id: `row-${i}`,
      remoteId: `remote-${i}`,
      lastBody: { userName: `u${i}` },
    }))
    links.push({ objectId: 'failed-user', id: 'row-new', remoteId: 'remote-x', lastBody: {} })
    await saveNewLinks(db, 'user', pk, links, '2026-02-01T00:00:00.000Z')

    const fresh = await findProviderObject(db, 'user', pk, 'user-149')
    expect(fresh).toMatchObject({
      id: 'row-149',
      remoteId: 'remote-149',
      lastBody: { userName: 'u149' },
      lastError: null,
      attempts: 0,
    })
    const reset = await findProviderObject(db, 'user', pk, 'failed-user')
    expect(reset).toMatchObject({
      id: 'row-failed',
      remoteId: 'remote-x',
      lastError: null,
      attempts: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-02-01T00:00:00.000Z',
    })
  })
})
