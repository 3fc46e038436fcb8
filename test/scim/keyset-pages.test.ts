/**
 * Keyset continuation of list pages (services/resource-common.ts listRecords): a page that
 * starts where the last one ended is read after that page's last id instead of by OFFSET, and
 * only while the database is in the state that page was read in. Needs a SQLite file: an
 * in-memory database (and PostgreSQL) has no state version, and nothing is kept there.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ScimUserRecord, Source } from '../../src/core/domain.js'
import { USER_RESOURCE } from '../../src/scim/schema/resource-types.js'
import { listRecords } from '../../src/services/resource-common.js'
import type { PageQuery } from '../../src/store/scim-resources/pages.js'
import * as store from '../../src/store/scim-resources/users.js'
import { findSourceBySlug } from '../../src/store/sources.js'
import { createTestApp, type TestApp } from '../support/app.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scimd-keyset-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const USERS = 25

async function appWithUsers(): Promise<{ t: TestApp; source: Source; ids: string[] }> {
  const t = await createTestApp({ env: { DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}` } })
  for (let i = 0; i < USERS; i++) {
    const res = await t.scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: `keyset${i}@example.com`,
    })
    expect(res.status).toBe(201)
  }
  const source = await findSourceBySlug(t.runtime.deps.db, t.slug)
  if (!source) throw new Error('no source')
  const all = await t.scim('GET', `/Users?count=${USERS}`)
  const ids = ((await all.json()) as { Resources: { id: string }[] }).Resources.map((r) => r.id)
  return { t, source, ids }
}

/** The users pages, recording the `after` id each store read was given. */
function recordingPages(afters: (string | undefined)[]) {
  return {
    list: (db: Parameters<typeof store.listScimUsers>[0], sourceId: string, page: PageQuery) => {
      afters.push(page.after)
      return store.listScimUsers(db, sourceId, page)
    },
    count: store.countScimUsers,
  }
}

/** Pages of 10 users from `startIndex`, read through listRecords; `afters` records each read. */
function pageReader(t: TestApp, source: Source, afters: (string | undefined)[]) {
  const pages = recordingPages(afters)
  return (startIndex: number) =>
    listRecords<ScimUserRecord>(
      t.runtime.deps,
      source,
      USER_RESOURCE,
      params(startIndex, 10),
      undefined,
      pages,
    )
}

const params = (startIndex: number, count: number, filter?: string) => ({
  filter,
  startIndex,
  count,
  sortBy: undefined,
  sortOrder: 'ascending' as const,
  attributes: undefined,
  excludedAttributes: undefined,
})

describe('keyset continuation of list pages', () => {
  it('reads the page after a full page from its last id, with the same users and total', async () => {
    const { t, source, ids } = await appWithUsers()
    const afters: (string | undefined)[] = []
    const page = pageReader(t, source, afters)
    const walked: string[] = []
    for (const startIndex of [1, 11, 21]) {
      const { records, totalResults } = await page(startIndex)
      expect(totalResults).toBe(USERS)
      walked.push(...records.map((r) => r.id))
    }
    expect(walked).toEqual(ids)
    // The first page by OFFSET, each next one after the previous page's last id.
    expect(afters).toEqual([undefined, ids[9], ids[19]])
    // A startIndex no page ended at is read by OFFSET.
    afters.length = 0
    const { records } = await page(6)
    expect(records.map((r) => r.id)).toEqual(ids.slice(5, 15))
    expect(afters).toEqual([undefined])
  })

  it('reads by OFFSET again once the database changed, so the page is still exact', async () => {
    const { t, source, ids } = await appWithUsers()
    const afters: (string | undefined)[] = []
    const page = pageReader(t, source, afters)
    await page(1)
    // Removing a user of the first page moves every later user one place forward.
    expect((await t.scim('DELETE', `/Users/${ids[3]}`)).status).toBe(204)
    const { records, totalResults } = await page(11)
    const remaining = ids.filter((_, i) => i !== 3)
    expect(records.map((r) => r.id)).toEqual(remaining.slice(10, 20))
    expect(totalResults).toBe(USERS - 1)
    expect(afters.at(-1)).toBeUndefined()
  })

  it('keeps continuations apart by filter, and answers the same pages over HTTP', async () => {
    const { t, ids } = await appWithUsers()
    const get = async (query: string) =>
      (
        (await (await t.scim('GET', `/Users?${query}`)).json()) as {
          Resources: { id: string; userName: string }[]
        }
      ).Resources
    const everyone = await get(`count=${USERS}`)
    // keyset1 and keyset10..19: 11 users, in id order.
    const matching = everyone.filter((u) => u.userName.startsWith('keyset1')).map((u) => u.id)
    const filter = encodeURIComponent('userName sw "keyset1"')
    expect((await get(`filter=${filter}&count=5`)).map((r) => r.id)).toEqual(matching.slice(0, 5))
    await get('count=5')
    // Both queries have a continuation for startIndex 6 now; each must use its own.
    expect((await get('startIndex=6&count=5')).map((r) => r.id)).toEqual(ids.slice(5, 10))
    const next = await get(`filter=${filter}&startIndex=6&count=5`)
    expect(next.map((r) => r.id)).toEqual(matching.slice(5, 10))
  })
})
