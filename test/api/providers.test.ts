import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { serveScimd } from '../support/targets/scimd-target.js'
import { worker } from '../sync/support.js'

const TOKEN = 'remote-secret-token-value-123'

describe('/api/v3/providers/scim/', () => {
  it('creates a provider with authentik’s shape and never returns or stores the token in plaintext', async () => {
    const t = await createTestApp()
    const res = await t.admin('POST', '/providers/scim/', {
      name: 'AWS',
      url: 'https://scim.example.com/tenant/scim/v2/',
      token: TOKEN,
      compatibility_mode: 'aws',
      property_mappings: [],
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toEqual({
      pk: expect.any(Number),
      name: 'AWS',
      property_mappings: [],
      property_mappings_group: [],
      component: 'ak-provider-scim-form',
      assigned_backchannel_application_slug: '',
      assigned_backchannel_application_name: '',
      verbose_name: 'SCIM Provider',
      verbose_name_plural: 'SCIM Providers',
      meta_model_name: 'authentik_providers_scim.scimprovider',
      url: 'https://scim.example.com/tenant/scim/v2',
      verify_certificates: true,
      compatibility_mode: 'aws',
      exclude_users_service_account: false,
      filter_group: null,
      dry_run: false,
    })
    const row = await t.runtime.deps.db
      .selectFrom('providers')
      .selectAll()
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain(TOKEN)
    expect(await t.runtime.deps.secrets.unseal(row.token_sealed)).toBe(TOKEN)

    const got = await t.admin('GET', `/providers/scim/${body.pk}/`)
    expect(await got.json()).toEqual(body)
  })

  it('answers bad input with field errors, property mappings included', async () => {
    const t = await createTestApp()
    const missing = await t.admin('POST', '/providers/scim/', {})
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({
      name: ['This field is required.'],
      url: ['This field is required.'],
      token: ['This field is required.'],
    })
    const base = { name: 'x', url: 'https://a.example/v2', token: TOKEN }
    const mappings = await t.admin('POST', '/providers/scim/', {
      ...base,
      property_mappings: ['0193a5c8-0000-7000-8000-000000000000'],
    })
    expect(mappings.status).toBe(400)
    expect(await mappings.json()).toMatchObject({
      property_mappings: [
        'Invalid pk "0193a5c8-0000-7000-8000-000000000000" - object does not exist.',
      ],
    })
    const mode = await t.admin('POST', '/providers/scim/', { ...base, compatibility_mode: 'sfdc' })
    expect(await mode.json()).toMatchObject({
      compatibility_mode: ['"sfdc" is not a valid choice.'],
    })
    const group = await t.admin('POST', '/providers/scim/', {
      ...base,
      filter_group: '0193a5c8-0000-7000-8000-000000000000',
    })
    expect(group.status).toBe(400)
    expect(await group.json()).toHaveProperty('filter_group')
    const badUrl = await t.admin('POST', '/providers/scim/', { ...base, url: 'ftp://x' })
    expect(await badUrl.json()).toMatchObject({ url: ['Enter a valid URL.'] })
    const count = await t.runtime.deps.db
      .selectFrom('providers')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(0)
    expect((await t.admin('GET', '/providers/scim/abc/')).status).toBe(404)
    expect((await t.admin('GET', '/providers/scim/99/')).status).toBe(404)
    expect(await (await t.admin('GET', '/providers/scim/99/')).json()).toEqual({
      detail: 'Not found.',
      code: 'not_found',
    })
  })

  it('refuses a provider that would push into a source of this same scimd', async () => {
    const t = await createTestApp()
    // Its own source, served on a real port: users pushed there would come back as second
    // directory users and be pushed again at every sync.
    const url = await serveScimd(t)
    const own = await t.admin('POST', '/providers/scim/', { name: 'self', url, token: t.key })
    expect(own.status).toBe(400)
    expect(((await own.json()) as Record<string, string[]>).token?.[0]).toMatch(
      /token of this scimd.*listed twice/,
    )
    expect(
      (
        (await (await t.admin('GET', '/providers/scim/')).json()) as {
          pagination: { count: number }
        }
      ).pagination.count,
    ).toBe(0)
    const other = await t.admin('POST', '/providers/scim/', { name: 'other', url, token: TOKEN })
    expect(other.status).toBe(201)
    const pk = ((await other.json()) as { pk: number }).pk
    const changed = await t.admin('PATCH', `/providers/scim/${pk}/`, { token: t.key })
    expect(changed.status).toBe(400)
  })

  it('lists with filters, search, ordering and the pagination envelope; PUT, PATCH, DELETE', async () => {
    const t = await createTestApp()
    for (const name of ['b-slack', 'a-aws', 'c-app']) {
      await t.admin('POST', '/providers/scim/', {
        name,
        url: `https://${name}.example/v2`,
        token: TOKEN,
        exclude_users_service_account: name === 'c-app',
      })
    }
    const all = (await (await t.admin('GET', '/providers/scim/?page_size=2')).json()) as {
      pagination: Record<string, number>
      results: Array<{ name: string; pk: number }>
    }
    expect(all.pagination).toMatchObject({ count: 3, next: 2, total_pages: 2, current: 1 })
    expect(all.results.map((r) => r.name)).toEqual(['a-aws', 'b-slack'])
    const search = (await (await t.admin('GET', '/providers/scim/?search=SLACK')).json()) as {
      results: Array<{ name: string }>
    }
    expect(search.results.map((r) => r.name)).toEqual(['b-slack'])
    const filtered = (await (
      await t.admin('GET', '/providers/scim/?exclude_users_service_account=true')
    ).json()) as { results: Array<{ name: string }> }
    expect(filtered.results.map((r) => r.name)).toEqual(['c-app'])
    const ordered = (await (await t.admin('GET', '/providers/scim/?ordering=-name')).json()) as {
      results: Array<{ name: string; pk: number }>
    }
    expect(ordered.results.map((r) => r.name)).toEqual(['c-app', 'b-slack', 'a-aws'])

    const pk = ordered.results[0]?.pk
    const patched = await t.admin('PATCH', `/providers/scim/${pk}/`, { dry_run: true })
    expect(await patched.json()).toMatchObject({ dry_run: true, name: 'c-app' })
    const put = await t.admin('PUT', `/providers/scim/${pk}/`, {
      name: 'renamed',
      url: 'https://renamed.example/v2',
      token: 'another-token-value',
    })
    expect(await put.json()).toMatchObject({ name: 'renamed', url: 'https://renamed.example/v2' })
    expect(await (await t.admin('GET', `/providers/scim/${pk}/used_by/`)).json()).toEqual([])
    expect((await t.admin('DELETE', `/providers/scim/${pk}/`)).status).toBe(204)
    expect((await t.admin('GET', `/providers/scim/${pk}/`)).status).toBe(404)
  })

  it('reports sync status, starts a full sync on demand, and pushes one object on request', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const created = (await (
      await t.admin('POST', '/providers/scim/', {
        name: 'mem',
        url: target.url,
        token: target.token,
        dry_run: true,
      })
    ).json()) as { pk: number }
    const status0 = (await (
      await t.admin('GET', `/providers/scim/${created.pk}/sync/status/`)
    ).json()) as Record<string, unknown>
    expect(status0).toMatchObject({
      is_running: false,
      last_sync_status: null,
      last_successful_sync: null,
      full_sync_pending: true,
    })
    const user = (await (await t.scim('POST', '/Users', { userName: 'ada' })).json()) as {
      id: string
    }

    // Dry run: only reads go out; the request that would have been sent is recorded.
    await worker(t).runOnce()
    expect(target.writes()).toEqual([])
    const status1 = (await (
      await t.admin('GET', `/providers/scim/${created.pk}/sync/status/`)
    ).json()) as Record<string, unknown>
    expect(status1).toMatchObject({
      last_sync_status: 'success',
      full_sync_pending: false,
      outbox: { count: 0 },
    })
    const links = (await (
      await t.admin('GET', `/providers/scim_users/?provider__id=${created.pk}`)
    ).json()) as { results: Array<Record<string, unknown>> }
    const adaLink = links.results.find(
      (l) => (l.user_obj as { username?: string } | null)?.username === 'ada',
    )
    expect(adaLink).toMatchObject({
      scim_id: null,
      last_request: { method: 'POST', url: `${target.url}/Users` },
    })

    // sync/object with override_dry_run sends it for real, and says what it did.
    const res = await t.admin('POST', `/providers/scim/${created.pk}/sync/object/`, {
      sync_object_model: 'authentik.core.models.User',
      sync_object_id: user.id,
      override_dry_run: true,
    })
    expect(res.status).toBe(200)
    const { messages } = (await res.json()) as { messages: Array<Record<string, unknown>> }
    expect(messages).toContainEqual(expect.objectContaining({ event: 'created', kind: 'user' }))
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['ada'])
    const one = (await (
      await t.admin('GET', `/providers/scim_users/?user__id=${adaLink?.user}`)
    ).json()) as { results: Array<Record<string, unknown>> }
    expect(one.results[0]?.scim_id).toBe([...target.users.values()][0]?.id)

    const full = await t.admin('POST', `/providers/scim/${created.pk}/sync/full/`)
    expect(full.status).toBe(202)
    expect(await full.json()).toMatchObject({ full_sync_pending: true })
  })
})
