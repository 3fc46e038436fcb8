/**
 * Every admin change is in the event log (issue 29): providers, property mappings, local
 * users and groups, as the admin who made it and in the same transaction (a refused change
 * records nothing), and never with a provider's token.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { dialectOf } from '../../src/store/database.js'
import { createTestApp, type TestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

/** The admin's events matching `query`, oldest first. */
async function events(t: TestApp, query: string): Promise<Json[]> {
  const res = await t.admin('GET', `/events/events/?username=akadmin&ordering=created&${query}`)
  expect(res.status).toBe(200)
  return (await json(res)).results
}

/** [action, model_name, pk, name, fields] of each event, to compare a whole history at once. */
function summary(list: Json[]) {
  return list.map((e) => [
    e.action,
    e.context.model?.model_name,
    e.context.model?.pk,
    e.context.model?.name,
    e.context.fields,
  ])
}

/** Every stored event row as text: what a token must never be part of. */
async function storedEvents(t: TestApp): Promise<string> {
  const rows = await t.runtime.deps.db.selectFrom('events').selectAll().execute()
  return JSON.stringify(rows)
}

async function count(t: TestApp): Promise<number> {
  const res = await t.admin('GET', '/events/events/?page_size=1')
  return (await json(res)).pagination.count
}

describe('admin changes in the event log', () => {
  it('records a provider’s creation, changes, sync requests and deletion, never its token', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    try {
      const firstToken = 'provider-secret-first-0123456789'
      const secondToken = 'provider-secret-second-0123456789'
      const created = await t.admin('POST', '/providers/scim/', {
        name: 'AWS',
        url: target.url,
        token: firstToken,
        dry_run: true,
      })
      expect(created.status).toBe(201)
      const pk = (await json(created)).pk as number
      expect(
        (await t.admin('PATCH', `/providers/scim/${pk}/`, { name: 'AWS prod', token: secondToken }))
          .status,
      ).toBe(200)
      expect(
        (
          await t.admin('PUT', `/providers/scim/${pk}/`, {
            name: 'AWS prod',
            url: target.url,
            token: target.token,
            dry_run: true,
          })
        ).status,
      ).toBe(200)
      expect((await t.admin('POST', `/providers/scim/${pk}/sync/full/`)).status).toBe(202)
      const user = await json(await t.admin('POST', '/core/users/', { username: 'ada', name: 'A' }))
      const synced = await t.admin('POST', `/providers/scim/${pk}/sync/object/`, {
        sync_object_model: 'authentik.core.models.User',
        sync_object_id: String(user.pk),
      })
      expect(synced.status).toBe(200)
      const links = await json(await t.admin('GET', `/providers/scim_users/?provider__id=${pk}`))
      const link = links.results[0] as Json
      expect((await t.admin('DELETE', `/providers/scim_users/${link.id}/`)).status).toBe(204)
      expect((await t.admin('DELETE', `/providers/scim/${pk}/`)).status).toBe(204)

      const list = await events(t, 'context_model_app=authentik_providers_scim')
      // PUT sets what it is given; a new token (and the url) asks for a full sync.
      const put = ['name', 'url', 'token', 'dry_run', 'full_sync_requested_at']
      expect(summary(list)).toEqual([
        ['model_created', 'scimprovider', pk, 'AWS', undefined],
        [
          'model_updated',
          'scimprovider',
          pk,
          'AWS prod',
          ['name', 'token', 'full_sync_requested_at'],
        ],
        ['model_updated', 'scimprovider', pk, 'AWS prod', put],
        ['model_updated', 'scimprovider', pk, 'AWS prod', ['full_sync_requested_at']],
        ['custom_sync_object', 'scimprovider', pk, 'AWS prod', undefined],
        ['model_deleted', 'scimprovideruser', link.id, user.uuid, undefined],
        ['model_deleted', 'scimprovider', pk, 'AWS prod', undefined],
      ])
      expect(list[4]?.context).toMatchObject({
        object: { app: 'authentik_core', model_name: 'user', pk: user.pk, name: 'ada' },
        override_dry_run: false,
        successful: true,
      })
      expect(list[5]?.context.provider).toBe(pk)
      for (const e of list) {
        expect(e.user).toMatchObject({ username: 'akadmin' })
        expect(e.app).toBe('scimd.api')
      }
      // No token, neither as given nor in any other event, is stored.
      const stored = await storedEvents(t)
      for (const secret of [firstToken, secondToken, target.token]) {
        expect(stored).not.toContain(secret)
      }
    } finally {
      await target.stop()
    }
  })

  it('records nothing for a provider change that is refused', async () => {
    const t = await createTestApp()
    const before = await count(t)
    const bad = await t.admin('POST', '/providers/scim/', {
      name: 'x',
      url: 'ftp://example.com',
      token: 'never-stored-token-0123456789',
    })
    expect(bad.status).toBe(400)
    expect((await t.admin('PATCH', '/providers/scim/999/', { name: 'y' })).status).toBe(404)
    expect((await t.admin('DELETE', '/providers/scim/999/')).status).toBe(404)
    expect(await count(t)).toBe(before)
    expect(await storedEvents(t)).not.toContain('never-stored-token-0123456789')
  })

  it('records property mappings of sources and providers; a managed one refused records nothing', async () => {
    const t = await createTestApp()
    const made = await t.admin('POST', '/propertymappings/source/scim/', {
      name: 'dept',
      expression: '{}',
    })
    expect(made.status).toBe(201)
    const id = (await json(made)).pk as string
    const edit = { name: 'department', expression: '{ "a": 1 }' }
    expect((await t.admin('PATCH', `/propertymappings/source/scim/${id}/`, edit)).status).toBe(200)
    expect((await t.admin('DELETE', `/propertymappings/source/scim/${id}/`)).status).toBe(204)
    const provider = await json(
      await t.admin('POST', '/propertymappings/provider/scim/', { name: 'p', expression: '{}' }),
    )

    expect(summary(await events(t, 'context_model_name=scimsourcepropertymapping'))).toEqual([
      ['model_created', 'scimsourcepropertymapping', id, 'dept', undefined],
      ['model_updated', 'scimsourcepropertymapping', id, 'department', ['name', 'expression']],
      ['model_deleted', 'scimsourcepropertymapping', id, 'department', undefined],
    ])
    const [createdProvider] = await events(t, 'context_model_name=scimmapping')
    expect(createdProvider).toMatchObject({
      action: 'model_created',
      user: { username: 'akadmin' },
      context: {
        model: { app: 'authentik_providers_scim', model_name: 'scimmapping', pk: provider.pk },
      },
    })

    // Refused changes: a syntax error (400), a taken name (400), a managed mapping (403).
    const before = await count(t)
    const bad = await t.admin('POST', '/propertymappings/source/scim/', {
      name: 'x',
      expression: '{ "a": ',
    })
    expect(bad.status).toBe(400)
    const taken = await t.admin('POST', '/propertymappings/provider/scim/', {
      name: 'p',
      expression: '{}',
    })
    expect(taken.status).toBe(400)
    const managed = (
      await json(await t.admin('GET', '/propertymappings/source/scim/?managed__isnull=false'))
    ).results[0] as Json
    expect(managed).toBeDefined()
    const path = `/propertymappings/source/scim/${managed.pk}/`
    expect((await t.admin('PATCH', path, { name: 'mine' })).status).toBe(403)
    expect((await t.admin('DELETE', path)).status).toBe(403)
    expect(await count(t)).toBe(before)
  })

  it('records local users and groups and their members; a provisioned user refused records nothing', async () => {
    const t = await createTestApp()
    const user = await json(
      await t.admin('POST', '/core/users/', { username: 'grace', name: 'Grace' }),
    )
    expect((await t.admin('PATCH', `/core/users/${user.pk}/`, { is_active: false })).status).toBe(
      200,
    )
    const group = await json(await t.admin('POST', '/core/groups/', { name: 'ops' }))
    const add = await t.admin('POST', `/core/groups/${group.pk}/add_user/`, { pk: user.pk })
    expect(add.status).toBe(204)
    const remove = await t.admin('POST', `/core/groups/${group.pk}/remove_user/`, { pk: user.pk })
    expect(remove.status).toBe(204)
    expect((await t.admin('PUT', `/core/groups/${group.pk}/`, { name: 'ops2' })).status).toBe(200)
    expect((await t.admin('DELETE', `/core/groups/${group.pk}/`)).status).toBe(204)
    expect((await t.admin('DELETE', `/core/users/${user.pk}/`)).status).toBe(204)

    const list = await events(t, 'context_model_app=authentik_core')
    expect(summary(list)).toEqual([
      ['model_created', 'user', user.pk, 'grace', undefined],
      ['model_updated', 'user', user.pk, 'grace', ['is_active']],
      ['model_created', 'group', group.pk, 'ops', undefined],
      ['model_updated', 'group', group.pk, 'ops', ['users']],
      ['model_updated', 'group', group.pk, 'ops', ['users']],
      ['model_updated', 'group', group.pk, 'ops2', expect.arrayContaining(['name'])],
      ['model_deleted', 'group', group.pk, 'ops2', undefined],
      ['model_deleted', 'user', user.pk, 'grace', undefined],
    ])
    expect(list[3]?.context.added).toEqual([{ pk: user.pk, username: 'grace' }])
    expect(list[4]?.context.removed).toEqual([{ pk: user.pk, username: 'grace' }])
    for (const e of list) expect(e.user).toMatchObject({ username: 'akadmin' })
    // Filtered by action, as an admin looks for deletions.
    const deleted = await events(t, 'action=model_deleted')
    expect(deleted.map((e) => e.context.model.model_name)).toEqual(['group', 'user'])

    // A user a source provisioned: the admin's change is refused (403) and records nothing.
    const scim = await t.scim('POST', '/Users', { userName: 'linus' })
    expect(scim.status).toBe(201)
    const [provisioned] = (await json(await t.admin('GET', '/core/users/?username=linus')))
      .results as Json[]
    const before = await count(t)
    const refused = await t.admin('PATCH', `/core/users/${provisioned?.pk}/`, { name: 'x' })
    expect(refused.status).toBe(403)
    expect((await t.admin('DELETE', `/core/users/${provisioned?.pk}/`)).status).toBe(403)
    // A 400 after the username lock was taken: nothing of the change, nor its event, stays.
    const taken = await t.admin('POST', '/core/users/', { username: 'linus', name: 'L' })
    expect(taken.status).toBe(400)
    const unknownMember = await t.admin('POST', '/core/groups/', { name: 'g', users: [987654] })
    expect(unknownMember.status).toBe(400)
    expect(await count(t)).toBe(before)
  })
})

describe('an admin change and its event', () => {
  it('commit together or not at all: an event that cannot be written undoes its change', async () => {
    const t = await createTestApp()
    // The database refuses every event row, inside the change's transaction.
    const db = t.runtime.deps.db
    if (dialectOf(db) === 'postgres') {
      await sql`create function refuse_event() returns trigger language plpgsql
        as $$ begin raise exception 'events refused'; end $$`.execute(db)
      await sql`create trigger refuse_events before insert on events
        for each row execute function refuse_event()`.execute(db)
    } else {
      await sql`create trigger refuse_events before insert on events
        begin select raise(abort, 'events refused'); end`.execute(db)
    }
    const group = await t.admin('POST', '/core/groups/', { name: 'half-written' })
    expect(group.status).toBe(500)
    const mapping = await t.admin('POST', '/propertymappings/provider/scim/', {
      name: 'half-written',
      expression: '{}',
    })
    expect(mapping.status).toBe(500)
    await sql`drop trigger refuse_events${sql.raw(dialectOf(db) === 'postgres' ? ' on events' : '')}`.execute(
      db,
    )
    const groups = await json(await t.admin('GET', '/core/groups/?name=half-written'))
    expect(groups.results).toEqual([])
    const mappings = await json(
      await t.admin('GET', '/propertymappings/provider/scim/?name=half-written'),
    )
    expect(mappings.results).toEqual([])
  })
})
