import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.js'
import { normalizeResource, normalizeValue } from '../../src/scim/normalize.js'
import {
  CORE_GROUP_URN,
  CORE_USER_URN,
  ENTERPRISE_USER_URN,
  GROUP_RESOURCE,
  resolveAttributePath,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'))
}

function user(body: Record<string, unknown>) {
  return normalizeResource(USER_RESOURCE, { userName: 'bjensen', ...body })
}

function scimError(fn: () => unknown): ScimError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ScimError) return error
    throw error
  }
  throw new Error('expected a ScimError')
}

describe('normalizeResource: body shape', () => {
  it('rejects a body that is not a JSON object', () => {
    for (const body of [null, [], 'x', 3]) {
      expect(scimError(() => normalizeResource(USER_RESOURCE, body)).scimType).toBe('invalidSyntax')
    }
  })

  it('rejects schemas that is not an array of strings', () => {
    expect(scimError(() => user({ schemas: CORE_USER_URN })).scimType).toBe('invalidSyntax')
    expect(scimError(() => user({ schemas: [1] })).scimType).toBe('invalidSyntax')
  })

  it('tolerates unknown schema URNs and computes schemas from the document', () => {
    const { document } = user({ schemas: ['urn:scim:schemas:core:1.0', CORE_USER_URN] })
    expect(document.schemas).toEqual([CORE_USER_URN])
  })

  it('lists the enterprise URN in schemas only when the extension has attributes', () => {
    const { document } = user({ [ENTERPRISE_USER_URN]: { department: 'R&D' } })
    expect(document.schemas).toEqual([CORE_USER_URN, ENTERPRISE_USER_URN])
    expect(user({ [ENTERPRISE_USER_URN]: {} }).document.schemas).toEqual([CORE_USER_URN])
  })
})

describe('normalizeResource: names', () => {
  it('maps attribute and sub-attribute names to canonical casing', () => {
    const { document } = normalizeResource(USER_RESOURCE, {
      USERNAME: 'bjensen',
      Name: { GivenName: 'Barbara' },
      emails: [{ VALUE: 'b@example.com', Primary: true }],
    })
    expect(document).toEqual({
      schemas: [CORE_USER_URN],
      userName: 'bjensen',
      name: { givenName: 'Barbara' },
      emails: [{ value: 'b@example.com', primary: true }],
    })
  })

  it('maps an extension URN key in any case to the canonical URN', () => {
    const { document } = user({ [ENTERPRISE_USER_URN.toUpperCase()]: { EmployeeNumber: '7' } })
    expect(document[ENTERPRISE_USER_URN]).toEqual({ employeeNumber: '7' })
  })

  it('drops unknown attributes and sub-attributes', () => {
    const { document } = user({ adreses: [{ x: 1 }], name: { givenName: 'B', nick: 'x' } })
    expect(document).toEqual({
      schemas: [CORE_USER_URN],
      userName: 'bjensen',
      name: { givenName: 'B' },
    })
  })

  it('drops unknown extension URN keys', () => {
    const { document } = user({ 'urn:example:ext:1.0:User': { a: 1 } })
    expect(Object.keys(document)).toEqual(['schemas', 'userName'])
  })

  it('reads URN-qualified attribute keys', () => {
    const { document } = normalizeResource(USER_RESOURCE, {
      [`${CORE_USER_URN}:userName`]: 'bjensen',
      [`${ENTERPRISE_USER_URN}:costCenter`]: 'cc',
    })
    expect(document).toMatchObject({
      userName: 'bjensen',
      [ENTERPRISE_USER_URN]: { costCenter: 'cc' },
    })
  })
})

describe('normalizeResource: readOnly, writeOnly and members', () => {
  it('ignores id, meta and groups', () => {
    const { document } = user({ id: 'x', meta: { resourceType: 'User' }, groups: [{ value: 'g' }] })
    expect(Object.keys(document)).toEqual(['schemas', 'userName'])
  })

  it('returns the password apart and never in the document', () => {
    const result = user({ password: 's3cret' })
    expect(result.password).toBe('s3cret')
    expect(result.document).not.toHaveProperty('password')
  })

  it('drops readOnly sub-attributes such as manager.displayName', () => {
    const { document } = user({
      [ENTERPRISE_USER_URN]: { manager: { value: 'm', displayName: 'M' } },
    })
    expect(document[ENTERPRISE_USER_URN]).toEqual({ manager: { value: 'm' } })
  })

  it('returns Group members apart, keeping type and dropping $ref/display/displayName', () => {
    const result = normalizeResource(GROUP_RESOURCE, {
      displayName: 'g',
      members: [
        { value: 'a', $ref: null, display: 'A' },
        { value: 'b', type: 'user', displayName: 'B' },
        { Value: 'c', type: 'GROUP' },
        { value: 'd', type: 'Device' },
      ],
    })
    expect(result.members).toEqual([
      { value: 'a' },
      { value: 'b', type: 'User' },
      { value: 'c', type: 'Group' },
      { value: 'd' },
    ])
    expect(result.document).toEqual({ schemas: [CORE_GROUP_URN], displayName: 'g' })
  })

  it('accepts a single member object', () => {
    const result = normalizeResource(GROUP_RESOURCE, { displayName: 'g', members: { value: 'a' } })
    expect(result.members).toEqual([{ value: 'a' }])
  })

  it('rejects members that are not objects with a string value', () => {
    for (const members of ['string id 1', [{ display: 'x' }], [{ value: 3 }], ['a']]) {
      const error = scimError(() =>
        normalizeResource(GROUP_RESOURCE, { displayName: 'g', members }),
      )
      expect(error.scimType).toBe('invalidValue')
    }
  })

  it('leaves members undefined when the body has none', () => {
    expect(normalizeResource(GROUP_RESOURCE, { displayName: 'g' }).members).toBeUndefined()
  })
})

describe('normalizeResource: values', () => {
  it('treats explicit nulls as absent, also inside complex values and arrays', () => {
    const { document } = user({
      addresses: null,
      title: null,
      name: { givenName: 'B', familyName: null },
      emails: [null, { value: 'b@example.com', type: null }],
    })
    expect(document).toEqual({
      schemas: [CORE_USER_URN],
      userName: 'bjensen',
      name: { givenName: 'B' },
      emails: [{ value: 'b@example.com' }],
    })
  })

  it('wraps a single object sent for a multi-valued attribute', () => {
    const { document } = user({ emails: { value: 'b@example.com' } })
    expect(document.emails).toEqual([{ value: 'b@example.com' }])
  })

  it('unwraps a one-element array sent for a single-valued attribute', () => {
    const { document } = user({ displayName: ['Babs'], name: [{ givenName: 'B' }] })
    expect(document).toMatchObject({ displayName: 'Babs', name: { givenName: 'B' } })
  })

  it('rejects a longer array for a single-valued attribute', () => {
    expect(scimError(() => user({ displayName: ['a', 'b'] })).scimType).toBe('invalidValue')
  })

  it('coerces "True"/"False" strings in any case to booleans', () => {
    expect(user({ active: 'True' }).document.active).toBe(true)
    expect(user({ active: 'FALSE' }).document.active).toBe(false)
    expect(user({ emails: [{ value: 'a', primary: 'true' }] }).document.emails).toEqual([
      { value: 'a', primary: true },
    ])
  })

  it('rejects other boolean values, naming the attribute path', () => {
    const error = scimError(() => user({ emails: [{ value: 'a', primary: 'yes' }] }))
    expect(error.scimType).toBe('invalidValue')
    expect(error.detail).toContain('emails.primary')
    expect(scimError(() => user({ active: 1 })).scimType).toBe('invalidValue')
  })

  it('rejects a non-string for a string attribute', () => {
    expect(scimError(() => user({ title: 5 })).scimType).toBe('invalidValue')
    expect(scimError(() => user({ name: { givenName: true } })).detail).toContain('name.givenName')
  })

  it('rejects a primitive for a complex attribute', () => {
    expect(scimError(() => user({ name: 'Barbara' })).scimType).toBe('invalidValue')
    expect(scimError(() => user({ emails: 'b@example.com' })).scimType).toBe('invalidValue')
  })

  it('reads an enterprise manager sent as a bare string as its value', () => {
    const { document } = user({ [ENTERPRISE_USER_URN]: { manager: 'boss-id' } })
    expect(document[ENTERPRISE_USER_URN]).toEqual({ manager: { value: 'boss-id' } })
  })

  it('keeps empty strings and drops empty objects and arrays', () => {
    const { document } = user({ title: '', name: {}, roles: [], emails: [{}] })
    expect(document).toEqual({ schemas: [CORE_USER_URN], userName: 'bjensen', title: '' })
  })

  it('keeps only the first primary of a multi-valued attribute', () => {
    const { document } = user({
      emails: [
        { value: 'a', primary: true },
        { value: 'b', primary: true },
        { value: 'c', primary: false },
      ],
    })
    expect(document.emails).toEqual([
      { value: 'a', primary: true },
      { value: 'b', primary: false },
      { value: 'c', primary: false },
    ])
  })

  it('removes exact duplicate entries', () => {
    const { document } = user({
      emails: [
        { value: 'a', type: 'work' },
        { type: 'work', value: 'a' },
        { value: 'a', type: 'home' },
      ],
    })
    expect(document.emails).toEqual([
      { value: 'a', type: 'work' },
      { value: 'a', type: 'home' },
    ])
  })
})

describe('normalizeResource: required attributes', () => {
  it('requires a non-empty userName', () => {
    for (const body of [{}, { userName: '' }, { userName: '  ' }, { userName: null }]) {
      const error = scimError(() => normalizeResource(USER_RESOURCE, body))
      expect(error.scimType).toBe('invalidValue')
      expect(error.detail).toBe("Attribute 'userName' is required")
    }
  })

  it('requires a Group displayName', () => {
    const error = scimError(() => normalizeResource(GROUP_RESOURCE, { members: [] }))
    expect(error.detail).toBe("Attribute 'displayName' is required")
  })
})

describe('normalizeResource: Entra legacy quirks', () => {
  it('reads the …:2.0User URN typo as the enterprise extension', () => {
    const { document } = user({
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0User': { department: 'Sales' },
    })
    expect(document[ENTERPRISE_USER_URN]).toEqual({ department: 'Sales' })
  })

  it('moves top-level enterprise attributes into the extension; the URN object wins', () => {
    const { document } = user({
      department: 'Sales',
      costCenter: '1',
      manager: 'boss',
      [ENTERPRISE_USER_URN]: { costCenter: '2' },
    })
    expect(document[ENTERPRISE_USER_URN]).toEqual({
      department: 'Sales',
      costCenter: '2',
      manager: { value: 'boss' },
    })
    expect(document).not.toHaveProperty('department')
  })
})

describe('normalizeResource: client fixtures', () => {
  it('entra/create-user.json', () => {
    const result = normalizeResource(USER_RESOURCE, fixture('entra/create-user.json'))
    expect(result.document).toEqual({
      schemas: [CORE_USER_URN],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
      active: true,
      emails: [
        {
          primary: true,
          type: 'work',
          value: 'Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com',
        },
      ],
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    })
  })

  it('entra/create-user-legacy.json (nulls, URN typo, top-level enterprise attributes)', () => {
    const result = normalizeResource(USER_RESOURCE, fixture('entra/create-user-legacy.json'))
    expect(result.document).toEqual({
      schemas: [CORE_USER_URN],
      externalId: 'jyoung',
      userName: 'jyoung@testuser.com',
      active: true,
      displayName: 'Joy Young',
      emails: [{ type: 'work', value: 'jyoung@Contoso.com', primary: true }],
      name: { familyName: 'Young', givenName: 'Joy' },
    })
  })

  it('entra/create-group.json (Microsoft schema URN)', () => {
    const result = normalizeResource(GROUP_RESOURCE, fixture('entra/create-group.json'))
    expect(result).toEqual({
      document: {
        schemas: [CORE_GROUP_URN],
        externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
        displayName: 'displayName',
      },
    })
  })

  it('okta/create-user.json (password apart, groups ignored)', () => {
    const result = normalizeResource(USER_RESOURCE, fixture('okta/create-user.json'))
    expect(result.password).toBe('1mz050nq')
    expect(result.document).toEqual({
      schemas: [CORE_USER_URN],
      userName: 'test.user@okta.local',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
      displayName: 'Test User',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      active: true,
    })
  })

  it('okta/replace-user.json (id, meta, groups ignored; emails.display kept)', () => {
    const result = normalizeResource(USER_RESOURCE, fixture('okta/replace-user.json'))
    expect(result.document).toEqual({
      schemas: [CORE_USER_URN],
      userName: 'test.user@okta.local',
      name: { givenName: 'Another', middleName: 'Excited', familyName: 'User' },
      emails: [
        {
          primary: true,
          value: 'test.user@okta.local',
          type: 'work',
          display: 'test.user@okta.local',
        },
      ],
      active: true,
    })
  })

  it('okta/create-group.json (empty members)', () => {
    const result = normalizeResource(GROUP_RESOURCE, fixture('okta/create-group.json'))
    expect(result).toEqual({
      document: { schemas: [CORE_GROUP_URN], displayName: 'Test SCIMv2' },
      members: [],
    })
  })
})

describe('normalizeValue', () => {
  const resolve = (path: string) => {
    const resolved = resolveAttributePath(USER_RESOURCE, path)
    if (!resolved) throw new Error(`unknown path ${path}`)
    return resolved
  }

  it('applies the body coercion rules to a resolved path', () => {
    expect(normalizeValue(resolve('active'), 'False', 'active')).toBe(false)
    expect(
      normalizeValue(resolve(`${ENTERPRISE_USER_URN}:manager`), [{ value: 'm' }], 'm'),
    ).toEqual({
      value: 'm',
    })
    expect(normalizeValue(resolve('emails'), { value: 'a' }, 'emails')).toEqual([{ value: 'a' }])
    expect(normalizeValue(resolve('name.givenName'), null, 'name.givenName')).toBeUndefined()
  })

  it('validates dateTime values as ISO 8601', () => {
    const created = resolve('meta.created')
    expect(normalizeValue(created, '2015-10-10T14:38:21.8617979-07:00', 'x')).toBe(
      '2015-10-10T14:38:21.8617979-07:00',
    )
    expect(scimError(() => normalizeValue(created, 'yesterday', 'meta.created')).scimType).toBe(
      'invalidValue',
    )
    expect(scimError(() => normalizeValue(created, '10/10/2015', 'meta.created')).scimType).toBe(
      'invalidValue',
    )
  })
})
