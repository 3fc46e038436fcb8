/**
 * Google Workspace automated user provisioning: the documented request sequence (client-traces.md §3), replayed from
 * fixtures/google/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { replay } from './support/replay.js'

describe('Google Workspace automated user provisioning', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'google' })
    const result = await replay(t, 'google')
    expect(result.problems).toEqual([])
  })
})
