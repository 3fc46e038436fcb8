import { describe, expect, it } from 'vitest'
import * as sources from '../../src/services/sources.js'
import { createTestApp } from '../support/app.js'
import { isPostgres, PG_ONLY } from '../support/pg.js'

describe.skipIf(!isPostgres)(`deleting a source during provisioning (${PG_ONLY})`, () => {
  it('leaves no orphaned directory user and answers every create without a 500', async () => {
    const t = await createTestApp()
    const { db } = t.runtime.deps
    for (let round = 0; round < 5; round++) {
      const slug = `race${round}`
      const other = await t.createSource(slug)
      const create = (i: number) =>
        t.app.request(`http://scimd.test/source/scim/${slug}/v2/Users`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${other.key}`,
            'Content-Type': 'application/scim+json',
          },
          body: JSON.stringify({ userName: `${slug}-user-${i}` }),
        })
      const creates = Array.from({ length: 12 }, (_, i) => create(i))
      const deletion = sources.deleteSource(t.runtime.deps, slug)
      const more = Array.from({ length: 12 }, (_, i) => create(100 + i))
      const responses = await Promise.all([...creates, ...more])
      await deletion
      for (const res of responses) expect([201, 401, 404]).toContain(res.status)
      const orphans = await db
        .selectFrom('users')
        .select('username')
        .where('username', 'like', `${slug}-user-%`)
        .execute()
      expect(orphans).toEqual([])
    }
  })
})
