/**
 * Microsoft Entra ID, default client (no aadOptscim062020 flag): the documented request sequence (client-traces.md §1), replayed from
 * fixtures/entra/sequence.json against a fresh app, checking every response the client uses.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, fixture } from '../support/app.js'
import { replay } from './support/replay.js'

describe('Microsoft Entra ID, default client (no aadOptscim062020 flag)', () => {
  it('serves the documented request sequence', async () => {
    const t = await createTestApp({ slug: 'entra' })
    const result = await replay(t, 'entra')
    expect(result.problems).toEqual([])
  })

  it('applies a multi-operation PATCH all or nothing', async () => {
    const t = await createTestApp({ slug: 'entra' })
    const created = await t.scim('POST', '/Users', fixture('entra/create-user.json'))
    const { id } = (await created.json()) as { id: string }
    const body = fixture<{ Operations: unknown[] }>('entra/patch-user-replace-multi.json')
    body.Operations.push({ op: 'Replace', path: 'active', value: 'Maybe' })
    const res = await t.scim('PATCH', `/Users/${id}`, body)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' })
    const after = (await (await t.scim('GET', `/Users/${id}`)).json()) as Record<string, unknown>
    expect(after).toMatchObject({ externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef' })
    expect(after).not.toHaveProperty('displayName')
    expect(after.meta).toMatchObject({ version: 'W/"1"' })
  })
})
