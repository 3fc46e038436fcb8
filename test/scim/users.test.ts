import { describe, expect, it } from 'vitest'
import { createTestApp, fixture, fixtureWith } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

async function createUser(
  t: Awaited<ReturnType<typeof createTestApp>>,
  body: Json = fixture('entra/create-user.json'),
) {
  const res = await t.scim('POST', '/Users', body)
  expect(res.status).toBe(201)
  return (await res.json()) as Json
}

describe('POST /Users', () => {
  it('creates a user with a server id, Location, ETag and full meta', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', fixture('entra/create-user.json'))
    expect(res.status).toBe(201)
    expect(res.headers.get('content-type')).toBe('application/scim+json; charset=utf-8')
    const body = (await res.json()) as Json
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.headers.get('location')).toBe(
      `http://scimd.test/source/scim/test/v2/Users/${body.id}`,
    )
    expect(res.headers.get('etag')).toBe('W/"1"')
    expect(body.meta).toEqual({
      resourceType: 'User',
      created: expect.stringMatching(/Z$/),
      lastModified: body.meta.created,
      location: res.headers.get('location'),
      version: 'W/"1"',
    })
    expect(body.userName).toBe('Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee')
    expect(body.externalId).toBe('0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef')
    expect(body.name).toEqual({
      formatted: 'givenName familyName',
      familyName: 'familyName',
      givenName: 'givenName',
    })
  })

  it('round-trips the core schema and the enterprise extension completely', async () => {
    const t = await createTestApp()
    const sent = {
      schemas: [USER, ENTERPRISE],
      userName: 'bjensen@example.com',
      name: {
        formatted: 'Ms. Barbara J Jensen III',
        familyName: 'Jensen',
        givenName: 'Barbara',
        middleName: 'Jane',
        honorificPrefix: 'Ms.',
        honorificSuffix: 'III',
      },
      displayName: 'Babs Jensen',
      nickName: 'Babs',
      profileUrl: 'https://login.example.com/bjensen',
      title: 'Tour Guide',
      userType: 'Employee',
      preferredLanguage: 'en-US',
      locale: 'en-US',
      timezone: 'America/Los_Angeles',
      active: true,
      emails: [
        { value: 'bjensen@example.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      phoneNumbers: [{ value: '555-555-5555', type: 'work' }],
      ims: [{ value: 'someaimhandle', type: 'aim' }],
      photos: [
        { value: 'https://photos.example.com/profilephoto/72930000000Ccne/F', type: 'photo' },
      ],
      addresses: [
        {
          type: 'work',
          streetAddress: '100 Universal City Plaza',
          locality: 'Hollywood',
          region: 'CA',
          postalCode: '91608',
          country: 'USA',
          formatted: '100 Universal City Plaza\nHollywood, CA 91608 USA',
          primary: true,
        },
      ],
      entitlements: [{ value: 'ent1' }],
      roles: [{ value: 'admin', type: 'app', primary: true }],
      x509Certificates: [
        { value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx' },
      ],
      [ENTERPRISE]: {
        employeeNumber: '701984',
        costCenter: '4130',
        organization: 'Universal Studios',
        division: 'Theme Park',
        department: 'Tour Operations',
        manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
      },
    }
    const created = await createUser(t, sent)
    const res = await t.scim('GET', `/Users/${created.id}`)
    const got = (await res.json()) as Json
    const { schemas, ...attributes } = sent
    expect(got).toMatchObject(attributes)
    expect(got.schemas).toEqual([USER, ENTERPRISE])
  })

  it('never returns or stores the password in plaintext', async () => {
    const t = await createTestApp()
    const body = await createUser(t, fixture('okta/create-user.json'))
    expect(body).not.toHaveProperty('password')
    const got = (await (await t.scim('GET', `/Users/${body.id}`)).json()) as Json
    expect(got).not.toHaveProperty('password')
    const row = await t.runtime.deps.db
      .selectFrom('users')
      .select(['password_hash'])
      .where('uuid', '=', body.id)
      .executeTakeFirstOrThrow()
    expect(row.password_hash).toMatch(/^scrypt\$/)
    expect(row.password_hash).not.toContain('1mz050nq')
    const stored = await t.runtime.deps.db
      .selectFrom('scim_source_users')
      .select('resource')
      .where('id', '=', body.id)
      .executeTakeFirstOrThrow()
    expect(stored.resource).not.toContain('1mz050nq')
  })

  it('answers a duplicate userName, in any case, with 409 uniqueness', async () => {
    const t = await createTestApp()
    await createUser(t, fixture('okta/create-user.json'))
    const res = await t.scim('POST', '/Users', {
      ...fixture<Json>('okta/create-user.json'),
      userName: 'TEST.USER@okta.local',
    })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({
      schemas: [ERROR],
      status: '409',
      scimType: 'uniqueness',
    })
  })

  it('writes the directory user, the SCIM row and every email in one go, or nothing', async () => {
    const t = await createTestApp()
    const db = t.runtime.deps.db
    const body = await createUser(t, {
      schemas: [USER],
      userName: 'Ünal.Two@Example.com',
      externalId: 'ext-two',
      emails: [
        { value: 'Ünal.Two@Example.com', type: 'work', primary: true },
        { value: 'HOME@example.org', type: 'home' },
        { value: 'other@example.net' },
      ],
    })
    const scimRow = await db
      .selectFrom('scim_source_users')
      .innerJoin('users', 'users.id', 'scim_source_users.user_id')
      .select(['users.uuid', 'users.email', 'external_id', 'user_name_key', 'version'])
      .where('scim_source_users.id', '=', body.id)
      .executeTakeFirstOrThrow()
    expect(scimRow).toEqual({
      uuid: body.id,
      email: 'Ünal.Two@Example.com',
      external_id: 'ext-two',
      user_name_key: 'ünal.two@example.com',
      version: 1,
    })
    const emails = await db
      .selectFrom('scim_source_user_emails')
      .select(['position', 'value', 'value_key', 'type', 'is_primary'])
      .where('user_id', '=', body.id)
      .orderBy('position')
      .execute()
    expect(emails).toEqual([
      {
        position: 0,
        value: 'Ünal.Two@Example.com',
        value_key: 'ünal.two@example.com',
        type: 'work',
        is_primary: 1,
      },
      {
        position: 1,
        value: 'HOME@example.org',
        value_key: 'home@example.org',
        type: 'home',
        is_primary: 0,
      },
      {
        position: 2,
        value: 'other@example.net',
        value_key: 'other@example.net',
        type: null,
        is_primary: 0,
      },
    ])
    const found = await t.scim(
      'GET',
      `/Users?filter=${encodeURIComponent('emails eq "home@EXAMPLE.org"')}`,
    )
    expect(((await found.json()) as Json).Resources.map((r: Json) => r.id)).toEqual([body.id])

    // A refused create leaves no directory user, SCIM row or email behind.
    const count = async (table: 'users' | 'scim_source_users' | 'scim_source_user_emails') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    const before = [
      await count('users'),
      await count('scim_source_users'),
      await count('scim_source_user_emails'),
    ]
    const duplicate = await t.scim('POST', '/Users', {
      schemas: [USER],
      userName: 'ünal.two@example.COM',
      emails: [{ value: 'dup@example.com' }],
    })
    expect(duplicate.status).toBe(409)
    expect([
      await count('users'),
      await count('scim_source_users'),
      await count('scim_source_user_emails'),
    ]).toEqual(before)
  })

  it('ignores readOnly attributes and keeps the directory user in step', async () => {
    const t = await createTestApp()
    const body = await createUser(t, {
      ...fixture<Json>('okta/create-user.json'),
      id: 'client-chosen',
      meta: { created: '2000-01-01T00:00:00Z' },
    })
    expect(body.id).not.toBe('client-chosen')
    expect(body.meta.created).not.toBe('2000-01-01T00:00:00Z')
    expect(body).not.toHaveProperty('groups')
    const user = await t.runtime.deps.db
      .selectFrom('users')
      .selectAll()
      .where('uuid', '=', body.id)
      .executeTakeFirstOrThrow()
    expect(user).toMatchObject({
      username: 'test.user@okta.local',
      name: 'Test User',
      email: 'test.user@okta.local',
      is_active: 1,
      path: 'goauthentik.io/sources/test',
    })
  })

  it('accepts Entra’s legacy body with nulls and the enterprise URN typo', async () => {
    const t = await createTestApp()
    const body = await createUser(t, fixture('entra/create-user-legacy.json'))
    expect(body).toMatchObject({
      userName: 'jyoung@testuser.com',
      displayName: 'Joy Young',
      active: true,
    })
    expect(body).not.toHaveProperty('addresses')
  })
})

describe('GET /Users/:id', () => {
  it('is 404 with a SCIM error for an unknown id', async () => {
    const t = await createTestApp()
    const res = await t.scim('GET', '/Users/010101001010101011001010101011')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({
      schemas: [ERROR],
      status: '404',
      detail: expect.any(String),
    })
  })

  it('answers 304 to If-None-Match with the current version', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('GET', `/Users/${user.id}`, undefined, { 'If-None-Match': 'W/"1"' })
    expect(res.status).toBe(304)
    // Compared weakly (RFC 7232 §3.2): the strong spelling of the tag names the same version.
    for (const [header, status] of [
      ['"1"', 304],
      ['"0", W/"1"', 304],
      ['W/"2"', 200],
      ['"2"', 200],
    ] as const) {
      const again = await t.scim('GET', `/Users/${user.id}`, undefined, { 'If-None-Match': header })
      expect(again.status).toBe(status)
    }
  })
})

describe('PUT /Users/:id', () => {
  it('replaces the resource: what is not sent is cleared', async () => {
    const t = await createTestApp()
    const user = await createUser(t, fixture('okta/create-user.json'))
    const put = fixtureWith<Json>('okta/replace-user.json', {
      '23a35c27-23d3-4c03-b4c5-6443c09e7173': user.id,
    })
    const res = await t.scim('PUT', `/Users/${user.id}`, put)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Json
    expect(body.name).toEqual({ givenName: 'Another', middleName: 'Excited', familyName: 'User' })
    expect(body).not.toHaveProperty('displayName')
    expect(body).not.toHaveProperty('locale')
    expect(body).not.toHaveProperty('externalId')
    expect(body.meta.version).toBe('W/"2"')
    expect(body.meta.created).toBe(user.meta.created)
  })

  it('is 400 invalidValue without userName, and changes nothing', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('PUT', `/Users/${user.id}`, { schemas: [USER], displayName: 'x' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' })
    const after = (await (await t.scim('GET', `/Users/${user.id}`)).json()) as Json
    expect(after.meta.version).toBe('W/"1"')
  })

  it('refuses a stale If-Match with 412', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('PUT', `/Users/${user.id}`, { userName: 'x' }, { 'If-Match': 'W/"7"' })
    expect(res.status).toBe(412)
  })
})

describe('PATCH /Users/:id', () => {
  it('applies Entra’s default multi-attribute replace', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim(
      'PATCH',
      `/Users/${user.id}`,
      fixture('entra/patch-user-replace-multi.json'),
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as Json
    expect(body).toMatchObject({
      displayName: 'Pvlo',
      externalId: 'Eqpj',
      name: { givenName: 'Gtfd', familyName: 'Pkqf' },
      emails: [{ type: 'work', value: 'TestBcwqnm@test.microsoft.com', primary: true }],
      [ENTERPRISE]: { employeeNumber: 'Eqpj' },
    })
    expect(body.schemas).toEqual([USER, ENTERPRISE])
    const email = await t.scim(
      'GET',
      '/Users?filter=emails[type eq "work"].value eq "testbcwqnm@test.microsoft.com"',
    )
    expect(((await email.json()) as Json).totalResults).toBe(1)
  })

  it('applies the aadOptscim062020 form with dotted and URN keys', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim(
      'PATCH',
      `/Users/${user.id}`,
      fixture('entra/patch-user-replace-multi-flagged.json'),
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      displayName: 'Bjfe',
      name: { givenName: 'Kkom', familyName: 'Unua' },
      emails: [{ type: 'work', value: 'TestMhvaes@test.microsoft.com' }],
      [ENTERPRISE]: { employeeNumber: 'Aklq' },
    })
  })

  it('deactivates with Entra’s "False" string and Okta’s pathless body, and the directory follows', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const entra = await t.scim(
      'PATCH',
      `/Users/${user.id}`,
      fixture('entra/patch-user-disable-string.json'),
    )
    expect(((await entra.json()) as Json).active).toBe(false)
    const okta = await createUser(t, fixture('okta/create-user.json'))
    const res = await t.scim(
      'PATCH',
      `/Users/${okta.id}`,
      fixture('okta/patch-user-deactivate.json'),
    )
    expect(((await res.json()) as Json).active).toBe(false)
    const rows = await t.runtime.deps.db
      .selectFrom('users')
      .select(['uuid', 'is_active'])
      .where('uuid', 'in', [user.id, okta.id])
      .execute()
    expect(rows.map((r) => r.is_active)).toEqual([0, 0])
    // An inactive user is still returned by GET and by filters (Entra).
    const list = await t.scim('GET', `/Users?filter=userName eq "${okta.userName}"`)
    expect(((await list.json()) as Json).totalResults).toBe(1)
  })

  it('adds the manager from Entra’s single-element array', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim(
      'PATCH',
      `/Users/${user.id}`,
      fixture('entra/patch-user-add-manager.json'),
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as Json)[ENTERPRISE]).toEqual({
      manager: {
        value: '00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
        $ref: 'http://.../scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
      },
    })
  })

  it('creates a work email on Add with a filter that matches nothing (Entra)', async () => {
    const t = await createTestApp()
    const user = await createUser(t, { schemas: [USER], userName: 'no-email' })
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'new@example.com' }],
    })
    expect(((await res.json()) as Json).emails).toEqual([
      { type: 'work', value: 'new@example.com' },
    ])
  })

  it('is 400 noTarget when replace’s filter matches nothing', async () => {
    const t = await createTestApp()
    const user = await createUser(t, { schemas: [USER], userName: 'no-email' })
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'x@example.com' }],
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'noTarget' })
  })

  it('applies all operations or none', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Changed' },
        { op: 'replace', path: 'userName', value: 'changed' },
        { op: 'replace', path: 'active', value: 'maybe' },
      ],
    })
    expect(res.status).toBe(400)
    const after = (await (await t.scim('GET', `/Users/${user.id}`)).json()) as Json
    expect(after.userName).toBe(user.userName)
    expect(after).not.toHaveProperty('displayName')
    expect(after.meta.version).toBe('W/"1"')
  })

  it('refuses a change of the readOnly id with 400 mutability', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'id', value: 'x' }],
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'mutability' })
  })

  it('answers a userName taken by another user with 409 and keeps the user as it was', async () => {
    const t = await createTestApp()
    await createUser(t, { schemas: [USER], userName: 'taken' })
    const user = await createUser(t, { schemas: [USER], userName: 'free' })
    const res = await t.scim(
      'PATCH',
      `/Users/${user.id}`,
      fixture('entra/patch-user-replace-username.json'),
    )
    expect(res.status).toBe(200)
    const clash = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'TAKEN' }],
    })
    expect(clash.status).toBe(409)
    expect(await clash.json()).toMatchObject({ scimType: 'uniqueness' })
  })
})

describe('DELETE /Users/:id', () => {
  it('answers 204, then 404, and removes the directory user', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    expect((await t.scim('DELETE', `/Users/${user.id}`)).status).toBe(204)
    expect((await t.scim('GET', `/Users/${user.id}`)).status).toBe(404)
    expect((await t.scim('DELETE', `/Users/${user.id}`)).status).toBe(404)
    const rows = await t.runtime.deps.db
      .selectFrom('users')
      .select('id')
      .where('uuid', '=', user.id)
      .execute()
    expect(rows).toEqual([])
  })
})

describe('GET /Users (list)', () => {
  async function seed(n: number) {
    const t = await createTestApp()
    const ids: string[] = []
    for (let i = 0; i < n; i++)
      ids.push(
        (
          await createUser(t, {
            schemas: [USER],
            userName: `user${i}`,
            externalId: `ext${i}`,
            emails: [{ value: `u${i}@example.com`, type: 'work' }],
          })
        ).id,
      )
    return { t, ids }
  }

  it('pages with a 1-based startIndex, exact totals and a stable order', async () => {
    const { t, ids } = await seed(5)
    const seen: string[] = []
    for (let start = 1; start <= 5; start += 2) {
      const page = (await (
        await t.scim('GET', `/Users?startIndex=${start}&count=2`)
      ).json()) as Json
      expect(page).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 5,
        startIndex: start,
      })
      expect(page.itemsPerPage).toBe(page.Resources.length)
      seen.push(...page.Resources.map((r: Json) => r.id))
    }
    expect(seen).toEqual(ids)
    const past = (await (await t.scim('GET', '/Users?startIndex=50&count=2')).json()) as Json
    expect(past).toMatchObject({ totalResults: 5, itemsPerPage: 0, startIndex: 50, Resources: [] })
    const zero = (await (await t.scim('GET', '/Users?startIndex=0&count=0')).json()) as Json
    expect(zero).toMatchObject({ totalResults: 5, itemsPerPage: 0, startIndex: 1 })
    // However far past: beyond 2^63 SQLite refused the OFFSET (a 500).
    for (const path of ['/Users', '/Groups']) {
      const res = await t.scim('GET', `${path}?startIndex=99999999999999999999&count=2`)
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ itemsPerPage: 0, Resources: [] })
    }
    const searched = await t.scim('POST', '/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      startIndex: 1e20,
    })
    expect(searched.status).toBe(200)
    // A query string's integers are decimal digits: not hex, exponents or blanks (read as 0).
    for (const bad of ['0x10', '1e3', '%20', '1.5', 'ten']) {
      const res = await t.scim('GET', `/Users?count=${bad}`)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
    }
    expect((await t.scim('GET', '/Users?count=+2&startIndex=%202')).status).toBe(200)
  })

  it('finds users by the identity providers’ existence checks', async () => {
    const { t, ids } = await seed(3)
    const cases: Array<[string, number]> = [
      [`id eq "${ids[1]}"`, 1],
      ['userName eq "USER2"', 1],
      ['externalId eq "ext0"', 1],
      ['externalId eq ext0', 1],
      ['externalId eq "EXT0"', 0],
      ['emails.value eq "U1@example.com"', 1],
      ['emails[type eq "work"].value eq "u2@example.com"', 1],
      ['emails[type eq "home"].value eq "u2@example.com"', 0],
      ['userName eq "user1" and externalId eq "ext1"', 1],
      ['userName eq "Test_User_random-guid"', 0],
    ]
    for (const [filter, expected] of cases) {
      const res = await t.scim(
        'GET',
        `/Users?filter=${encodeURIComponent(filter)}&startIndex=1&count=100`,
      )
      expect(res.status, filter).toBe(200)
      expect(((await res.json()) as Json).totalResults, filter).toBe(expected)
    }
  })

  it('answers a userName existence check (the one-lookup path) like any other list', async () => {
    const { t, ids } = await seed(2)
    const list = async (query: string) =>
      (await (await t.scim('GET', `/Users?${query}`)).json()) as Json
    const eq = encodeURIComponent('userName eq "USER1"')
    const urn = encodeURIComponent('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "user1"')
    for (const filter of [eq, urn]) {
      const found = await list(`filter=${filter}`)
      expect(found).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 })
      expect(found.Resources[0]).toMatchObject({ id: ids[1], userName: 'user1' })
    }
    expect(await list(`filter=${eq}&startIndex=2`)).toMatchObject({
      totalResults: 1,
      startIndex: 2,
      itemsPerPage: 0,
      Resources: [],
    })
    expect(await list(`filter=${eq}&count=0`)).toMatchObject({ totalResults: 1, itemsPerPage: 0 })
    expect(await list(`filter=${eq}&attributes=userName`)).toMatchObject({
      Resources: [{ id: ids[1], userName: 'user1' }],
    })
    const projected = await list(`filter=${eq}&attributes=userName`)
    expect(Object.keys(projected.Resources[0]).sort()).toEqual([
      'id',
      'meta',
      'schemas',
      'userName',
    ])
    expect(projected.Resources[0].meta).toEqual({ resourceType: 'User' })
    const noMeta = await t.scim('GET', `/Users/${ids[1]}?excludedAttributes=meta`)
    expect(((await noMeta.json()) as Json).meta).toEqual({ resourceType: 'User' })
    expect(await list(`filter=${encodeURIComponent('userName eq "nobody"')}`)).toMatchObject({
      totalResults: 0,
      Resources: [],
    })
  })

  it('rejects a filter on an unknown attribute or with bad syntax as 400 invalidFilter', async () => {
    const t = await createTestApp()
    for (const filter of [
      'nope eq "x"',
      'userName eq "a" and',
      'userName xx "a"',
      '(userName eq "a"',
    ]) {
      const res = await t.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`)
      expect(res.status, filter).toBe(400)
      expect(await res.json(), filter).toMatchObject({ status: '400', scimType: 'invalidFilter' })
    }
  })

  it('rejects a non-integer count with 400 invalidValue', async () => {
    const t = await createTestApp()
    const res = await t.scim('GET', '/Users?count=ten')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
  })

  it('caps count at the advertised maximum', async () => {
    const { t } = await seed(3)
    const res = (await (await t.scim('GET', '/Users?count=100000')).json()) as Json
    expect(res.itemsPerPage).toBe(3)
    const spc = (await (await t.scim('GET', '/ServiceProviderConfig')).json()) as Json
    expect(spc.filter.maxResults).toBe(1000)
  })
})

describe('bad input', () => {
  it('answers malformed JSON with 400 invalidSyntax', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Users', '{"userName": "x",')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' })
  })

  it('answers a body that is not UTF-8 with 400 invalidSyntax, and stores nothing', async () => {
    const t = await createTestApp()
    // {"userName":"café"} with é in Latin-1 (0xE9), as a client ignoring RFC 7644 §3.8 sends it.
    const latin1 = Buffer.from('{"userName":"caf\u00e9"}', 'latin1')
    const res = await t.raw('POST', '/source/scim/test/v2/Users', {
      body: latin1,
      headers: { Authorization: `Bearer ${t.key}`, 'Content-Type': 'application/scim+json' },
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'invalidSyntax' })
    const list = (await (await t.scim('GET', '/Users')).json()) as Json
    expect(list.totalResults).toBe(0)
    const utf8 = await t.scim('POST', '/Users', { userName: 'caf\u00e9' })
    expect(await utf8.json()).toMatchObject({ userName: 'café' })
  })

  it('refuses a lone surrogate anywhere in a body with 400, and keeps emoji', async () => {
    const t = await createTestApp()
    const created = await t.scim('POST', '/Users', { userName: 'sam' })
    const { id } = (await created.json()) as Json
    // As clients send it: a JSON escape (a raw lone surrogate cannot be UTF-8).
    const bodies: Array<[string, string, string]> = [
      ['POST', '/Users', '{"userName":"a\\ud800b"}'],
      ['POST', '/Users', '{"userName":"s2","externalId":"\\udc00"}'],
      ['POST', '/Groups', '{"displayName":"g\\ud83d"}'],
      ['PUT', `/Users/${id}`, '{"userName":"sam","name":{"givenName":"\\udbff"}}'],
      [
        'PATCH',
        `/Users/${id}`,
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"\\ud800"}]}',
      ],
    ]
    for (const [method, path, body] of bodies) {
      const res = await t.scim(method, path, body)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
    }
    const after = (await (await t.scim('GET', `/Users/${id}`)).json()) as Json
    expect(after.meta.version).toBe('W/"1"')
    expect(((await (await t.scim('GET', '/Users')).json()) as Json).totalResults).toBe(1)
    const emoji = await t.scim('POST', '/Users', '{"userName":"smile\\ud83d\\ude00"}')
    expect(await emoji.json()).toMatchObject({ userName: 'smile\u{1F600}' })
  })

  it('answers a compressed body with 415, and takes identity as no coding', async () => {
    const t = await createTestApp()
    const gzip = await t.scim(
      'POST',
      '/Users',
      { userName: 'zipped' },
      { 'Content-Encoding': 'gzip' },
    )
    expect(gzip.status).toBe(415)
    expect(await gzip.json()).toMatchObject({ status: '415' })
    const plain = await t.scim(
      'POST',
      '/Users',
      { userName: 'plain' },
      { 'Content-Encoding': 'identity' },
    )
    expect(plain.status).toBe(201)
    const list = (await (await t.scim('GET', '/Users')).json()) as Json
    expect(list.totalResults).toBe(1)
  })

  it('answers a JSON array or a wrongly typed attribute with 400', async () => {
    const t = await createTestApp()
    expect((await t.scim('POST', '/Users', [{ userName: 'x' }])).status).toBe(400)
    const res = await t.scim('POST', '/Users', { userName: 'x', active: 'sometimes' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
    const num = await t.scim('POST', '/Users', { userName: 42 })
    expect(num.status).toBe(400)
  })

  it('answers an oversized body with 413 and writes nothing', async () => {
    const t = await createTestApp({ env: { SCIMD_MAX_BODY_BYTES: '2048' } })
    const res = await t.scim('POST', '/Users', { userName: 'big', displayName: 'x'.repeat(5000) })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ status: '413' })
    const list = (await (await t.scim('GET', '/Users')).json()) as Json
    expect(list.totalResults).toBe(0)
  })

  it('refuses NUL characters in bodies, filters and paths with 400 (PostgreSQL cannot store them)', async () => {
    const t = await createTestApp()
    const requests: Array<[string, string, unknown?]> = [
      ['POST', '/Users', { userName: 'a\u0000b' }],
      ['POST', '/Users', { userName: 'ok', name: { givenName: 'x\u0000' } }],
      ['GET', `/Users?filter=${encodeURIComponent('userName eq "a\u0000"')}`],
      ['GET', '/Users/a%00b'],
    ]
    for (const [method, path, body] of requests) {
      const res = await t.scim(method, path, body)
      expect(res.status, path).toBe(400)
      expect(await res.json()).toMatchObject({ status: '400', scimType: 'invalidValue' })
    }
    expect(((await (await t.scim('GET', '/Users')).json()) as Json).totalResults).toBe(0)
  })

  it('drops attributes named like Object.prototype members instead of storing them', async () => {
    const t = await createTestApp()
    for (const key of ['__proto__', 'constructor', 'valueOf', 'toString']) {
      const body = `{"${key}": {"x": 1}, "userName": "u-${key}", "name": {"${key}": 1, "givenName": "G"}}`
      const res = await t.scim('POST', '/Users', body)
      expect(res.status, key).toBe(201)
      const created = (await res.json()) as Json
      expect(Object.hasOwn(created, key), key).toBe(false)
      expect(created.name).toEqual({ givenName: 'G' })
      const patch = await t.scim('PATCH', `/Users/${created.id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: key, value: 1 }],
      })
      expect(patch.status, key).toBe(400)
    }
  })

  it('answers an invalid PATCH op with 400 invalidSyntax', async () => {
    const t = await createTestApp()
    const user = await createUser(t)
    const res = await t.scim('PATCH', `/Users/${user.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'merge', path: 'displayName', value: 'x' }],
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'invalidSyntax' })
  })

  it('answers methods a path does not support with 405 and the methods it does in Allow', async () => {
    const t = await createTestApp()
    const { id } = await createUser(t, { userName: 'allow@example.com' })
    for (const [method, path, allow] of [
      ['DELETE', '/Users', 'GET, HEAD, POST'],
      ['PUT', '/Groups', 'GET, HEAD, POST'],
      ['POST', `/Users/${id}`, 'GET, HEAD, PUT, PATCH, DELETE'],
      ['POST', '/ServiceProviderConfig', 'GET, HEAD'],
      ['DELETE', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User', 'GET, HEAD'],
    ] as const) {
      const res = await t.scim(method, path, method === 'DELETE' ? undefined : {})
      expect(res.status, `${method} ${path}`).toBe(405)
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow)
      expect(await res.json()).toMatchObject({ status: '405' })
      for (const allowed of allow.split(', ').filter((m) => m === 'GET' || m === 'HEAD')) {
        expect((await t.scim(allowed, path)).status, `${allowed} ${path}`).toBe(200)
      }
    }
  })
})
