/**
 * Filters over HTTP on a real database (SQLite, or PostgreSQL with DATABASE_URL): every
 * attribute kind of the User, enterprise User and Group schemas, the schema's case rules,
 * the leniencies real clients need, and 400 invalidFilter for the rest.
 */
import { describe, expect, it } from 'vitest'
import { ENTERPRISE_USER_URN } from '../../src/scim/schema/resource-types.js'
import { createTestApp, fixture, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

async function post(t: TestApp, path: string, body: Json): Promise<string> {
  const res = await t.scim('POST', path, body)
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201)
  return ((await res.json()) as Json).id
}

/** A small directory with every kind of attribute; returns ids by userName / group name. */
async function directory() {
  const t = await createTestApp()
  const ids: Record<string, string> = {}
  ids.alice = await post(t, '/Users', {
    schemas: [USER, ENTERPRISE_USER_URN],
    userName: 'Alice',
    externalId: 'ext-A',
    displayName: 'Alice Adams',
    title: '50%_off',
    active: true,
    name: { givenName: 'Alice', familyName: 'Adams' },
    emails: [
      { value: 'Alice@Example.com', type: 'work', primary: true },
      { value: 'alice@home.org', type: 'home' },
    ],
    phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
    addresses: [{ locality: 'Paris', country: 'FR', type: 'home' }],
    roles: [{ value: 'admin', primary: true }],
    [ENTERPRISE_USER_URN]: {
      employeeNumber: '007',
      department: 'R&D',
      manager: { value: 'mgr-1' },
    },
  })
  ids.bob = await post(t, '/Users', {
    schemas: [USER],
    userName: 'bob',
    externalId: 'EXT-B',
    displayName: 'Bob Builder',
    title: '',
    active: false,
    name: { familyName: 'Builder' },
    emails: [{ value: 'bob@work.example', type: 'work' }],
    phoneNumbers: [
      { value: '+44 20 7946', type: 'work' },
      { value: '+1 555 0199', type: 'home' },
    ],
    addresses: [{ locality: 'paris', type: 'work' }],
  })
  ids.emile = await post(t, '/Users', {
    schemas: [USER, ENTERPRISE_USER_URN],
    userName: 'Émile',
    displayName: 'Émile Zola',
    nickName: 'Mile_5',
    [ENTERPRISE_USER_URN]: { employeeNumber: '12', manager: { value: 'mgr-2' } },
  })
  ids.carol = await post(t, '/Users', { schemas: [USER], userName: 'carol' })
  ids.team = await post(t, '/Groups', {
    schemas: [GROUP],
    displayName: 'Team',
    externalId: 'g-team',
    members: [{ value: ids.alice }, { value: ids.bob }],
  })
  ids.sub = await post(t, '/Groups', {
    schemas: [GROUP],
    displayName: 'Sub_Team%',
    members: [{ value: ids.emile }],
  })
  ids.empty = await post(t, '/Groups', { schemas: [GROUP], displayName: 'Empty' })
  const nest = await t.scim('PATCH', `/Groups/${ids.team}`, {
    schemas: [PATCH],
    Operations: [{ op: 'add', path: 'members', value: [{ value: ids.sub, type: 'Group' }] }],
  })
  expect(nest.status).toBeLessThan(300)
  const names = Object.fromEntries(Object.entries(ids).map(([k, v]) => [v, k]))
  return { t, ids, names }
}

async function query(t: TestApp, path: string, filter: string): Promise<Response> {
  return t.scim('GET', `${path}?count=100&filter=${encodeURIComponent(filter)}`)
}

async function matches(
  t: TestApp,
  path: string,
  filter: string,
  names: Record<string, string>,
): Promise<string[]> {
  const res = await query(t, path, filter)
  const body = (await res.json()) as Json
  expect(res.status, `${filter}: ${JSON.stringify(body)}`).toBe(200)
  expect(body.totalResults, filter).toBe(body.Resources.length)
  return (body.Resources as Json[]).map((r) => names[r.id] ?? r.id).sort()
}

describe('filters on users', () => {
  it('answers every operator on every kind of attribute as the schema says', async () => {
    const { t, ids, names } = await directory()
    const cases: Array<[string, string[]]> = [
      // caseExact false: userName (key column, full Unicode folding), JSON strings (ASCII folding)
      ['userName eq "ALICE"', ['alice']],
      ['userName eq "émile"', ['emile']],
      ['userName sw "É"', ['emile']],
      ['userName co "L"', ['alice', 'carol', 'emile']],
      ['userName ew "B"', ['bob']],
      ['userName gt "bob"', ['carol', 'emile']],
      ['userName le "bob"', ['alice', 'bob']],
      ['displayName eq "alice adams"', ['alice']],
      ['displayName eq "ÉMILE ZOLA"', ['emile']],
      ['displayName eq "émile zola"', []],
      ['name.familyName eq "BUILDER"', ['bob']],
      ['name.givenName pr', ['alice']],
      ['name pr', ['alice', 'bob']],
      ['not (name pr)', ['carol', 'emile']],
      // caseExact true: id, externalId
      [`id eq "${ids.alice}"`, ['alice']],
      [`id eq "${ids.alice?.toUpperCase()}"`, []],
      ['externalId eq "ext-A"', ['alice']],
      ['externalId eq "EXT-A"', []],
      ['externalId co "X"', ['bob']],
      ['externalId sw "ext"', ['alice']],
      ['externalId pr', ['alice', 'bob']],
      // % and _ are not wildcards
      ['title co "%_"', ['alice']],
      ['title sw "50%"', ['alice']],
      ['title co "0_"', []],
      ['nickName ew "_5"', ['emile']],
      ['nickName co "E_"', ['emile']],
      // an empty string is not "present"; ne is the complement of eq (absent values included)
      ['title pr', ['alice']],
      ['title eq ""', ['bob']],
      ['title ne "50%_off"', ['bob', 'carol', 'emile']],
      ['title eq null', ['bob', 'carol', 'emile']],
      ['title ne null', ['alice']],
      // booleans, including Entra's "True"/"False" strings
      ['active eq true', ['alice']],
      ['active eq "False"', ['bob']],
      ['active ne true', ['bob', 'carol', 'emile']],
      ['active eq "maybe"', []],
      ['active pr', ['alice', 'bob']],
      // multi-valued: any value matches; complex filters apply to one element
      ['emails.value eq "ALICE@example.COM"', ['alice']],
      ['emails co "home"', ['alice']],
      ['emails.type eq "WORK"', ['alice', 'bob']],
      ['emails.type ne "home"', ['bob', 'carol', 'emile']],
      ['emails[type eq "work" and value co "example"]', ['alice', 'bob']],
      ['emails[type eq "home" and value co "example"]', []],
      ['emails[type eq "work"].value eq "alice@example.com"', ['alice']],
      ['emails[not (type eq "work")]', ['alice']],
      ['emails.primary eq true', ['alice']],
      ['emails pr', ['alice', 'bob']],
      ['phoneNumbers[type eq "work" and value sw "+1"]', ['alice']],
      ['phoneNumbers[type eq "home" and value sw "+1"]', ['bob']],
      ['phoneNumbers.value sw "+1" and phoneNumbers.type eq "work"', ['alice', 'bob']],
      ['addresses[locality eq "PARIS" and type eq "home"]', ['alice']],
      ['addresses.locality eq "paris"', ['alice', 'bob']],
      ['addresses.country pr', ['alice']],
      ['roles[primary eq true and value eq "admin"]', ['alice']],
      // extension attributes by URN, and named without it where no core attribute has the name
      [`${ENTERPRISE_USER_URN}:employeeNumber eq "007"`, ['alice']],
      [`${ENTERPRISE_USER_URN}:employeeNumber eq 007`, ['alice']],
      [`${ENTERPRISE_USER_URN}:employeeNumber lt "1"`, ['alice']],
      [`${ENTERPRISE_USER_URN}:manager.value eq "mgr-1"`, ['alice']],
      [`${ENTERPRISE_USER_URN}:manager eq "mgr-2"`, ['emile']],
      [`${ENTERPRISE_USER_URN}:department co "&"`, ['alice']],
      ['manager.value pr', ['alice', 'emile']],
      [`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob"`, ['bob']],
      // groups: direct and through nesting (Sub_Team% is a member of Team)
      [`groups.value eq "${ids.team}"`, ['alice', 'bob', 'emile']],
      [`groups[value eq "${ids.team}" and type eq "direct"]`, ['alice', 'bob']],
      [`groups[value eq "${ids.team}" and type eq "indirect"]`, ['emile']],
      ['groups.display sw "sub_"', ['emile']],
      ['not (groups pr)', ['carol']],
      // meta
      ['meta.resourceType eq "User"', ['alice', 'bob', 'carol', 'emile']],
      ['meta.resourceType eq "user"', []],
      [`meta.location eq "http://scimd.test/source/scim/test/v2/Users/${ids.bob}"`, ['bob']],
      ['meta.version eq "W/\\"1\\""', ['alice', 'bob', 'carol', 'emile']],
      ['meta.created lt "2000-01-01T00:00:00Z"', []],
      ['meta.lastModified ge "2000-01-01"', ['alice', 'bob', 'carol', 'emile']],
      // logic: precedence (not > and > or) and parentheses
      ['userName eq "carol" or userName eq "bob" and active eq true', ['carol']],
      ['(userName eq "carol" or userName eq "bob") and not (active eq true)', ['bob', 'carol']],
      ['not (userName eq "alice") and not (userName sw "b")', ['carol', 'emile']],
    ]
    for (const [filter, expected] of cases) {
      expect(await matches(t, '/Users', filter, names), filter).toEqual(expected)
    }
  })

  it('reads the filters Entra, Okta and Microsoft’s test collection send', async () => {
    const { t, ids, names } = await directory()
    const cases: Array<[string, string[]]> = [
      ['externalId eq ext-A', ['alice']],
      [`id eq ${ids.alice} and manager eq mgr-1`, ['alice']],
      [`id eq ${ids.bob} and manager eq mgr-1`, []],
      ['emails[type eq "work"].value eq "Alice@Example.com"', ['alice']],
      ['DisplayName eq "Bob Builder"', ['bob']],
      [
        'name.FamilyName eq Adams and (emails.Value co example.com or emails.Value co example.org)',
        ['alice'],
      ],
      ['userName sw A', ['alice']],
      ['meta.Created gt 2015-10-10T14:38:21.8617979-07:00', ['alice', 'bob', 'carol', 'emile']],
      ['(ActiVe eq true) and meta.lastmodified ge "2021-09-23T19:35:41.8420572Z"', ['alice']],
      [
        'active eq true and (meta.lastModified ge "0001-01-03T00:00:00.0000000Z" and meta.lastModified le "9999-01-01T00:00:00Z")',
        ['alice'],
      ],
    ]
    for (const [filter, expected] of cases) {
      expect(await matches(t, '/Users', filter, names), filter).toEqual(expected)
    }
    // The Okta SPEC test's `GET /Users?filter=<user name>` is not a filter expression.
    const okta = await query(t, '/Users', 'ALICE')
    expect(okta.status).toBe(400)
  })

  it('finds a user created from Entra’s recorded request by its work email', async () => {
    const t = await createTestApp()
    const body = fixture('entra/create-user.json')
    await post(t, '/Users', body)
    const work = (body.emails as Json[]).find((e) => e.type === 'work') as Json
    const res = await query(t, '/Users', `emails[type eq "work"].value eq "${work.value}"`)
    expect(((await res.json()) as Json).totalResults).toBe(1)
  })

  it('answers what the schemas do not allow with 400 invalidFilter', async () => {
    const { t } = await directory()
    for (const filter of [
      'nickname eq "x" and nope eq "y"',
      'password pr',
      'active gt false',
      'x509Certificates.value le "a"',
      'name eq "Alice"',
      'meta.lastModified gt "last tuesday"',
      'meta.created gt "2025-01-01T00:00:00+25:00"',
      'emails[type eq "work" and foo pr]',
      'userName co null',
      `${ENTERPRISE_USER_URN}:nope eq "x"`,
    ]) {
      const res = await query(t, '/Users', filter)
      expect(res.status, filter).toBe(400)
      expect(await res.json(), filter).toMatchObject({ status: '400', scimType: 'invalidFilter' })
    }
  })
})

describe('filters on groups', () => {
  it('filters by displayName, externalId and members', async () => {
    const { t, ids, names } = await directory()
    const cases: Array<[string, string[]]> = [
      ['displayName eq "TEAM"', ['team']],
      ['displayName co "_team%"', ['sub']],
      ['displayName sw "e"', ['empty']],
      ['externalId eq "g-team"', ['team']],
      [`members.value eq "${ids.alice}"`, ['team']],
      [`members[value eq "${ids.emile}"]`, ['sub']],
      [`members.value eq "${ids.sub}"`, ['team']],
      [`members.value ne "${ids.alice}"`, ['empty', 'sub']],
      ['members[type eq "group"]', ['team']],
      [`members[value eq "${ids.bob}" and type eq "User"]`, ['team']],
      ['members.display eq "bob builder"', ['team']],
      ['members.display co "ZOLA"', ['sub']],
      ['members.$ref co "/Groups/"', ['team']],
      ['not (members pr)', ['empty']],
      ['meta.resourceType eq "Group"', ['empty', 'sub', 'team']],
      [`id eq "${ids.team}" and members[value eq "${ids.bob}"]`, ['team']],
    ]
    for (const [filter, expected] of cases) {
      expect(await matches(t, '/Groups', filter, names), filter).toEqual(expected)
    }
    for (const filter of ['userName eq "x"', 'members.nope eq "x"', 'members eq null and x pr']) {
      expect((await query(t, '/Groups', filter)).status, filter).toBe(400)
    }
  })
})
