/**
 * Property mappings (issue 28): authentik's shapes for SCIM source and provider mappings,
 * JSONata expressions that shape what a source provisions, and every error path: a syntax
 * error, a runtime error, a runaway expression, a result that is no user, a skip.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createTestApp, fixture, type TestApp } from '../support/app.js'

type Json = Record<string, unknown>

const SOURCE_PATH = '/propertymappings/source/scim/'
const PROVIDER_PATH = '/propertymappings/provider/scim/'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

async function createMapping(t: TestApp, name: string, expression: string, path = SOURCE_PATH) {
  const res = await t.admin('POST', path, { name, expression })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await json(res)).pk as string
}

async function useMappings(t: TestApp, user: string[], group: string[] = []) {
  const res = await t.admin('PATCH', `/sources/scim/${t.slug}/`, {
    user_property_mappings: user,
    group_property_mappings: group,
  })
  expect(res.status).toBe(200)
  return json(res)
}

async function directoryUser(t: TestApp, username: string): Promise<Json | undefined> {
  const res = await json(await t.admin('GET', `/core/users/?username=${username}`))
  return (res.results as Json[])[0]
}

function entraUser(): Json {
  const body = fixture('entra/create-user.json')
  body[ENTERPRISE] = { department: 'Research', costCenter: 'CC-7' }
  return body
}

describe('/api/v3/propertymappings/{source,provider}/scim/', () => {
  it('lists the managed defaults with authentik’s fields, readable and copyable', async () => {
    const t = await createTestApp()
    const list = await json(await t.admin('GET', `${SOURCE_PATH}?managed__isnull=false`))
    const results = list.results as Json[]
    expect(results.map((m) => m.managed)).toEqual([
      'goauthentik.io/sources/scim/group',
      'goauthentik.io/sources/scim/user',
    ])
    expect(results[1]).toMatchObject({
      component: 'ak-property-mapping-source-scim-form',
      verbose_name: 'SCIM Source Property Mapping',
      verbose_name_plural: 'SCIM Source Property Mappings',
      meta_model_name: 'authentik_sources_scim.scimsourcepropertymapping',
    })
    const provider = await json(await t.admin('GET', PROVIDER_PATH))
    expect((provider.results as Json[]).map((m) => m.managed)).toEqual([
      'goauthentik.io/providers/scim/group',
      'goauthentik.io/providers/scim/user',
    ])

    // Managed: read-only. A copy is an ordinary mapping.
    const managed = results[1] as Json
    const edit = await t.admin('PATCH', `${SOURCE_PATH}${managed.pk}/`, { name: 'mine' })
    expect(edit.status).toBe(403)
    expect((await json(edit)).detail).toContain('copy it')
    expect((await t.admin('DELETE', `${SOURCE_PATH}${managed.pk}/`)).status).toBe(403)
    const copy = await createMapping(t, 'my user mapping', managed.expression as string)
    const renamed = await t.admin('PATCH', `${SOURCE_PATH}${copy}/`, { name: 'renamed' })
    expect(await json(renamed)).toMatchObject({ name: 'renamed', managed: null })
    // A source mapping is not a provider mapping.
    expect((await t.admin('GET', `${PROVIDER_PATH}${copy}/`)).status).toBe(404)
  })

  it('refuses an expression that is not JSONata, and a taken name', async () => {
    const t = await createTestApp()
    const bad = await t.admin('POST', SOURCE_PATH, { name: 'x', expression: '{ "a": ' })
    expect(bad.status).toBe(400)
    expect(((await json(bad)).expression as string[])[0]).toMatch(/^Not a valid JSONata expression/)
    await createMapping(t, 'dept', '{}')
    const taken = await t.admin('POST', SOURCE_PATH, { name: 'dept', expression: '{}' })
    expect(await json(taken)).toMatchObject({
      name: ['property mapping with this name already exists.'],
    })
  })

  it('tests a mapping against a user: its result, or its error', async () => {
    const t = await createTestApp()
    await t.scim('POST', '/Users', fixture('okta/create-user.json'))
    const user = (await directoryUser(t, 'test.user@okta.local')) as Json
    const ok = await createMapping(
      t,
      'upper',
      '{ "userName": $uppercase(user.username), "active": user.is_active }',
      PROVIDER_PATH,
    )
    const res = await t.admin('POST', `${PROVIDER_PATH}${ok}/test/`, { user: user.pk })
    const body = await json(res)
    expect(body.successful).toBe(true)
    expect(JSON.parse(body.result as string)).toEqual({
      userName: 'TEST.USER@OKTA.LOCAL',
      active: true,
    })

    const failing = await createMapping(t, 'failing', '$notAFunction(user.name)', PROVIDER_PATH)
    const failed = await json(
      await t.admin('POST', `${PROVIDER_PATH}${failing}/test/`, { user: user.pk }),
    )
    expect(failed.successful).toBe(false)
    expect(failed.result).toMatch(/Property mapping 'failing' failed/)

    const missing = await t.admin('POST', `${PROVIDER_PATH}${ok}/test/`, { user: 987654 })
    expect(missing.status).toBe(400)
  })

  it('stops a runaway expression at the time limit', async () => {
    const t = await createTestApp()
    const loop = await createMapping(
      t,
      'loop',
      '($f := function($n) { $n < 0 ? 0 : $f($n + 1) + 1 }; { "x": $f(0) })',
      PROVIDER_PATH,
    )
    const group = await json(await t.admin('POST', '/core/groups/', { name: 'g' }))
    const res = await json(
      await t.admin('POST', `${PROVIDER_PATH}${loop}/test/`, { group: group.pk }),
    )
    expect(res.successful).toBe(false)
    expect(res.result).toMatch(/D1011|D1012/)
  })

  it('lists the sources that use a mapping, and forgets it when it is deleted', async () => {
    const t = await createTestApp()
    const pk = await createMapping(t, 'dept', '{}')
    await useMappings(t, [pk])
    const usedBy = (await json(await t.admin('GET', `${SOURCE_PATH}${pk}/used_by/`))) as unknown
    expect(usedBy).toEqual([
      expect.objectContaining({ model_name: 'scimsource', name: `Source ${t.slug}` }),
    ])
    expect((await t.admin('DELETE', `${SOURCE_PATH}${pk}/`)).status).toBe(204)
    const source = await json(await t.admin('GET', `/sources/scim/${t.slug}/`))
    expect(source.user_property_mappings).toEqual([])
  })
})

describe('a source’s property mappings', () => {
  it('puts the enterprise department into attributes, and a mapped name on the user', async () => {
    const t = await createTestApp()
    const pk = await createMapping(
      t,
      'department',
      `{
        "name": $uppercase(properties.name),
        "attributes": { "department": data.\`${ENTERPRISE}\`.department }
      }`,
    )
    const source = await useMappings(t, [pk])
    expect(source.user_property_mappings).toEqual([pk])
    const res = await t.scim('POST', '/Users', entraUser())
    expect(res.status).toBe(201)
    const user = (await directoryUser(t, 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee')) as Json
    expect(user).toMatchObject({
      name: 'GIVENNAME FAMILYNAME',
      attributes: { department: 'Research' },
      email: 'Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com',
    })
    // A PATCH from Entra runs them again; attribute keys are merged, not dropped.
    const id = ((await res.json()) as Json).id as string
    const patched = await t.scim('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Sales' }],
    })
    expect(patched.status).toBe(200)
    const after = (await directoryUser(t, 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee')) as Json
    expect(after.attributes).toEqual({ department: 'Sales' })
  })

  it('runs a mapping as last saved: an edit reaches the next create (file database, kept definitions)', async () => {
    // A file database has a read connection whose state is versioned: mapping definitions
    // are kept between writes there (services/property-mappings.ts), never past an edit.
    const dir = mkdtempSync(join(tmpdir(), 'scimd-mappings-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const t = await createTestApp({ env: { DATABASE_URL: `sqlite:${join(dir, 'scimd.db')}` } })
    const pk = await createMapping(t, 'tag', '{ "attributes": { "tag": "first" } }')
    await useMappings(t, [pk])
    const create = async (userName: string) => {
      const res = await t.scim('POST', '/Users', { schemas: [USER], userName })
      expect(res.status).toBe(201)
      return ((await directoryUser(t, userName)) as Json).attributes
    }
    expect(await create('one')).toEqual({ tag: 'first' })
    expect(await create('two')).toEqual({ tag: 'first' })
    const edited = await t.admin('PATCH', `${SOURCE_PATH}${pk}/`, {
      expression: '{ "attributes": { "tag": "second" } }',
    })
    expect(edited.status).toBe(200)
    expect(await create('three')).toEqual({ tag: 'second' })
  })

  it('runs mappings in name order and deep-merges their results', async () => {
    const t = await createTestApp()
    const b = await createMapping(t, 'b', '{ "attributes": { "tags": ["b"], "who": "b" } }')
    const a = await createMapping(t, 'a', '{ "attributes": { "tags": ["a"], "who": "a", "a": 1 } }')
    await useMappings(t, [b, a])
    await t.scim('POST', '/Users', fixture('okta/create-user.json'))
    const user = (await directoryUser(t, 'test.user@okta.local')) as Json
    expect(user.attributes).toEqual({ tags: ['a', 'b'], who: 'b', a: 1 })
  })

  it('shapes groups through group mappings', async () => {
    const t = await createTestApp()
    const pk = await createMapping(t, 'prefix', '{ "name": "okta-" & data.displayName }')
    await useMappings(t, [], [pk])
    const res = await t.scim('POST', '/Groups', fixture('okta/create-group.json'))
    expect(res.status).toBe(201)
    const scim = await json(res)
    const group = await json(await t.admin('GET', `/core/groups/${scim.id}/`))
    expect(group.name).toBe(`okta-${scim.displayName}`)
  })

  it('fails the request with a SCIM error and writes nothing when a mapping fails', async () => {
    const t = await createTestApp()
    const cases: [string, string, RegExp][] = [
      ['runtime', '{ "name": $notAFunction() }', /Property mapping 'runtime' failed/],
      ['empty username', '{ "username": "" }', /'username' must be a non-empty string/],
      ['wrong type', '{ "is_active": "yes" }', /'is_active' must be true or false/],
      ['skip', 'data.userName ? $skipObject() : {}', /Property mapping 'skip' skipped this object/],
      ['loop', '($f := function($n) { $f($n + 1) }; $f(0))', /D1011|D1012/],
    ]
    for (const [name, expression, detail] of cases) {
      const pk = await createMapping(t, name, expression)
      await useMappings(t, [pk])
      const res = await t.scim('POST', '/Users', fixture('okta/create-user.json'))
      expect(res.status, name).toBe(400)
      const body = await json(res)
      expect(body, name).toMatchObject({ status: '400', scimType: 'invalidValue' })
      expect(body.detail, name).toMatch(detail)
    }
    expect(await directoryUser(t, 'test.user@okta.local')).toBeUndefined()
    const listed = await json(await t.scim('GET', '/Users'))
    expect(listed.totalResults).toBe(0)
  })

  it('leaves a user unchanged when a mapping fails on update', async () => {
    const t = await createTestApp()
    const created = await json(await t.scim('POST', '/Users', fixture('okta/create-user.json')))
    const pk = await createMapping(t, 'broken', '{ "name": $notAFunction() }')
    await useMappings(t, [pk])
    const res = await t.scim('PUT', `/Users/${created.id}`, {
      ...fixture<Json>('okta/create-user.json'),
      displayName: 'Renamed',
    })
    expect(res.status).toBe(400)
    const user = (await directoryUser(t, 'test.user@okta.local')) as Json
    expect(user.name).toBe('Test User')
    const scim = await json(await t.scim('GET', `/Users/${created.id}`))
    expect(scim.displayName).toBe('Test User')
  })

  it('refuses a mapping pk that does not exist, or is a provider mapping', async () => {
    const t = await createTestApp()
    const provider = await createMapping(t, 'p', '{}', PROVIDER_PATH)
    for (const pk of ['0193f6a0-0000-7000-8000-00000000dead', provider, 'not-a-uuid']) {
      const res = await t.admin('PATCH', `/sources/scim/${t.slug}/`, {
        user_property_mappings: [pk],
      })
      expect(res.status).toBe(400)
      expect(await json(res)).toMatchObject({
        user_property_mappings: [`Invalid pk "${pk}" - object does not exist.`],
      })
    }
  })

  it('gives the same directory user with the managed default mapping as without any', async () => {
    const plain = await createTestApp()
    const mapped = await createTestApp()
    const list = await json(
      await mapped.admin('GET', `${SOURCE_PATH}?managed=goauthentik.io/sources/scim/user`),
    )
    await useMappings(mapped, [(list.results as Json[])[0]?.pk as string])
    const bodies = [
      fixture('entra/create-user.json'),
      fixture('okta/create-user.json'),
      fixture('onelogin/create-user-emails-no-primary.json'),
      fixture('entra/create-user-no-email.json'),
      { ...fixture('okta/create-user.json'), userName: 'inactive', active: false, displayName: '' },
    ]
    for (const body of bodies) {
      expect((await plain.scim('POST', '/Users', body)).status).toBe(201)
      expect((await mapped.scim('POST', '/Users', body)).status).toBe(201)
      const username = String(body.userName)
      const keep = (u: Json | undefined) => ({
        username: u?.username,
        name: u?.name,
        email: u?.email,
        is_active: u?.is_active,
        path: u?.path,
        attributes: u?.attributes,
      })
      expect(keep(await directoryUser(mapped, username)), username).toEqual(
        keep(await directoryUser(plain, username)),
      )
    }
  })
})
