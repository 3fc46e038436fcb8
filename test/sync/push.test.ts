import { describe, expect, it, onTestFinished } from 'vitest'
import { registerProviderMetrics } from '../../src/services/providers.js'
import { createTestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, outboxCount, PATCH, scimJson, worker } from './support.js'

describe('pushing to an RFC target', () => {
  it('full-syncs what existed before the provider, then pushes each change', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const ada = await scimJson<{ id: string }>(
      await t.scim('POST', '/Users', {
        userName: 'ada',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@example.com', primary: true }],
      }),
    )
    await addProvider(t, target)
    const w = worker(t)
    await w.runOnce()
    const remoteAda = [...target.users.values()].find((u) => u.userName === 'ada')
    expect(remoteAda).toMatchObject({
      userName: 'ada',
      externalId: ada.id,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace',
      active: true,
      emails: [{ value: 'ada@example.com', primary: true }],
    })
    // The bootstrap admin and the source's service account are directory users too.
    expect([...target.users.values()].map((u) => u.userName)).toContain('akadmin')

    const group = await scimJson<{ id: string }>(
      await t.scim('POST', '/Groups', { displayName: 'eng', members: [{ value: ada.id }] }),
    )
    await w.runOnce()
    const remoteGroup = [...target.groups.values()].find((g) => g.displayName === 'eng')
    expect(remoteGroup?.externalId).toBe(group.id)
    expect(remoteGroup?.members).toEqual([{ value: remoteAda?.id }])
    expect(await outboxCount(t)).toBe(0)

    // A rename is one PATCH of the changed attributes; an unchanged re-save sends nothing.
    target.requests.length = 0
    await t.scim('PATCH', `/Users/${ada.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Countess' }],
    })
    await w.runOnce()
    expect(target.writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /v2/Users/${remoteAda?.id}`,
    ])
    expect(remoteAda?.displayName).toBe('Countess')
    target.requests.length = 0
    await t.scim('PATCH', `/Users/${ada.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Countess' }],
    })
    await t.scim('PUT', `/Users/${ada.id}`, {
      userName: 'ada',
      displayName: 'Countess',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', primary: true }],
    })
    await w.runOnce()
    expect(target.writes()).toEqual([])

    // Deletes remove the remote object and the link.
    await t.scim('DELETE', `/Groups/${group.id}`)
    await t.scim('DELETE', `/Users/${ada.id}`)
    await w.runOnce()
    expect([...target.groups.values()].map((g) => g.displayName)).toEqual(['authentik Admins'])
    expect([...target.users.values()].some((u) => u.userName === 'ada')).toBe(false)
    const links = await t.runtime.deps.db
      .selectFrom('provider_users')
      .select('user_id')
      .where('user_id', '=', ada.id)
      .execute()
    expect(links).toEqual([])
  })

  it('sends one PATCH with the one member added or removed, whatever the group size', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const ids: string[] = []
    for (let i = 0; i < 30; i++) {
      ids.push(
        (await scimJson<{ id: string }>(await t.scim('POST', '/Users', { userName: `u${i}` }))).id,
      )
    }
    const group = await scimJson<{ id: string }>(
      await t.scim('POST', '/Groups', {
        displayName: 'big',
        members: ids.slice(0, 29).map((value) => ({ value })),
      }),
    )
    await addProvider(t, target)
    const w = worker(t)
    await w.runOnce()
    const remote = [...target.groups.values()].find((g) => g.displayName === 'big')
    expect(remote?.members).toHaveLength(29)

    target.requests.length = 0
    await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ids[29] }] }],
    })
    await w.runOnce()
    const writes = target.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]?.method).toBe('PATCH')
    const u29 = [...target.users.values()].find((u) => u.userName === 'u29')
    expect(writes[0]?.body).toEqual({
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: u29?.id }] }],
    })
    expect(remote?.members).toHaveLength(30)

    target.requests.length = 0
    await t.scim('PATCH', `/Groups/${group.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${ids[0]}"]` }],
    })
    await w.runOnce()
    expect(target.writes()).toHaveLength(1)
    expect(remote?.members).toHaveLength(29)
  })
})

describe('the running worker', () => {
  it('pushes a change in the background, and the outbox gauges show what waits', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    registerProviderMetrics(t.runtime.deps)
    await t.scim('POST', '/Users', { userName: 'queued' })
    const metrics = t.runtime.deps.metrics
    expect(metrics).toBeDefined()
    const before = await metrics?.render()
    expect(before).toContain(`scimd_provider_outbox_depth{provider="${pk}"} 1`)
    expect(before).toMatch(
      new RegExp(`scimd_provider_outbox_lag_seconds\\{provider="${pk}"\\} [0-9.]+`),
    )

    const w = worker(t)
    w.start()
    onTestFinished(() => w.stop())
    const deadline = Date.now() + 30_000
    while (
      ![...target.users.values()].some((u) => u.userName === 'queued') ||
      (await outboxCount(t)) > 0
    ) {
      if (Date.now() > deadline) throw new Error('the worker did not push in 30 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await w.stop()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['akadmin', 'queued'])
  })
})
