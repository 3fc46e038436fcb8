/**
 * OneLogin SCIM Provisioner with SAML: the documented request sequence (client-traces.md §4), replayed from
 * fixtures/onelogin/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { replay } from './support/replay.js'

describe('OneLogin SCIM Provisioner with SAML', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'onelogin' })
    const result = await replay(t, 'onelogin')
    expect(result.problems).toEqual([])
  })
})
