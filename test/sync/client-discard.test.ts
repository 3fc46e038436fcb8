/**
 * The client's `discardBody` (member PATCHes): a JSON success answer is read and dropped, and
 * the connection serves the next request; a success answer that is not JSON (a proxy's
 * page) is still refused as before, never taken for a pushed change.
 */
import { describe, expect, it } from 'vitest'
import { RemoteError, ScimClient } from '../../src/sync/client.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { PATCH } from './support.js'

describe('ScimClient discardBody', () => {
  it('drops a JSON answer, and still refuses a success that is not JSON', async () => {
    const target = await startMemoryTarget()
    const client = new ScimClient({
      baseUrl: target.url,
      token: target.token,
      verifyCertificates: true,
      dryRun: false,
      maxAttempts: 1,
    })
    const created = await client.request('POST', '/Groups', { displayName: 'Team' })
    const id = created.body.id as string
    const patch = {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Team 2' }],
    }
    const kept = await client.request('PATCH', `/Groups/${id}`, patch)
    expect(kept.body).toMatchObject({ displayName: 'Team 2' })
    const dropped = await client.request('PATCH', `/Groups/${id}`, patch, { discardBody: true })
    expect(dropped.status).toBeLessThan(300)
    expect(dropped.body).toEqual({})
    expect(target.groups.get(id)?.displayName).toBe('Team 2')

    target.quirks.failHtml = 1
    const refused = await client
      .request('PATCH', `/Groups/${id}`, patch, { discardBody: true })
      .catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(RemoteError)
    expect((refused as RemoteError).status).toBe(502)
    await client.close()
  })
})
