/**
 * The writable directory (issue 28): admins create, change and delete local users and
 * groups with authentik's request shapes; what a source provisioned is read-only here (403
 * saying why), but its users may join a local group.
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, fixture, type TestApp } from '../support/app.js'

type Json = Record<string, unknown>

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

async function provisioned(t: TestApp) {
  const user = await json(await t.scim('POST', '/Users', fixture('okta/create-user.json')))
  const group = await json(
    await t.scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Okta Sales',
      members: [{ value: user.id }],
    }),
  )
  const found = await json(await t.admin('GET', '/core/users/?username=test.user@okta.local'))
  const pk = (found.results as Json[])[0]?.pk as number
  return { userPk: pk, groupId: group.id as string }
}

describe('/api/v3/core/users/ writes', () => {
  it('creates, changes and deletes a local user with authentik’s shapes', async () => {
    const t = await createTestApp()
    const created = await t.admin('POST', '/core/users/', {
      username: 'grace',
      name: 'Grace Hopper',
      email: 'grace@example.com',
      attributes: { department: 'Navy' },
    })
    expect(created.status).toBe(201)
    const user = await json(created)
    expect(user).toMatchObject({
      username: 'grace',
      name: 'Grace Hopper',
      email: 'grace@example.com',
      is_active: true,
      type: 'internal',
      path: 'users',
      attributes: { department: 'Navy' },
      groups: [],
    })

    const patched = await t.admin('PATCH', `/core/users/${user.pk}/`, { is_active: false })
    expect(await json(patched)).toMatchObject({ is_active: false, name: 'Grace Hopper' })
    const put = await t.admin('PUT', `/core/users/${user.pk}/`, { username: 'ghopper', name: 'G' })
    expect(await json(put)).toMatchObject({ username: 'ghopper', name: 'G', is_active: false })

    expect((await t.admin('DELETE', `/core/users/${user.pk}/`)).status).toBe(204)
    expect((await t.admin('GET', `/core/users/${user.pk}/`)).status).toBe(404)
  })

  it('answers bad input with field errors and writes nothing', async () => {
    const t = await createTestApp()
    const missing = await t.admin('POST', '/core/users/', { name: 'No Username' })
    expect(missing.status).toBe(400)
    expect(await json(missing)).toMatchObject({ username: ['This field is required.'] })
    const badType = await t.admin('POST', '/core/users/', {
      username: 'x',
      name: 'x',
      type: 'internal_service_account',
    })
    expect(await json(badType)).toMatchObject({
      type: ['"internal_service_account" is not a valid choice.'],
    })
    const badEmail = await t.admin('POST', '/core/users/', {
      username: 'x',
      name: 'x',
      email: 'nope',
    })
    expect(await json(badEmail)).toMatchObject({ email: ['Enter a valid email address.'] })
    const unknownGroup = await t.admin('POST', '/core/users/', {
      username: 'x',
      name: 'x',
      groups: ['0193f6a0-0000-7000-8000-00000000dead'],
    })
    expect(unknownGroup.status).toBe(400)
    expect(Object.keys(await json(unknownGroup))).toEqual(['groups', 'code'])

    expect((await t.admin('POST', '/core/users/', { username: 'ada', name: 'A' })).status).toBe(201)
    const taken = await t.admin('POST', '/core/users/', { username: 'ada', name: 'B' })
    expect(taken.status).toBe(400)
    expect(await json(taken)).toMatchObject({
      username: ['A user with that username already exists.'],
    })
    const all = await json(await t.admin('GET', '/core/users/?username=x'))
    expect(all.results).toEqual([])
  })

  it('refuses to change or delete a user a source provisioned, saying why', async () => {
    const t = await createTestApp()
    const { userPk } = await provisioned(t)
    for (const [method, body] of [
      ['PATCH', { name: 'Renamed' }],
      ['PUT', { username: 'renamed', name: 'Renamed' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await t.admin(method, `/core/users/${userPk}/`, body)
      expect(res.status, method).toBe(403)
      const error = await json(res)
      expect(error.detail).toContain(`SCIM source '${t.slug}'`)
      expect(error.code).toBe('permission_denied')
    }
    const user = await json(await t.admin('GET', `/core/users/${userPk}/`))
    expect(user.name).toBe('Test User')
  })

  it('refuses to change a source’s service account', async () => {
    const t = await createTestApp()
    const source = await json(await t.admin('GET', `/sources/scim/${t.slug}/`))
    const account = (source.token_obj as Json).user as number
    const res = await t.admin('PATCH', `/core/users/${account}/`, { is_active: false })
    expect(res.status).toBe(403)
  })
})

describe('/api/v3/core/groups/ writes', () => {
  it('builds a local group out of users an identity provider pushed', async () => {
    const t = await createTestApp()
    const { userPk, groupId } = await provisioned(t)
    const created = await t.admin('POST', '/core/groups/', { name: 'push to AWS' })
    expect(created.status).toBe(201)
    const group = await json(created)
    expect(group).toMatchObject({ name: 'push to AWS', is_superuser: false, parents: [] })

    const add = await t.admin('POST', `/core/groups/${group.pk}/add_user/`, { pk: userPk })
    expect(add.status).toBe(204)
    const user = await json(await t.admin('GET', `/core/users/${userPk}/`))
    expect((user.groups as string[]).sort()).toEqual([group.pk, groupId].sort())
    // The source sees only its own groups.
    const scimUser = await json(
      await t.scim(
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}`,
      ),
    )
    const first = (scimUser.Resources as Json[])[0] as Json
    const groups = (first.groups as Json[]).map((g) => g.value)
    expect(groups).toEqual([groupId])

    const remove = await t.admin('POST', `/core/groups/${group.pk}/remove_user/`, { pk: userPk })
    expect(remove.status).toBe(204)
    const after = await json(await t.admin('GET', `/core/users/${userPk}/`))
    expect(after.groups).toEqual([groupId])

    const unknown = await t.admin('POST', `/core/groups/${group.pk}/add_user/`, { pk: 999999 })
    expect(unknown.status).toBe(404)
    const noPk = await t.admin('POST', `/core/groups/${group.pk}/add_user/`, {})
    expect(noPk.status).toBe(400)
  })

  it('refuses to change a group a source provisioned, saying why', async () => {
    const t = await createTestApp()
    const { userPk, groupId } = await provisioned(t)
    const local = await json(await t.admin('POST', '/core/users/', { username: 'l', name: 'L' }))
    for (const [method, path, body] of [
      ['PATCH', `/core/groups/${groupId}/`, { name: 'Mine now' }],
      ['PUT', `/core/groups/${groupId}/`, { name: 'Mine now' }],
      ['DELETE', `/core/groups/${groupId}/`, undefined],
      ['POST', `/core/groups/${groupId}/add_user/`, { pk: local.pk }],
      ['POST', `/core/groups/${groupId}/remove_user/`, { pk: userPk }],
    ] as const) {
      const res = await t.admin(method, path, body)
      expect(res.status, `${method} ${path}`).toBe(403)
      expect((await json(res)).detail).toContain("is provisioned by SCIM source 'test'")
    }
    // Nor may a local user or group join it by naming it.
    const joined = await t.admin('PATCH', `/core/users/${local.pk}/`, { groups: [groupId] })
    expect(joined.status).toBe(403)
    const nested = await t.admin('POST', '/core/groups/', { name: 'n', parents: [groupId] })
    expect(nested.status).toBe(403)
    const group = await json(await t.admin('GET', `/core/groups/${groupId}/`))
    expect(group.name).toBe('Okta Sales')
  })

  it('sets members, parents and names with authentik’s validation', async () => {
    const t = await createTestApp()
    const a = await json(await t.admin('POST', '/core/users/', { username: 'a', name: 'A' }))
    const b = await json(await t.admin('POST', '/core/users/', { username: 'b', name: 'B' }))
    const parent = await json(await t.admin('POST', '/core/groups/', { name: 'parent' }))
    const child = await json(
      await t.admin('POST', '/core/groups/', {
        name: 'child',
        parents: [parent.pk],
        users: [a.pk, b.pk],
        is_superuser: true,
      }),
    )
    expect(child).toMatchObject({ parents: [parent.pk], is_superuser: true })
    const members = await json(await t.admin('GET', `/core/groups/${child.pk}/members/`))
    expect((members.results as Json[]).map((u) => u.username)).toEqual(['a', 'b'])

    await t.admin('PATCH', `/core/groups/${child.pk}/`, { users: [b.pk] })
    const after = await json(await t.admin('GET', `/core/groups/${child.pk}/members/`))
    expect((after.results as Json[]).map((u) => u.username)).toEqual(['b'])

    const cycle = await t.admin('PATCH', `/core/groups/${parent.pk}/`, { parents: [child.pk] })
    expect(cycle.status).toBe(400)
    expect(Object.keys(await json(cycle))).toEqual(['parents', 'code'])
    const taken = await t.admin('POST', '/core/groups/', { name: 'parent' })
    expect(await json(taken)).toMatchObject({ name: ['group with this name already exists.'] })
    const badUser = await t.admin('POST', '/core/groups/', { name: 'x', users: [424242] })
    expect(await json(badUser)).toMatchObject({
      users: ['Invalid pk "424242" - object does not exist.'],
    })

    expect((await t.admin('DELETE', `/core/groups/${child.pk}/`)).status).toBe(204)
    expect((await t.admin('GET', `/core/groups/${child.pk}/`)).status).toBe(404)
    const user = await json(await t.admin('GET', `/core/users/${b.pk}/`))
    expect(user.groups).toEqual([])
  })

  it('puts every change in the providers’ outbox', async () => {
    const t = await createTestApp()
    const provider = await t.admin('POST', '/providers/scim/', {
      name: 'AWS',
      url: 'https://scim.example.com/scim/v2/',
      token: 'remote-token-0123456789abcdef',
    })
    expect(provider.status).toBe(201)
    const outbox = () =>
      t.runtime.deps.db
        .selectFrom('outbox')
        .select(['kind', 'object_id', 'member_id'])
        .orderBy('id')
        .execute()
    const user = await json(await t.admin('POST', '/core/users/', { username: 'u', name: 'U' }))
    const group = await json(await t.admin('POST', '/core/groups/', { name: 'push to AWS' }))
    await t.admin('POST', `/core/groups/${group.pk}/add_user/`, { pk: user.pk })
    await t.admin('PATCH', `/core/users/${user.pk}/`, { name: 'V' })
    await t.admin('DELETE', `/core/groups/${group.pk}/`)
    const kinds = (await outbox()).map((r) => `${r.kind}:${r.object_id === group.pk ? 'g' : 'u'}`)
    expect(kinds).toEqual(expect.arrayContaining(['user:u', 'group:g', 'member:g']))
    expect(kinds.length).toBeGreaterThanOrEqual(4)
  })
})
