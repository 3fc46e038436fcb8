/**
 * User matching modes (issue 28): two identity providers, Entra and Okta, provision one
 * person into two sources; `email_link` / `username_link` merge them into one directory user,
 * `*_deny` refuse the second, and linking never adopts a superuser or a service account.
 */
import { describe, expect, it } from 'vitest'
import * as directory from '../../src/store/directory.js'
import { createTestApp, fixture, type TestApp } from '../support/app.js'

const EMAIL = 'ada.lovelace@example.com'

/** Entra's and Okta's create bodies for the same person (same email, different userName). */
function entraUser(email = EMAIL) {
  const body = fixture('entra/create-user.json')
  body.emails = [{ primary: true, type: 'work', value: email }]
  return body
}

function oktaUser(email = EMAIL) {
  const body = fixture('okta/create-user.json')
  body.emails = [{ primary: true, type: 'work', value: email.toUpperCase() }]
  return body
}

async function setMode(t: TestApp, slug: string, mode: string): Promise<Response> {
  return t.admin('PATCH', `/sources/scim/${slug}/`, { user_matching_mode: mode })
}

/** Two sources: `test` (Entra) and `okta`, both with `mode`; `okta` speaks through okta(). */
async function twoSources(mode: string) {
  const t = await createTestApp()
  const okta = await t.createSource('okta')
  expect((await setMode(t, t.slug, mode)).status).toBe(200)
  expect((await setMode(t, 'okta', mode)).status).toBe(200)
  const oktaScim = (method: string, path: string, body?: unknown) =>
    t.raw(method, `/source/scim/okta/v2${path}`, {
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { Authorization: `Bearer ${okta.key}`, 'Content-Type': 'application/scim+json' },
    })
  return { t, oktaScim }
}

async function directoryUsers(t: TestApp) {
  // Users provisioned by sources (the bootstrap token's user is not one).
  const res = await t.admin(
    'GET',
    '/core/users/?type=internal&path_startswith=goauthentik.io/sources/',
  )
  const body = (await res.json()) as { results: { pk: number; email: string }[] }
  return body.results
}

describe('email_link', () => {
  it('links the second source to the first source’s user; each sees only its own id', async () => {
    const { t, oktaScim } = await twoSources('email_link')
    const entra = await t.scim('POST', '/Users', entraUser())
    expect(entra.status).toBe(201)
    const entraId = ((await entra.json()) as { id: string }).id
    const okta = await oktaScim('POST', '/Users', oktaUser())
    expect(okta.status).toBe(201)
    const oktaBody = (await okta.json()) as { id: string; userName: string }
    expect(oktaBody.id).not.toBe(entraId)
    expect(oktaBody.userName).toBe('test.user@okta.local')

    const users = await directoryUsers(t)
    expect(users).toHaveLength(1)
    const connections = await t.admin('GET', '/sources/scim_users/')
    const rows = ((await connections.json()) as { results: { user: number }[] }).results
    expect(rows.map((r) => r.user)).toEqual([users[0]?.pk, users[0]?.pk])

    // Isolation: neither source reaches the other's SCIM resource, by id or by filter.
    expect((await oktaScim('GET', `/Users/${entraId}`)).status).toBe(404)
    expect((await t.scim('GET', `/Users/${oktaBody.id}`)).status).toBe(404)
    const listed = await oktaScim('GET', '/Users')
    expect(((await listed.json()) as { totalResults: number }).totalResults).toBe(1)
  })

  it('unlinks on delete and deletes the directory user only when no source holds it', async () => {
    const { t, oktaScim } = await twoSources('email_link')
    const entraId = ((await (await t.scim('POST', '/Users', entraUser())).json()) as { id: string })
      .id
    const oktaId = ((await (await oktaScim('POST', '/Users', oktaUser())).json()) as { id: string })
      .id

    // The source that created the user lets go first: Okta still holds it.
    expect((await t.scim('DELETE', `/Users/${entraId}`)).status).toBe(204)
    expect(await directoryUsers(t)).toHaveLength(1)
    expect((await oktaScim('GET', `/Users/${oktaId}`)).status).toBe(200)

    expect((await oktaScim('DELETE', `/Users/${oktaId}`)).status).toBe(204)
    expect(await directoryUsers(t)).toHaveLength(0)
  })

  it('keeps the user in the other source’s groups, and takes it out of the leaving source’s', async () => {
    const { t, oktaScim } = await twoSources('email_link')
    const entraId = ((await (await t.scim('POST', '/Users', entraUser())).json()) as { id: string })
      .id
    const oktaId = ((await (await oktaScim('POST', '/Users', oktaUser())).json()) as { id: string })
      .id
    const entraGroup = await t.scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Entra Engineers',
      members: [{ value: entraId }],
    })
    const entraGroupId = ((await entraGroup.json()) as { id: string }).id
    const oktaGroup = await oktaScim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Okta Engineers',
      members: [{ value: oktaId }],
    })
    const oktaGroupId = ((await oktaGroup.json()) as { id: string }).id

    expect((await oktaScim('DELETE', `/Users/${oktaId}`)).status).toBe(204)
    const kept = (await (await t.scim('GET', `/Groups/${entraGroupId}`)).json()) as {
      members?: { value: string }[]
    }
    expect(kept.members?.map((m) => m.value)).toEqual([entraId])
    const dropped = (await (await oktaScim('GET', `/Groups/${oktaGroupId}`)).json()) as {
      members?: unknown[]
    }
    expect(dropped.members ?? []).toEqual([])
  })

  it('deleting a source keeps the users another source holds, and a deleted connection unlinks', async () => {
    const { t, oktaScim } = await twoSources('email_link')
    await t.scim('POST', '/Users', entraUser())
    await t.scim('POST', '/Users', entraUser('only.entra@example.com'))
    const oktaId = ((await (await oktaScim('POST', '/Users', oktaUser())).json()) as { id: string })
      .id
    expect((await t.admin('DELETE', `/sources/scim/${t.slug}/`)).status).toBe(204)
    const left = await directoryUsers(t)
    expect(left.map((u) => u.email.toLowerCase())).toEqual([EMAIL])
    expect((await oktaScim('GET', `/Users/${oktaId}`)).status).toBe(200)
    // Okta now owns it: deleting its connection object deletes the user.
    expect((await t.admin('DELETE', `/sources/scim_users/${oktaId}/`)).status).toBe(204)
    expect(await directoryUsers(t)).toHaveLength(0)
  })

  it('never links a member of a superuser group', async () => {
    const { t, oktaScim } = await twoSources('email_link')
    const db = t.runtime.deps.db
    const now = new Date().toISOString()
    const pk = await directory.insertUser(db, {
      uuid: crypto.randomUUID(),
      username: 'root',
      email: EMAIL,
      password_hash: null,
      date_joined: now,
      last_login: null,
      last_updated: now,
    })
    await directory.insertGroup(db, {
      id: crypto.randomUUID(),
      name: 'admins',
      isSuperuser: true,
      now,
    })
    const admins = await directory.findGroupByName(db, 'admins')
    await directory.addGroupMember(db, admins?.id as string, pk)

    const res = await oktaScim('POST', '/Users', oktaUser())
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ scimType: 'uniqueness' })
    expect((await directory.findUserByPk(db, pk))?.username).toBe('root')
  })
})

describe('username_link', () => {
  it('links by userName regardless of case, and never to a service account', async () => {
    const { t, oktaScim } = await twoSources('username_link')
    const created = await t.scim('POST', '/Users', { ...entraUser(), userName: 'Ada' })
    expect(created.status).toBe(201)
    const linked = await oktaScim('POST', '/Users', {
      ...oktaUser('other@example.com'),
      userName: 'ada',
    })
    expect(linked.status).toBe(201)
    expect(await directoryUsers(t)).toHaveLength(1)

    // A source's service account is `ak-source-scim-<pk>`: a userName that names it is refused.
    const sources = (await (await t.admin('GET', '/sources/scim/')).json()) as {
      results: { token_obj: { user_obj: { username: string } } }[]
    }
    const account = sources.results[0]?.token_obj.user_obj.username as string
    const res = await oktaScim('POST', '/Users', {
      ...oktaUser('x@example.com'),
      userName: account,
    })
    expect(res.status).toBe(409)
  })
})

describe('*_deny', () => {
  it('email_deny refuses a user whose email another source provisioned', async () => {
    const { t, oktaScim } = await twoSources('email_deny')
    expect((await t.scim('POST', '/Users', entraUser())).status).toBe(201)
    const res = await oktaScim('POST', '/Users', oktaUser())
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ status: '409', scimType: 'uniqueness' })
    expect(await directoryUsers(t)).toHaveLength(1)
    // Another email is welcome.
    expect((await oktaScim('POST', '/Users', oktaUser('grace@example.com'))).status).toBe(201)
  })

  it('folds case beyond ASCII, as SCIM compares userName: Élodie is élodie, ΣΊΣΥΦΟΣ is σίσυφος', async () => {
    const { t, oktaScim } = await twoSources('email_deny')
    expect((await t.scim('POST', '/Users', entraUser('Élodie@Example.com'))).status).toBe(201)
    // oktaUser upper-cases the email: ÉLODIE@EXAMPLE.COM.
    expect((await oktaScim('POST', '/Users', oktaUser('élodie@example.com'))).status).toBe(409)
    const named = await twoSources('username_deny')
    const body = { ...entraUser('s@example.com'), userName: 'ΣΊΣΥΦΟΣ' }
    expect((await named.t.scim('POST', '/Users', body)).status).toBe(201)
    const again = { ...oktaUser('t@example.com'), userName: 'σίσυφος' }
    expect((await named.oktaScim('POST', '/Users', again)).status).toBe(409)
  })

  it('username_deny refuses a userName the directory has', async () => {
    const { t, oktaScim } = await twoSources('username_deny')
    expect((await t.scim('POST', '/Users', { ...entraUser(), userName: 'ada' })).status).toBe(201)
    const res = await oktaScim('POST', '/Users', { ...oktaUser('z@example.com'), userName: 'ADA' })
    expect(res.status).toBe(409)
  })
})

describe('identifier (the default)', () => {
  it('never links: the same person from two sources is two directory users', async () => {
    const { t, oktaScim } = await twoSources('identifier')
    expect((await t.scim('POST', '/Users', entraUser())).status).toBe(201)
    expect((await oktaScim('POST', '/Users', oktaUser())).status).toBe(201)
    expect(await directoryUsers(t)).toHaveLength(2)
  })

  it('refuses an unknown mode with a field error', async () => {
    const t = await createTestApp()
    const res = await setMode(t, t.slug, 'email_merge')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      user_matching_mode: ['"email_merge" is not a valid choice.'],
    })
    const source = (await (await t.admin('GET', `/sources/scim/${t.slug}/`)).json()) as {
      user_matching_mode: string
    }
    expect(source.user_matching_mode).toBe('identifier')
  })
})

describe('*_deny under concurrent creates (issue 28 item 2)', () => {
  const CREATES = 16
  const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
  /** Create `i`: the same email (email_deny) or userName (username_deny) in other cases. */
  const body = (mode: 'email_deny' | 'username_deny', i: number) =>
    mode === 'email_deny'
      ? {
          schemas: [USER],
          userName: `racer${i}`,
          emails: [{ primary: true, value: i % 3 === 0 ? EMAIL.toUpperCase() : EMAIL }],
        }
      : {
          schemas: [USER],
          userName: i % 3 === 0 ? 'RACER' : 'racer',
          emails: [{ primary: true, value: `racer${i}@example.com` }],
        }

  for (const mode of ['email_deny', 'username_deny'] as const) {
    it(`${mode}: of ${CREATES} concurrent creates from two sources, exactly one succeeds`, async () => {
      const { t, oktaScim } = await twoSources(mode)
      const statuses = await Promise.all(
        Array.from({ length: CREATES }, async (_, i) => {
          const res =
            i % 2 === 0
              ? await t.scim('POST', '/Users', body(mode, i))
              : await oktaScim('POST', '/Users', body(mode, i))
          return res.status
        }),
      )
      expect(statuses.filter((s) => s === 201)).toHaveLength(1)
      expect(statuses.filter((s) => s !== 201)).toEqual(Array(CREATES - 1).fill(409))
      const users = await directoryUsers(t)
      expect(users).toHaveLength(1)
    })
  }
})
