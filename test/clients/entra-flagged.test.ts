/**
 * Microsoft Entra ID with the aadOptscim062020 flag: the documented request sequence (client-traces.md §1.4), replayed from
 * fixtures/entra-flagged/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { replay } from './support/replay.js'

describe('Microsoft Entra ID with the aadOptscim062020 flag', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'entra-flagged' })
    const result = await replay(t, 'entra-flagged')
    expect(result.problems).toEqual([])
  })
})
