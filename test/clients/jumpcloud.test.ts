/**
 * JumpCloud custom SCIM integration: the documented request sequence (client-traces.md §5), replayed from
 * fixtures/jumpcloud/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { replay } from './support/replay.js'

describe('JumpCloud custom SCIM integration', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'jumpcloud' })
    const result = await replay(t, 'jumpcloud')
    expect(result.problems).toEqual([])
  })
})
