/**
 * Okta, OIN integration (PATCH for (de)activation and groups, PUT for profile updates): the
 * documented request sequence (client-traces.md §2.1–2.2), replayed from fixtures/okta/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, fixtureWith } from '../support/app.js'
import { replay } from './support/replay.js'

describe('Okta, OIN integration', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'okta' })
    const result = await replay(t, 'okta')
    expect(result.problems).toEqual([])
  })

  it('imports every user exactly once when paging with startIndex and count', async () => {
    const t = await createTestApp({ slug: 'okta' })
    const created: string[] = []
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await t.scim(
        'POST',
        '/Users',
        fixtureWith('okta/create-user.json', {
          'test.user@okta.local': `user${n}@okta.local`,
          '00ujl29u0le5T6Aj10h7': `00ujl29u0le5T6Aj10h${n}`,
        }),
      )
      expect(res.status).toBe(201)
      created.push(((await res.json()) as { id: string }).id)
    }
    const seen: string[] = []
    for (let startIndex = 1; startIndex <= 5; startIndex += 2) {
      const res = await t.scim('GET', `/Users?startIndex=${startIndex}&count=2`)
      const page = (await res.json()) as {
        totalResults: number
        startIndex: number
        itemsPerPage: number
        Resources: { id: string }[]
      }
      expect(page).toMatchObject({ totalResults: 5, startIndex })
      expect(page.itemsPerPage).toBe(page.Resources.length)
      seen.push(...page.Resources.map((r) => r.id))
    }
    expect(seen.sort()).toEqual(created.sort())
  })
})
