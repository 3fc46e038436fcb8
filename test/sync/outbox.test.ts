import { describe, expect, it } from 'vitest'
import { claimOutbox } from '../../src/store/outbox.js'
import { insertProvider } from '../../src/store/providers.js'
import { createTestApp } from '../support/app.js'

async function withProvider() {
  const t = await createTestApp()
  const pk = await insertProvider(t.runtime.deps.db, {
    name: 'remote',
    url: 'http://127.0.0.1:1/v2',
    tokenSealed: await t.runtime.deps.secrets.seal('remote-token'),
    verifyCertificates: true,
    compatibilityMode: 'default',
    excludeUsersServiceAccount: false,
    filterGroup: null,
    dryRun: false,
    now: new Date().toISOString(),
  })
  return { t, pk }
}

async function pending(t: Awaited<ReturnType<typeof createTestApp>>, pk: number) {
  const rows = await claimOutbox(t.runtime.deps.db, pk, '9999', 1000)
  return rows.map((r) => [r.kind, r.objectId, r.memberId])
}

describe('outbox', () => {
  it('records each SCIM change in the same transaction, one row per provider', async () => {
    const { t, pk } = await withProvider()
    const user = (await (await t.scim('POST', '/Users', { userName: 'ada' })).json()) as {
      id: string
    }
    const group = (await (
      await t.scim('POST', '/Groups', { displayName: 'eng', members: [{ value: user.id }] })
    ).json()) as { id: string }
    await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Ada L' }],
    })
    await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }],
    })
    await t.scim('DELETE', `/Groups/${group.id}`)
    await t.scim('DELETE', `/Users/${user.id}`)
    const rows = await pending(t, pk)
    const userPk = (
      await t.runtime.deps.db
        .selectFrom('outbox')
        .select('member_id')
        .where('kind', '=', 'member')
        .executeTakeFirstOrThrow()
    ).member_id
    expect(rows).toEqual([
      ['user', user.id, null],
      ['group', group.id, null],
      ['member', group.id, userPk],
      ['user', user.id, null],
      ['member', group.id, userPk],
      ['group', group.id, null],
      ['user', user.id, null],
    ])
  })

  it('writes nothing for a change that fails, and nothing when there is no provider', async () => {
    const { t, pk } = await withProvider()
    await t.scim('POST', '/Users', { userName: 'ada' })
    const dup = await t.scim('POST', '/Users', { userName: 'ADA' })
    expect(dup.status).toBe(409)
    expect(await pending(t, pk)).toHaveLength(1)

    const bare = await createTestApp({ slug: 'bare' })
    await bare.scim('POST', '/Users', { userName: 'bob' })
    const n = await bare.runtime.deps.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(n.n)).toBe(0)
  })

  it('records one member row per member of a 700-member add, cut into several statements', async () => {
    const { t, pk } = await withProvider()
    const ids: string[] = []
    for (let i = 0; i < 700; i += 50) {
      const batch = Array.from({ length: 50 }, async (_, k) => {
        const res = await t.scim('POST', '/Users', { userName: `m${i + k}` })
        return ((await res.json()) as { id: string }).id
      })
      ids.push(...(await Promise.all(batch)))
    }
    const group = (await (await t.scim('POST', '/Groups', { displayName: 'big' })).json()) as {
      id: string
    }
    await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }],
    })
    const members = await t.runtime.deps.db
      .selectFrom('outbox')
      .select('member_id')
      .where('kind', '=', 'member')
      .where('object_id', '=', group.id)
      .where('provider_id', '=', pk)
      .execute()
    const userPks = await t.runtime.deps.db
      .selectFrom('scim_source_users')
      .select('user_id')
      .where('id', 'in', ids.slice(0, 500))
      .execute()
    expect(members).toHaveLength(700)
    expect(new Set(members.map((m) => m.member_id)).size).toBe(700)
    for (const u of userPks) expect(members.map((m) => m.member_id)).toContain(String(u.user_id))
  })
})
