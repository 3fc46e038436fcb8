/**
 * Okta, App Integration Wizard app (every update is a PUT): the documented request sequence (client-traces.md §2.1–2.2), replayed from
 * fixtures/okta-aiw/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { replay } from './support/replay.js'

describe('Okta, App Integration Wizard app (every update is a PUT)', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'okta-aiw' })
    const result = await replay(t, 'okta-aiw')
    expect(result.problems).toEqual([])
  })
})
