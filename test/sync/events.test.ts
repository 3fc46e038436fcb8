/**
 * The provider sync's events (issue 29 item 1, docs/events.md): a finished full sync with its
 * counts and duration, each object the remote refuses, each mapping that fails, a full sync
 * that could not finish; found at /api/v3/events/events/ with filters, never with the token.
 * Also the status bug where a request stamped the same instant as the start stayed pending.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fullSyncDue } from '../../src/sync/worker.js'
import { createTestApp, type TestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, worker } from './support.js'

type Json = Record<string, unknown>

async function events(t: TestApp, query: string): Promise<Json[]> {
  const res = await t.admin('GET', `/events/events/?${query}`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { results: Json[] }).results
}

describe('provider sync events', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('records the full sync, each refused object and each failed mapping', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget({ refuseUserName: 'refused' })
    const failing = await t.admin('POST', '/propertymappings/provider/scim/', {
      name: 'breaks',
      expression: 'user.username = "broken" ? $error("cannot map " & user.username) : {}',
    })
    const mappingPk = ((await failing.json()) as Json).pk as string
    await t.scim('POST', '/Users', { userName: 'refused' })
    await t.scim('POST', '/Users', { userName: 'broken' })
    await t.scim('POST', '/Users', { userName: 'fine' })
    const pk = await addProvider(t, target)
    const changed = await t.admin('PATCH', `/providers/scim/${pk}/`, {
      property_mappings: [mappingPk],
    })
    expect(changed.status).toBe(200)
    await worker(t).runOnce()

    const byProvider = `context_model_name=scimprovider&context_model_pk=${pk}`
    const done = await events(t, `action=system_task_execution&${byProvider}`)
    expect(done).toHaveLength(1)
    expect(done[0]).toMatchObject({
      action: 'system_task_execution',
      app: 'scimd.providers.scim',
      user: {},
      context: {
        task: 'provider_full_sync',
        status: 'warning',
        failed: 2,
        deleted: 0,
        duration_ms: expect.any(Number),
        model: { app: 'authentik_providers_scim', model_name: 'scimprovider', pk },
      },
    })
    // Every directory user was looked at: the three, the bootstrap admin, the service account.
    expect((done[0] as Json).context).toMatchObject({ users: 5 })

    const refused = await events(t, `action=custom_provider_object_failed&${byProvider}`)
    expect(refused.length).toBeGreaterThanOrEqual(1)
    expect(refused[0]?.context).toMatchObject({
      status: 400,
      message: expect.stringMatching(/POST .*\/Users → 400: refused by policy/),
      object: { model: 'user', pk: expect.any(String) },
    })
    const mapping = await events(t, `action=property_mapping_exception&${byProvider}`)
    expect(mapping.length).toBeGreaterThanOrEqual(1)
    expect(mapping[0]?.context).toMatchObject({
      mapping: 'breaks',
      message: expect.stringMatching(/cannot map broken/),
      object: { model: 'user' },
    })
    // Never the token, in any event.
    const all = JSON.stringify(await events(t, 'page_size=100'))
    expect(all).not.toContain(target.token)
  })

  it('records a full sync that could not finish, with the remote’s error', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget({ fail503: 1000 })
    const pk = await addProvider(t, target)
    await worker(t).runOnce()
    const failed = await events(
      t,
      `action=system_task_exception&context_model_name=scimprovider&context_model_pk=${pk}`,
    )
    expect(failed).toHaveLength(1)
    expect(failed[0]?.context).toMatchObject({
      task: 'provider_full_sync',
      status: 'error',
      message: expect.stringMatching(/503/),
    })
    expect(JSON.stringify(failed)).not.toContain(target.token)
  })

  it('records one event when incremental pushes start failing and one when they go through again', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    const byProvider = `context_model_name=scimprovider&context_model_pk=${pk}`
    const outboxEvents = async (action: string) =>
      (await events(t, `action=${action}&${byProvider}`)).filter(
        (e) => (e.context as Json).task === 'provider_outbox',
      )
    expect(await outboxEvents('system_task_exception')).toHaveLength(0)

    // The remote is down (503 beyond the client's retries) for three passes, each with a
    // change that is due: one event, not one per pass or per retry.
    target.quirks.fail503 = 1000
    for (const name of ['ada', 'bob', 'cy']) {
      await t.scim('POST', '/Users', { userName: name })
      await t.runtime.deps.db.updateTable('outbox').set({ available_at: '2000-01-01' }).execute()
      await w.runOnce()
    }
    const failed = await outboxEvents('system_task_exception')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.context).toMatchObject({
      task: 'provider_outbox',
      status: 'error',
      deferred: true,
      changes: 1,
      message: expect.stringMatching(/503/),
    })
    expect(JSON.stringify(failed)).not.toContain(target.token)
    const down = (await (await t.admin('GET', `/providers/scim/${pk}/sync/status/`)).json()) as Json
    expect(down).toMatchObject({ last_sync_status: 'error' })

    // Back: the changes go through, the status clears and one event says so.
    target.quirks.fail503 = 0
    await t.runtime.deps.db.updateTable('outbox').set({ available_at: '2000-01-01' }).execute()
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.userName).sort()).toEqual([
      'ada',
      'akadmin',
      'bob',
      'cy',
    ])
    const back = await outboxEvents('system_task_execution')
    expect(back).toHaveLength(1)
    expect(back[0]?.context).toMatchObject({
      task: 'provider_outbox',
      status: 'success',
      changes: 3,
    })
    const up = (await (await t.admin('GET', `/providers/scim/${pk}/sync/status/`)).json()) as Json
    expect(up).toMatchObject({ last_sync_status: 'success' })

    // A later pass with nothing failing records nothing more; a new outage records again.
    await t.scim('POST', '/Users', { userName: 'dee' })
    await w.runOnce()
    expect(await outboxEvents('system_task_execution')).toHaveLength(1)
    target.quirks.fail503 = 1000
    await t.scim('POST', '/Users', { userName: 'eve' })
    await w.runOnce()
    expect(await outboxEvents('system_task_exception')).toHaveLength(2)
  })

  it('records a push that fails because the remote is not there at all', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    await target.stop()
    await t.scim('POST', '/Users', { userName: 'ada' })
    await w.runOnce()
    const failed = (
      await events(
        t,
        `action=system_task_exception&context_model_name=scimprovider&context_model_pk=${pk}`,
      )
    ).filter((e) => (e.context as Json).task === 'provider_outbox')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.context).toMatchObject({
      status: 'error',
      deferred: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    })
  })

  it('does not stay "full sync requested" when the request and the start share an instant', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const pk = await addProvider(t, target)
    // Date frozen: the request (provider create) and the start are the same millisecond.
    vi.useFakeTimers({ toFake: ['Date'] })
    const now = new Date()
    vi.setSystemTime(now)
    await t.runtime.deps.db
      .updateTable('providers')
      .set({ full_sync_requested_at: now.toISOString() })
      .where('id', '=', pk)
      .execute()
    await worker(t).runOnce()
    const status = (await (
      await t.admin('GET', `/providers/scim/${pk}/sync/status/`)
    ).json()) as Json
    expect(status).toMatchObject({ last_sync_status: 'success', full_sync_pending: false })
    const row = await t.runtime.deps.db
      .selectFrom('providers')
      .selectAll()
      .where('id', '=', pk)
      .executeTakeFirstOrThrow()
    const { toProvider } = await import('../../src/store/providers.js')
    expect(fullSyncDue(toProvider(row), Date.now(), 3_600_000)).toBe(false)
  })
})
