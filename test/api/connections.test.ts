import { describe, expect, it } from 'vitest'
import { createTestApp, fixture } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const body = async (res: Response) => (await res.json()) as Json

function asSource(t: Awaited<ReturnType<typeof createTestApp>>, slug: string, key: string) {
  return (method: string, path: string, payload?: unknown) =>
    t.app.request(`http://scimd.test/source/scim/${slug}/v2${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/scim+json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    })
}

describe('/api/v3/sources/scim_users/', () => {
  it('shows each provisioned user with its source, directory user and stored document', async () => {
    const t = await createTestApp()
    const sent = fixture('entra/create-user.json')
    const created = await body(await t.scim('POST', '/Users', sent))
    const source = await body(await t.admin('GET', '/sources/scim/test/'))
    const list = await body(await t.admin('GET', '/sources/scim_users/'))
    expect(list.pagination.count).toBe(1)
    const [connection] = list.results
    expect(connection).toMatchObject({
      id: created.id,
      external_id: sent.externalId,
      source: source.pk,
      user_obj: { username: sent.userName, is_active: true, uid: created.id },
      last_update: created.meta.lastModified,
    })
    expect(connection.user).toBe(connection.user_obj.pk)
    // The stored document: what the client sent, without server-assigned id and meta.
    expect(connection.attributes).toMatchObject({
      userName: sent.userName,
      externalId: sent.externalId,
      name: sent.name,
      emails: sent.emails,
    })
    expect(connection.attributes).not.toHaveProperty('id')
    expect(connection.attributes).not.toHaveProperty('meta')
    expect(await body(await t.admin('GET', `/sources/scim_users/${created.id}/`))).toEqual(
      connection,
    )
    expect((await t.admin('GET', '/sources/scim_users/nope/')).status).toBe(404)
  })

  it('filters by source slug, username and user id, and searches', async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    await t.scim('POST', '/Users', { userName: 'alice', externalId: 'ext-alice' })
    await asSource(t, 'other', other.key)('POST', '/Users', { userName: 'alice' })
    await asSource(t, 'other', other.key)('POST', '/Users', { userName: 'carol' })
    const rows = async (query: string) =>
      (await body(await t.admin('GET', `/sources/scim_users/?${query}`))).results as Json[]
    expect(await rows('source__slug=other')).toHaveLength(2)
    expect(await rows('user__username=alice')).toHaveLength(2)
    const [carol] = await rows('source__slug=other&user__username=carol')
    expect(await rows(`user__id=${carol?.user}`)).toEqual([carol])
    expect(await rows('user__id=99999999999999')).toEqual([])
    expect(await rows('search=EXT-ALICE')).toHaveLength(1)
    const ordered = await rows('ordering=-user__username,source__slug')
    expect(ordered.map((r) => r.user_obj.username)).toEqual(['carol', 'alice', 'alice'])
    expect((await t.admin('GET', '/sources/scim_users/?user__id=abc')).status).toBe(400)
  })

  it('deprovisions on delete: the directory user goes, the source sees a 404', async () => {
    const t = await createTestApp()
    const user = await body(await t.scim('POST', '/Users', { userName: 'alice' }))
    const group = await body(
      await t.scim('POST', '/Groups', { displayName: 'G', members: [{ value: user.id }] }),
    )
    expect((await t.admin('DELETE', `/sources/scim_users/${user.id}/`)).status).toBe(204)
    expect((await t.admin('DELETE', `/sources/scim_users/${user.id}/`)).status).toBe(404)
    expect((await t.scim('GET', `/Users/${user.id}`)).status).toBe(404)
    expect((await body(await t.admin('GET', '/core/users/?username=alice'))).results).toEqual([])
    expect((await body(await t.scim('GET', `/Groups/${group.id}`))).members ?? []).toEqual([])
  })
})

describe('/api/v3/sources/scim_groups/', () => {
  it('shows provisioned groups, filters them, and deprovisions on delete', async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    const sent = fixture('okta/create-group.json')
    const group = await body(await t.scim('POST', '/Groups', sent))
    await asSource(t, 'other', other.key)('POST', '/Groups', { displayName: 'Other group' })
    const list = await body(await t.admin('GET', '/sources/scim_groups/?source__slug=test'))
    expect(list.pagination.count).toBe(1)
    const [connection] = list.results
    expect(connection).toMatchObject({
      id: group.id,
      group: group.id,
      group_obj: { pk: group.id, name: sent.displayName, is_superuser: false },
      attributes: { displayName: sent.displayName },
    })
    const rows = async (query: string) =>
      (await body(await t.admin('GET', `/sources/scim_groups/?${query}`))).results as Json[]
    expect(await rows('group__name=Other%20group')).toHaveLength(1)
    expect(await rows(`group__group_uuid=${group.id}`)).toEqual([connection])
    expect(await rows('search=scimv2')).toEqual([connection])
    expect(await rows('ordering=-group__name')).toHaveLength(2)

    expect(await body(await t.admin('GET', `/sources/scim_groups/${group.id}/`))).toEqual(
      connection,
    )
    expect((await t.admin('DELETE', `/sources/scim_groups/${group.id}/`)).status).toBe(204)
    expect((await t.scim('GET', `/Groups/${group.id}`)).status).toBe(404)
    expect((await t.admin('GET', `/core/groups/${group.id}/`)).status).toBe(404)
    expect((await t.admin('GET', `/sources/scim_groups/${group.id}/`)).status).toBe(404)
  })

  it('refuses creating or editing connection objects (no adoption of existing objects)', async () => {
    const t = await createTestApp()
    const group = await body(await t.scim('POST', '/Groups', { displayName: 'G' }))
    const create = await t.admin('POST', '/sources/scim_groups/', { group: group.id })
    expect(create.status).toBe(405)
    expect(create.headers.get('allow')).toBe('GET')
    const edit = await t.admin('PATCH', `/sources/scim_users/${group.id}/`, {})
    expect(edit.status).toBe(405)
    expect(edit.headers.get('allow')).toBe('GET, DELETE')
  })
})
