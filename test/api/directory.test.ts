import { describe, expect, it } from 'vitest'
import { numPk } from '../../src/http/admin/serializers.js'
import { createTestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
const body = async (res: Response) => (await res.json()) as Json

async function provision(t: Awaited<ReturnType<typeof createTestApp>>) {
  const alice = await body(
    await t.scim('POST', '/Users', {
      userName: 'alice@example.com',
      name: { givenName: 'Alice', familyName: 'Archer' },
      emails: [{ value: 'alice@example.com', primary: true }],
    }),
  )
  const bob = await body(
    await t.scim('POST', '/Users', { userName: 'bob@example.com', active: false }),
  )
  const engineers = await body(
    await t.scim('POST', '/Groups', {
      displayName: 'Engineers',
      members: [{ value: alice.id }, { value: bob.id }],
    }),
  )
  const staff = await body(
    await t.scim('POST', '/Groups', {
      displayName: 'Staff',
      members: [{ value: engineers.id }, { value: alice.id }],
    }),
  )
  return { alice, bob, engineers, staff }
}

describe('/api/v3/core/users/', () => {
  it('shows provisioned users with their groups, and where they came from', async () => {
    const t = await createTestApp()
    const { alice, engineers, staff } = await provision(t)
    const list = await body(await t.admin('GET', '/core/users/?username=alice@example.com'))
    expect(list.pagination.count).toBe(1)
    const [user] = list.results
    expect(user).toMatchObject({
      username: 'alice@example.com',
      name: 'Alice Archer',
      email: 'alice@example.com',
      is_active: true,
      is_superuser: false,
      type: 'internal',
      uuid: alice.id,
      path: 'goauthentik.io/sources/test',
    })
    expect(user.groups.sort()).toEqual([engineers.id, staff.id].sort())
    expect(user.groups_obj.map((g: Json) => g.name)).toEqual(['Engineers', 'Staff'])
    const one = await body(await t.admin('GET', `/core/users/${user.pk}/`))
    expect(one).toEqual(user)
  })

  it('filters, searches and orders users', async () => {
    const t = await createTestApp()
    const { engineers, staff } = await provision(t)
    const names = async (query: string) =>
      (await body(await t.admin('GET', `/core/users/?${query}`))).results.map(
        (u: Json) => u.username,
      )
    expect(await names('is_active=false')).toEqual(['bob@example.com'])
    expect(await names('search=ARCHER')).toEqual(['alice@example.com'])
    expect(await names('path=goauthentik.io/sources/test')).toEqual([
      'alice@example.com',
      'bob@example.com',
    ])
    // The service account's path is goauthentik.io/sources/scim.
    expect(await names('path_startswith=goauthentik.io/sources/')).toHaveLength(3)
    expect(await names('path_startswith=goauthentik.io/sources/t')).toHaveLength(2)
    expect(await names('is_superuser=true')).toEqual(['akadmin'])
    expect(await names('type=internal_service_account')).toHaveLength(1)
    expect(await names('type=internal&type=internal_service_account')).toHaveLength(4)
    expect(await names(`groups_by_pk=${staff.id}`)).toEqual(['alice@example.com'])
    expect(await names(`groups_by_pk=${staff.id}&groups_by_pk=${engineers.id}`)).toHaveLength(2)
    expect(await names('groups_by_name=Engineers&ordering=-username')).toEqual([
      'bob@example.com',
      'alice@example.com',
    ])
  })

  it('answers an unknown or impossible pk with 404', async () => {
    const t = await createTestApp()
    for (const pk of ['999999', '0', '-1', 'abc', '99999999999999999999', '1.5']) {
      const res = await t.admin('GET', `/core/users/${pk}/`)
      expect(res.status, pk).toBe(404)
      expect(await body(res)).toEqual({ detail: 'Not found.', code: 'not_found' })
    }
  })
})

describe('/api/v3/core/groups/', () => {
  it('shows groups with their nesting, and filters by member', async () => {
    const t = await createTestApp()
    const { alice, engineers, staff } = await provision(t)
    const group = await body(await t.admin('GET', `/core/groups/${engineers.id}/`))
    expect(group).toEqual({
      pk: engineers.id,
      num_pk: numPk(engineers.id),
      name: 'Engineers',
      is_superuser: false,
      parents: [staff.id],
      children: [],
      attributes: {},
    })
    expect((await body(await t.admin('GET', `/core/groups/${staff.id}/`))).children).toEqual([
      engineers.id,
    ])
    // A UUID in upper case names the same group, as Django's UUIDField reads it.
    const upper = await t.admin('GET', `/core/groups/${staff.id.toUpperCase()}/members/`)
    expect(upper.status).toBe(200)
    expect(
      (await body(await t.admin('GET', `/core/groups/${engineers.id.toUpperCase()}/`))).pk,
    ).toBe(engineers.id)
    const aliceUser = (await body(await t.admin('GET', '/core/users/?search=alice'))).results[0]
    const names = async (query: string) =>
      (await body(await t.admin('GET', `/core/groups/?${query}`))).results.map((g: Json) => g.name)
    expect(await names(`members_by_pk=${aliceUser.pk}`)).toEqual(['Engineers', 'Staff'])
    expect(await names('members_by_username=bob@example.com')).toEqual(['Engineers'])
    expect(await names('members_by_pk=99999999999999')).toEqual([])
    expect(await names('is_superuser=true')).toEqual(['authentik Admins'])
    expect(await names('search=eng')).toEqual(['Engineers'])
    expect(await names('is_superuser=false&ordering=-name')).toEqual(['Staff', 'Engineers'])
    expect(alice.id).toBe(aliceUser.uuid)
    expect((await t.admin('GET', '/core/groups/nope/')).status).toBe(404)
  })

  it('pages a group’s members instead of embedding them', async () => {
    const t = await createTestApp()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await body(await t.scim('POST', '/Users', { userName: `member${i}` }))).id)
    }
    const group = await body(
      await t.scim('POST', '/Groups', {
        displayName: 'Big',
        members: ids.map((value) => ({ value })),
      }),
    )
    const retrieved = await body(await t.admin('GET', `/core/groups/${group.id}/`))
    expect(retrieved).not.toHaveProperty('users')
    const page = await body(
      await t.admin('GET', `/core/groups/${group.id}/members/?page_size=2&page=2`),
    )
    expect(page.pagination).toMatchObject({ count: 5, current: 2, next: 3, previous: 1 })
    expect(page.results.map((u: Json) => u.username)).toEqual(['member2', 'member3'])
    const beyond = await body(await t.admin('GET', `/core/groups/${group.id}/members/?page=9`))
    expect(beyond.results).toEqual([])
    expect((await t.admin('GET', '/core/groups/nope/members/')).status).toBe(404)
  })
})
