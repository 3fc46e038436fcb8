/**
 * Content and shape quirks of real clients (issue 6, item 4): each leniency scimd grants,
 * tested with the request of the client that needs it. docs/compatibility.md lists them.
 * @see issue 6
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, fixture, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SCIM_JSON = 'application/scim+json; charset=utf-8'

function hasNull(value: unknown): boolean {
  if (value === null) return true
  if (Array.isArray(value)) return value.some(hasNull)
  if (typeof value === 'object') return Object.values(value as object).some(hasNull)
  return false
}

async function createUser(t: TestApp, body: unknown): Promise<Json> {
  const res = await t.scim('POST', '/Users', body)
  expect(res.status).toBe(201)
  return (await res.json()) as Json
}

describe('request content types', () => {
  it('Google: accepts an application/json body and answers application/scim+json', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', fixture('google/create-user.json'), {
      'Content-Type': 'application/json',
      'User-Agent': 'Google-Auto-Provisioning',
    })
    expect(res.status).toBe(201)
    expect(res.headers.get('content-type')).toBe(SCIM_JSON)
    expect(await res.json()).toMatchObject({ schemas: [USER], userName: 'username@domain.com' })
  })

  it('Okta SPEC test: accepts a create without any Content-Type', async () => {
    const t = await createTestApp()
    const res = await t.raw('POST', `/source/scim/${t.slug}/v2/Users`, {
      body: JSON.stringify(fixture('okta/create-user.json')),
      headers: {
        Authorization: `Bearer ${t.key}`,
        Accept: 'application/scim+json; charset=utf-8',
      },
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ userName: 'test.user@okta.local', active: true })
  })

  it('Okta: accepts application/scim+json with a charset parameter', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', fixture('okta/create-user.json'), {
      'Content-Type': 'application/scim+json; charset=utf-8',
    })
    expect(res.status).toBe(201)
  })

  it('answers a body that is not JSON with 400 invalidSyntax (Microsoft collection "Post junk")', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', '{"acve": tre,', {
      'Content-Type': 'application/json',
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' })
  })
})

describe('response content type', () => {
  it('answers application/json to a client whose Accept lists only application/json', async () => {
    const t = await createTestApp()
    const res = await t.scim('GET', '/Users', undefined, { Accept: 'application/json' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const missing = await t.scim('GET', '/Users/nope', undefined, { Accept: 'application/json' })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8')
  })

  it('answers application/scim+json when the client accepts it, anything, or says nothing', async () => {
    const t = await createTestApp()
    for (const accept of [
      'application/scim+json',
      'application/scim+json; charset=utf-8',
      'application/json, application/scim+json',
      '*/*',
      undefined,
    ]) {
      const res = await t.scim('GET', '/Users', undefined, accept ? { Accept: accept } : {})
      expect(res.headers.get('content-type'), String(accept)).toBe(SCIM_JSON)
    }
  })
})

describe('body shapes', () => {
  it('OneLogin: reads emails sent as a single object as a one-element array', async () => {
    const t = await createTestApp()
    const user = await createUser(t, fixture('onelogin/create-user.json'))
    expect(user.emails).toEqual([{ value: 'jane.doe@example.com', type: 'work' }])
    const found = await t.scim('GET', '/Users?filter=emails.value eq "jane.doe@example.com"')
    expect(((await found.json()) as Json).totalResults).toBe(1)
  })

  it('OneLogin: the first of several emails without primary becomes the directory email', async () => {
    const t = await createTestApp()
    const user = await createUser(t, fixture('onelogin/create-user-emails-no-primary.json'))
    const row = await t.runtime.deps.db
      .selectFrom('scim_source_users as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select('u.email')
      .where('s.id', '=', user.id)
      .executeTakeFirstOrThrow()
    expect(row.email).toBe('john.roe@example.com')
  })

  it('Entra (old docs): explicit nulls mean "not set" and never come back', async () => {
    const t = await createTestApp()
    const user = await createUser(t, fixture('entra/create-user-legacy.json'))
    expect(hasNull(user)).toBe(false)
    for (const key of ['addresses', 'phoneNumbers', 'preferredLanguage', 'title']) {
      expect(user, key).not.toHaveProperty(key)
    }
    const read = (await (await t.scim('GET', `/Users/${user.id}`)).json()) as Json
    expect(hasNull(read)).toBe(false)
  })

  it('Microsoft collection: nulls inside a multi-valued complex element are dropped', async () => {
    const t = await createTestApp()
    const user = await createUser(t, {
      schemas: [USER],
      userName: 'OMalley',
      addresses: [{ country: null, formatted: '18522 Lisa Unions', locality: null, type: 'other' }],
      name: { familyName: 'OMalley', honorificPrefix: null },
    })
    expect(user.addresses).toEqual([{ formatted: '18522 Lisa Unions', type: 'other' }])
    expect(user.name).toEqual({ familyName: 'OMalley' })
  })

  it('Entra (old docs): the enterprise URN typo "…:2.0User" is read as the enterprise extension', async () => {
    const t = await createTestApp()
    const user = await createUser(t, {
      schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User'],
      userName: 'typo@contoso.com',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0User': { department: 'Sales' },
    })
    expect(user.schemas).toEqual([USER, ENTERPRISE])
    expect(user[ENTERPRISE]).toEqual({ department: 'Sales' })
    expect(user).not.toHaveProperty('urn:ietf:params:scim:schemas:extension:enterprise:2.0User')
  })

  it('Entra (old docs): enterprise attributes at the top level land in the extension', async () => {
    const t = await createTestApp()
    const user = await createUser(t, {
      schemas: [USER],
      userName: 'top@contoso.com',
      department: 'Finance',
      employeeNumber: '701984',
    })
    expect(user[ENTERPRISE]).toEqual({ department: 'Finance', employeeNumber: '701984' })
    expect(user).not.toHaveProperty('department')
  })

  it('Entra: manager as a bare id string, on create and in PATCH', async () => {
    const t = await createTestApp()
    const boss = await createUser(t, { schemas: [USER], userName: 'boss@contoso.com' })
    const user = await createUser(t, {
      schemas: [USER, ENTERPRISE],
      userName: 'report@contoso.com',
      [ENTERPRISE]: { manager: boss.id },
    })
    expect(user[ENTERPRISE].manager).toMatchObject({ value: boss.id })

    const other = await createUser(t, { schemas: [USER], userName: 'other@contoso.com' })
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: `${ENTERPRISE}:manager`, value: other.id }],
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as Json)[ENTERPRISE].manager).toMatchObject({ value: other.id })
  })

  it('Google: tolerates the SCIM 1.1 core URN next to the 2.0 User URN', async () => {
    const t = await createTestApp()
    const user = await createUser(t, fixture('google/create-user.json'))
    expect(user.schemas).toEqual([USER])
  })

  it('Microsoft collection: "True" as a string for a boolean on create', async () => {
    const t = await createTestApp()
    const user = await createUser(t, { schemas: [USER], userName: 'emp1', active: 'True' })
    expect(user.active).toBe(true)
  })

  it('Microsoft collection: attribute and sub-attribute names in any case', async () => {
    const t = await createTestApp()
    const user = await createUser(t, {
      schemas: [USER, ENTERPRISE],
      UserName: 'UserName222',
      Emails: [{ Primary: true, Type: 'work', Value: 'testing@bob2.com' }],
      [ENTERPRISE]: { Department: 'bob', Manager: { Value: 'SuzzyQ' } },
    })
    expect(user).toMatchObject({
      userName: 'UserName222',
      emails: [{ primary: true, type: 'work', value: 'testing@bob2.com' }],
      [ENTERPRISE]: { department: 'bob', manager: { value: 'SuzzyQ' } },
    })
  })
})

describe('paths', () => {
  it('Microsoft collection: a trailing slash on endpoint and resource paths', async () => {
    const t = await createTestApp()
    const user = await createUser(t, { schemas: [USER], userName: 'slash', displayName: 'Bob' })
    expect((await t.scim('GET', '/Users/')).status).toBe(200)
    expect((await t.scim('GET', `/Users/${user.id}/`)).status).toBe(200)
    const filtered = await t.scim('GET', '/Users/?filter=userName+eq+%22slash%22')
    expect(((await filtered.json()) as Json).Resources).toMatchObject([{ id: user.id }])
  })

  it('Microsoft collection: /users in lower case and /serviceConfiguration', async () => {
    const t = await createTestApp()
    const users = await t.scim('GET', '/users')
    expect(users.status).toBe(200)
    expect(((await users.json()) as Json).schemas).toEqual([
      'urn:ietf:params:scim:api:messages:2.0:ListResponse',
    ])
    const config = await t.scim('GET', '/serviceConfiguration')
    expect(config.status).toBe(200)
    expect(((await config.json()) as Json).patch).toEqual({ supported: true })
  })

  it('answers other spellings of endpoint names with a SCIM 404', async () => {
    const t = await createTestApp()
    for (const path of ['/USERS', '/UsErS', '/User', '/serviceconfiguration']) {
      const res = await t.scim('GET', path)
      expect(res.status, path).toBe(404)
      expect(await res.json()).toMatchObject({ status: '404' })
    }
  })
})
