/**
 * The UI's writing pages against a real app and database: local users and groups and their
 * members, property mappings with their test panel, and revoking admin tokens. Good and bad
 * input, what a source provisioned (403), unknown objects (404), CSRF refusals.
 */
import { describe, expect, it } from 'vitest'
import * as directory from '../../src/services/directory.js'
import * as mappings from '../../src/services/property-mappings.js'
import * as tokens from '../../src/services/tokens.js'
import { signedIn, type UiClient } from './support.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const XSS = '<script>alert(1)</script>'

/** The path a 303 sends the browser to. */
function location(res: Response): string {
  expect(res.status).toBe(303)
  return new URL(res.headers.get('location') as string, 'http://x').pathname
}

async function createLocalUser(c: UiClient, username: string): Promise<string> {
  return location(
    await c.post('/if/admin/new/user', {
      username,
      name: 'Local Person',
      email: `${username}@example.com`,
      type: 'internal',
      is_active: 'on',
    }),
  )
}

async function createLocalGroup(c: UiClient, name: string): Promise<string> {
  return location(await c.post('/if/admin/new/group', { name }))
}

/** A user and a group provisioned through SCIM by the test source. */
async function provisioned(c: UiClient) {
  const user = await c.t.scim('POST', '/Users', { schemas: [USER], userName: 'grace@example.com' })
  expect(user.status).toBe(201)
  const scimId = ((await user.json()) as { id: string }).id
  const group = await c.t.scim('POST', '/Groups', {
    schemas: [GROUP],
    displayName: 'Engineering',
    members: [{ value: scimId }],
  })
  expect(group.status).toBe(201)
  const deps = c.t.runtime.deps
  const [dirUser] = await directory.findUsersByUsername(deps, 'grace@example.com')
  const dirGroup = await directory.findGroupByName(deps, 'Engineering')
  return { userPk: dirUser?.pk as number, groupId: dirGroup?.id as string }
}

describe('local users', () => {
  it('creates, edits and deletes a local user', async () => {
    const c = await signedIn()
    const form = await (await c.get('/if/admin/new/user')).text()
    expect(form).toContain('<label for="f-username">Username</label>')
    const path = await createLocalUser(c, 'ada')
    expect(path).toMatch(/^\/if\/admin\/users\/\d+$/)
    const detail = await (await c.get(`${path}?done=created`)).text()
    expect(detail).toContain('ada@example.com')
    expect(detail).toContain('Created.')
    expect(detail).toContain(`href="${path}/edit"`)

    const edited = await c.post(`${path}/edit`, {
      username: 'ada.lovelace',
      name: 'Ada Lovelace',
      email: '',
      type: 'external',
    })
    expect(location(edited)).toBe(path)
    const pk = path.split('/').pop() as string
    const { user } = await directory.getUser(c.t.runtime.deps, pk)
    expect(user).toMatchObject({
      username: 'ada.lovelace',
      name: 'Ada Lovelace',
      email: '',
      type: 'external',
      isActive: false,
      path: 'users',
    })

    const confirm = await (await c.get(`${path}/delete`)).text()
    expect(confirm).toContain('Delete ada.lovelace?')
    expect(confirm).toContain('its API tokens')
    expect(location(await c.post(`${path}/delete`))).toBe('/if/admin/users')
    expect((await c.get(path)).status).toBe(404)
  })

  it('refuses bad input with field errors, writing nothing', async () => {
    const c = await signedIn()
    const before = (
      await directory.listUsers(c.t.runtime.deps, { filter: {}, order: [], page: 1, pageSize: 1 })
    ).count
    const res = await c.post('/if/admin/new/user', {
      username: ' ',
      email: 'not-an-email',
      type: 'superhero',
      name: 'x'.repeat(301),
    })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('This field may not be blank.')
    expect(html).toContain('Enter a valid email address.')
    expect(html).toContain('Choose a user type.')
    expect(html).toContain('At most 300 characters.')
    expect(html).toContain('value="not-an-email"')
    await createLocalUser(c, 'taken')
    const dup = await c.post('/if/admin/new/user', { username: 'taken', type: 'internal' })
    expect(dup.status).toBe(400)
    expect(await dup.text()).toContain('A user with that username already exists.')
    const after = (
      await directory.listUsers(c.t.runtime.deps, { filter: {}, order: [], page: 1, pageSize: 1 })
    ).count
    expect(after).toBe(before + 1)
  })

  it('escapes what it shows', async () => {
    const c = await signedIn()
    const path = await createLocalUser(c, XSS)
    const html = await (await c.get(path)).text()
    expect(html).not.toContain(XSS)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const confirm = await (await c.get(`${path}/delete`)).text()
    expect(confirm).not.toContain(XSS)
  })

  it('shows a provisioned user read-only with the reason, and refuses its changes with 403', async () => {
    const c = await signedIn()
    const { userPk } = await provisioned(c)
    const html = await (await c.get(`/if/admin/users/${userPk}`)).text()
    expect(html).toContain('Read-only.')
    expect(html).toContain('is provisioned by SCIM source &#39;test&#39;')
    expect(html).not.toContain(`/users/${userPk}/edit`)
    expect((await c.get(`/if/admin/users/${userPk}/edit`)).status).toBe(403)
    expect((await c.get(`/if/admin/users/${userPk}/delete`)).status).toBe(403)
    const edit = await c.post(`/if/admin/users/${userPk}/edit`, {
      username: 'hijacked',
      type: 'internal',
    })
    expect(edit.status).toBe(403)
    // Bad input on a provisioned user is 403 too: what may not be changed is said first.
    expect((await c.post(`/if/admin/users/${userPk}/edit`, { username: '' })).status).toBe(403)
    expect((await c.post(`/if/admin/users/${userPk}/delete`)).status).toBe(403)
    const { user } = await directory.getUser(c.t.runtime.deps, String(userPk))
    expect(user.username).toBe('grace@example.com')
  })

  it('answers 404 for users that do not exist', async () => {
    const c = await signedIn()
    expect((await c.get('/if/admin/users/999999/edit')).status).toBe(404)
    expect((await c.get('/if/admin/users/abc/delete')).status).toBe(404)
    expect((await c.post('/if/admin/users/999999/edit', { username: 'x' })).status).toBe(404)
    expect((await c.post('/if/admin/users/999999/delete')).status).toBe(404)
  })
})

describe('local groups and members', () => {
  it('creates a group, adds a provisioned user found by username, removes it, deletes the group', async () => {
    const c = await signedIn()
    const { userPk } = await provisioned(c)
    const path = await createLocalGroup(c, 'Admins of app')
    const groupId = decodeURIComponent(path.split('/').pop() as string)

    const found = await (await c.get(`${path}?find=grace`)).text()
    expect(found).toContain('Add grace@example.com')
    const added = await c.post(`${path}/members/add`, { user: String(userPk) })
    expect(location(added)).toBe(path)
    const withMember = await (await c.get(path)).text()
    expect(withMember).toContain('Members (1)')
    expect(withMember).toContain(`/members/remove`)
    const deps = c.t.runtime.deps
    const members = await directory.listGroupMembers(deps, groupId, {
      filter: {},
      order: [],
      page: 1,
      pageSize: 5,
    })
    expect(members.items.map((m) => m.user.pk)).toEqual([userPk])

    const confirm = await (await c.get(`${path}/delete`)).text()
    expect(confirm).toContain('Delete Admins of app?')
    expect(confirm).toContain('grace@example.com')
    expect(confirm).toContain('(the users stay)')

    expect(location(await c.post(`${path}/members/remove`, { user: String(userPk) }))).toBe(path)
    expect(await (await c.get(path)).text()).toContain('Members (0)')
    expect(location(await c.post(`${path}/delete`))).toBe('/if/admin/groups')
    expect((await c.get(path)).status).toBe(404)
    // The user stays.
    expect((await c.get(`/if/admin/users/${userPk}`)).status).toBe(200)
  })

  it('edits a group; refuses a blank or taken name', async () => {
    const c = await signedIn()
    const path = await createLocalGroup(c, 'Ops')
    await createLocalGroup(c, 'Dev')
    expect(location(await c.post(`${path}/edit`, { name: 'Operations', is_superuser: 'on' }))).toBe(
      path,
    )
    const groupId = decodeURIComponent(path.split('/').pop() as string)
    const { group } = await directory.getGroup(c.t.runtime.deps, groupId)
    expect(group).toMatchObject({ name: 'Operations', isSuperuser: true })
    const blank = await c.post(`${path}/edit`, { name: '' })
    expect(blank.status).toBe(400)
    expect(await blank.text()).toContain('This field may not be blank.')
    const taken = await c.post(`${path}/edit`, { name: 'Dev' })
    expect(taken.status).toBe(400)
    expect(await taken.text()).toContain('group with this name already exists.')
    const badNew = await c.post('/if/admin/new/group', { name: 'a'.repeat(151) })
    expect(badNew.status).toBe(400)
  })

  it('shows a provisioned group read-only and refuses its changes with 403', async () => {
    const c = await signedIn()
    const { groupId, userPk } = await provisioned(c)
    const path = `/if/admin/groups/${groupId}`
    const html = await (await c.get(path)).text()
    expect(html).toContain(
      'Group &#39;Engineering&#39; is provisioned by SCIM source &#39;test&#39;',
    )
    expect(html).not.toContain('Add a member')
    expect(html).not.toContain('/members/remove')
    expect((await c.get(`${path}/edit`)).status).toBe(403)
    expect((await c.get(`${path}/delete`)).status).toBe(403)
    expect((await c.post(`${path}/edit`, { name: 'X' })).status).toBe(403)
    expect((await c.post(`${path}/delete`)).status).toBe(403)
    const remove = await c.post(`${path}/members/remove`, { user: String(userPk) })
    expect(remove.status).toBe(403)
    expect(await (await c.get(path)).text()).toContain('Members (1)')
  })

  it('answers 404 for an unknown group or user to add', async () => {
    const c = await signedIn()
    const path = await createLocalGroup(c, 'Small')
    expect((await c.post(`${path}/members/add`, { user: '999999' })).status).toBe(404)
    expect((await c.post(`${path}/members/add`, { user: 'x' })).status).toBe(404)
    expect((await c.post('/if/admin/groups/nope/members/add', { user: '1' })).status).toBe(404)
    expect((await c.get('/if/admin/groups/nope/edit')).status).toBe(404)
  })

  it('refuses the new forms without the CSRF token or from another origin', async () => {
    const c = await signedIn()
    const path = await createLocalGroup(c, 'Guarded')
    const [admin] = await directory.findUsersByUsername(c.t.runtime.deps, 'akadmin')
    const pk = String(admin?.pk ?? 1)
    const attempts: Array<[string, Record<string, string>]> = [
      ['/if/admin/new/user', { username: 'evil', type: 'internal' }],
      ['/if/admin/new/group', { name: 'evil' }],
      [`${path}/members/add`, { user: pk }],
      [`${path}/edit`, { name: 'evil' }],
      [`${path}/delete`, {}],
      ['/if/admin/new/mapping/provider', { name: 'evil', expression: '{}' }],
      ['/if/admin/tokens/revoke', { identifier: 'x' }],
    ]
    for (const [url, fields] of attempts) {
      expect((await c.post(url, fields, { csrf: null })).status, url).toBe(403)
      expect((await c.post(url, fields, { csrf: 'wrong' })).status, url).toBe(403)
      expect((await c.post(url, fields, { origin: 'https://evil.example' })).status, url).toBe(403)
    }
    expect(await (await c.get(path)).text()).toContain('Members (0)')
    expect(await directory.findGroupByName(c.t.runtime.deps, 'evil')).toBeUndefined()
  })
})

describe('property mappings', () => {
  it('lists both kinds, with the managed defaults', async () => {
    const c = await signedIn()
    const provider = await (await c.get('/if/admin/mappings')).text()
    expect(provider).toContain('authentik default SCIM Mapping: User')
    expect(provider).not.toContain('authentik default SCIM Source Mapping: User')
    const source = await (await c.get('/if/admin/mappings?kind=source')).text()
    expect(source).toContain('authentik default SCIM Source Mapping: User')
  })

  it('creates, edits, tests against a user and a group, and deletes a provider mapping', async () => {
    const c = await signedIn()
    const { userPk } = await provisioned(c)
    const created = await c.post('/if/admin/new/mapping/provider', {
      name: 'Department',
      expression: '{ "title": user.username }',
    })
    const path = location(created)
    expect(path).toMatch(/^\/if\/admin\/mappings\/provider\/[0-9a-f-]{36}$/)
    expect(userPk).toBeGreaterThan(0)

    const tested = await c.post(`${path}/test`, { object: 'user', name: 'grace@example.com' })
    expect(tested.status).toBe(200)
    const html = await tested.text()
    expect(html).toContain('&quot;title&quot;: &quot;grace@example.com&quot;')

    expect(
      location(await c.post(`${path}/edit`, { name: 'Dept', expression: '{ "x": group.name }' })),
    ).toBe(path)
    const onGroup = await (
      await c.post(`${path}/test`, { object: 'group', name: 'Engineering' })
    ).text()
    expect(onGroup).toContain('&quot;x&quot;: &quot;Engineering&quot;')
    // A provider mapping that reads a user, tested against a group, fails with its error.
    await c.post(`${path}/edit`, { name: 'Dept', expression: '$error("no department")' })
    const failed = await (
      await c.post(`${path}/test`, { object: 'user', name: 'grace@example.com' })
    ).text()
    expect(failed).toContain('The mapping failed')
    expect(failed).toContain('no department')

    const missing = await c.post(`${path}/test`, { object: 'user', name: 'nobody' })
    expect(missing.status).toBe(400)
    expect(await missing.text()).toContain('No user has the username')
    const noGroup = await c.post(`${path}/test`, { object: 'group', name: 'Nope' })
    expect(await noGroup.text()).toContain('No group is named')

    expect(await (await c.get(`${path}/delete`)).text()).toContain('Delete Dept?')
    expect(location(await c.post(`${path}/delete`))).toBe('/if/admin/mappings')
    expect((await c.get(path)).status).toBe(404)
  })

  it('lists the users that share a username and tests the one picked', async () => {
    const c = await signedIn()
    const { userPk } = await provisioned(c)
    const other = await c.t.createSource('okta')
    const res = await c.t.raw('POST', '/source/scim/okta/v2/Users', {
      body: JSON.stringify({ schemas: [USER], userName: 'grace@example.com' }),
      headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
    })
    expect(res.status).toBe(201)
    const path = location(
      await c.post('/if/admin/new/mapping/provider', {
        name: 'Where',
        expression: '{ "where": user.path }',
      }),
    )
    const choices = await c.post(`${path}/test`, { object: 'user', name: 'grace@example.com' })
    const html = await choices.text()
    expect(html).toContain('2 users have this username')
    expect(html).toContain('goauthentik.io/sources/okta')
    const picked = await c.post(`${path}/test`, {
      object: 'user',
      name: 'grace@example.com',
      pk: String(userPk),
    })
    expect(await picked.text()).toContain(
      '&quot;where&quot;: &quot;goauthentik.io/sources/test&quot;',
    )
  })

  it('refuses a blank name, an expression that does not parse and a taken name', async () => {
    const c = await signedIn()
    const bad = await c.post('/if/admin/new/mapping/source', { name: ' ', expression: '{ "a": ' })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('This field may not be blank.')
    const syntax = await c.post('/if/admin/new/mapping/source', {
      name: 'S',
      expression: '{ "a": ',
    })
    expect(syntax.status).toBe(400)
    const html = await syntax.text()
    expect(html).toContain('Not a valid JSONata expression')
    expect(html).toContain('{ &quot;a&quot;: </textarea>')
    const taken = await c.post('/if/admin/new/mapping/source', {
      name: 'authentik default SCIM Source Mapping: User',
      expression: '{}',
    })
    expect(taken.status).toBe(400)
    expect(await taken.text()).toContain('property mapping with this name already exists.')
    const list = await mappings.listMappings(c.t.runtime.deps, 'source', {
      filter: { managedIsNull: true },
      order: [],
      page: 1,
      pageSize: 5,
    })
    expect(list.count).toBe(0)
    expect((await c.get('/if/admin/new/mapping/other')).status).toBe(404)
    expect((await c.get('/if/admin/mappings/provider/not-a-uuid')).status).toBe(404)
    expect((await c.get('/if/admin/mappings/other/x')).status).toBe(404)
  })

  it('shows a managed mapping read-only with a copy action; refuses its edit and delete', async () => {
    const c = await signedIn()
    const list = await mappings.listMappings(c.t.runtime.deps, 'provider', {
      filter: { managedIsNull: false },
      order: [],
      page: 1,
      pageSize: 5,
    })
    const managed = list.items[0] as mappings.PropertyMapping
    const path = `/if/admin/mappings/provider/${managed.id}`
    const html = await (await c.get(path)).text()
    expect(html).toContain('Read-only.')
    expect(html).not.toContain(`action="${path}/edit"`)
    expect(html).toContain(`/if/admin/new/mapping/provider?copy=${managed.id}`)
    const edit = await c.post(`${path}/edit`, { name: 'mine', expression: '{}' })
    expect(edit.status).toBe(403)
    expect((await c.get(`${path}/delete`)).status).toBe(403)
    expect((await c.post(`${path}/delete`)).status).toBe(403)
    const copy = await (await c.get(`/if/admin/new/mapping/provider?copy=${managed.id}`)).text()
    expect(copy).toContain(`value="Copy of ${managed.name}"`)
    const saved = await c.post('/if/admin/new/mapping/provider', {
      name: `Copy of ${managed.name}`,
      expression: managed.expression,
    })
    expect(saved.status).toBe(303)
  })

  it('escapes a mapping name and its test result', async () => {
    const c = await signedIn()
    const path = location(
      await c.post('/if/admin/new/mapping/provider', {
        name: XSS,
        expression: `{ "a": "${'<b>'}" }`,
      }),
    )
    await createLocalUser(c, 'someone')
    const html = await (await c.post(`${path}/test`, { object: 'user', name: 'someone' })).text()
    expect(html).not.toContain(XSS)
    expect(html).not.toContain('"<b>"')
    expect(html).toContain('&lt;b&gt;')
  })
})

describe('revoking admin tokens', () => {
  it('revokes another admin token after a confirmation; it no longer signs in', async () => {
    const c = await signedIn()
    const created = await c.post('/if/admin/tokens', { identifier: 'old/ci bot', expires: 'never' })
    const key = /id="new-token" value="([^"]+)"/.exec(await created.text())?.[1] as string
    const list = await (await c.get('/if/admin/tokens')).text()
    expect(list).toContain('/if/admin/tokens/revoke?identifier=old%2Fci%20bot')
    expect(list).toContain('You are signed in with this token')
    const confirm = await c.get('/if/admin/tokens/revoke?identifier=old%2Fci%20bot')
    expect(await confirm.text()).toContain('Revoke token old/ci bot?')
    const res = await c.post('/if/admin/tokens/revoke', { identifier: 'old/ci bot' })
    expect(res.status).toBe(303)
    expect(await (await c.get(res.headers.get('location') as string)).text()).toContain('revoked')
    await expect(tokens.getToken(c.t.runtime.deps, 'old/ci bot')).rejects.toThrow('Token not found')
    const again = await signedIn(c.t)
    expect((await again.post('/if/admin/sign-in', { token: key })).status).not.toBe(303)
  })

  it("refuses the session's own token and a source's token with the reason; 404 for none", async () => {
    const c = await signedIn()
    const list = await tokens.listTokens(c.t.runtime.deps, {
      filter: {},
      order: [],
      page: 1,
      pageSize: 50,
    })
    const own = list.items.find((d) => d.token.managed === null) as tokens.TokenDetail
    const source = list.items.find((d) => d.token.managed !== null) as tokens.TokenDetail
    const confirm = await (
      await c.get(`/if/admin/tokens/revoke?identifier=${encodeURIComponent(own.token.identifier)}`)
    ).text()
    expect(confirm).toContain('You are signed in with this token')
    expect(confirm).not.toContain('action="/if/admin/tokens/revoke"')
    const self = await c.post('/if/admin/tokens/revoke', { identifier: own.token.identifier })
    expect(self.status).toBe(400)
    expect(await self.text()).toContain('revoke it with another admin token')
    const src = await c.post('/if/admin/tokens/revoke', { identifier: source.token.identifier })
    expect(src.status).toBe(400)
    expect(await src.text()).toContain('rotate its key instead')
    expect((await c.post('/if/admin/tokens/revoke', { identifier: 'none' })).status).toBe(404)
    expect((await c.get('/if/admin/tokens/revoke?identifier=none')).status).toBe(404)
    // Still signed in.
    expect((await c.get('/if/admin/tokens')).status).toBe(200)
  })
})
