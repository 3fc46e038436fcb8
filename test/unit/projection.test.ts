import { describe, expect, it } from 'vitest'
import { isRequested, parseAttributeList, project } from '../../src/scim/projection.js'
import type { ResourceSchema, SchemaDefinition } from '../../src/scim/schema/resource-types.js'
import {
  COMMON_ATTRIBUTES,
  CORE_GROUP_URN,
  CORE_USER_URN,
  ENTERPRISE_USER_URN,
  GROUP_RESOURCE,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'

const META = {
  resourceType: 'User',
  created: '2025-01-15T09:00:00.000Z',
  lastModified: '2025-01-16T09:00:00.000Z',
  location: 'https://scimd.example/source/scim/entra/v2/Users/u1',
  version: 'W/"2"',
}

const WIRE_USER: Record<string, unknown> = {
  schemas: [CORE_USER_URN, ENTERPRISE_USER_URN],
  id: 'u1',
  externalId: 'bjensen',
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs Jensen',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  groups: [{ value: 'g1', display: 'Tour Guides' }],
  [ENTERPRISE_USER_URN]: {
    employeeNumber: '701984',
    manager: { value: 'm1', displayName: 'John Smith' },
  },
  meta: META,
}

const WIRE_GROUP: Record<string, unknown> = {
  schemas: [CORE_GROUP_URN],
  id: 'g1',
  displayName: 'Tour Guides',
  members: [{ value: 'u1', display: 'Babs Jensen' }],
  meta: { ...META, resourceType: 'Group' },
}

function projectUser(attributes?: string, excluded?: string) {
  const opts: { attributes?: string[]; excludedAttributes?: string[] } = {}
  const a = parseAttributeList(USER_RESOURCE, attributes)
  const e = parseAttributeList(USER_RESOURCE, excluded)
  if (a) opts.attributes = a
  if (e) opts.excludedAttributes = e
  return project(USER_RESOURCE, WIRE_USER, opts)
}

describe('parseAttributeList', () => {
  it('returns undefined when the parameter is absent or blank', () => {
    expect(parseAttributeList(USER_RESOURCE, undefined)).toBeUndefined()
    expect(parseAttributeList(USER_RESOURCE, ' ')).toBeUndefined()
  })

  it('trims names and maps them to canonical casing', () => {
    expect(parseAttributeList(USER_RESOURCE, ' USERNAME , name.GIVENNAME,Emails.Value ')).toEqual([
      'userName',
      'name.givenName',
      'emails.value',
    ])
  })

  it('reads URN-qualified names and a bare extension URN', () => {
    expect(
      parseAttributeList(
        USER_RESOURCE,
        `${CORE_USER_URN}:userName,${ENTERPRISE_USER_URN.toLowerCase()}:EmployeeNumber,${ENTERPRISE_USER_URN}`,
      ),
    ).toEqual(['userName', `${ENTERPRISE_USER_URN}:employeeNumber`, ENTERPRISE_USER_URN])
  })

  it('reads Microsoft\'s emails[type eq "work"] as emails, commas inside filters included', () => {
    expect(
      parseAttributeList(USER_RESOURCE, 'emails[type eq "work"],emails[value eq "a,b"].value,id'),
    ).toEqual(['emails', 'emails.value', 'id'])
  })

  it('ignores unknown names and duplicates', () => {
    expect(parseAttributeList(USER_RESOURCE, 'userName,nonsense,username,urn:x:y')).toEqual([
      'userName',
    ])
  })

  it('maps enterprise attribute names given without their URN to the extension', () => {
    expect(parseAttributeList(USER_RESOURCE, 'employeeNumber,manager.value')).toEqual([
      `${ENTERPRISE_USER_URN}:employeeNumber`,
      `${ENTERPRISE_USER_URN}:manager.value`,
    ])
  })
})

describe('project', () => {
  it('returns everything but returned: never attributes by default', () => {
    const withPassword = { ...WIRE_USER, password: 'secret' }
    expect(project(USER_RESOURCE, withPassword, {})).toEqual(WIRE_USER)
  })

  it('keeps only the requested attributes plus id and schemas', () => {
    const expected: Record<string, unknown> = {
      schemas: WIRE_USER.schemas,
      id: 'u1',
      userName: 'bjensen@example.com',
      meta: { resourceType: 'User' },
    }
    expect(projectUser('userName')).toEqual(expected)
  })

  it('keeps meta.resourceType (returned: always) however meta is projected', () => {
    const meta = COMMON_ATTRIBUTES.find((a) => a.name === 'meta')
    expect(meta?.subAttributes?.find((s) => s.name === 'resourceType')?.returned).toBe('always')
    expect(projectUser(undefined, 'meta').meta).toEqual({ resourceType: 'User' })
    expect(projectUser(undefined, 'meta.created,meta.version').meta).toEqual({
      resourceType: 'User',
      lastModified: META.lastModified,
      location: META.location,
    })
    expect(projectUser('meta').meta).toEqual(META)
    expect(projectUser('userName,meta.location').meta).toEqual({
      resourceType: 'User',
      location: META.location,
    })
    expect(projectUser(undefined, 'userName').meta).toEqual(META)
  })

  it('keeps only the requested sub-attributes of a complex attribute', () => {
    expect(projectUser('name.givenName')).toMatchObject({ name: { givenName: 'Barbara' } })
    expect(projectUser('name.givenName').name).toEqual({ givenName: 'Barbara' })
  })

  it('keeps only the requested sub-attribute of each element of a multi-valued attribute', () => {
    expect(projectUser('emails.value').emails).toEqual([
      { value: 'bjensen@example.com' },
      { value: 'babs@jensen.org' },
    ])
  })

  it('keeps one extension attribute when asked for it by URN-qualified name', () => {
    const result = projectUser(`${ENTERPRISE_USER_URN}:employeeNumber`)
    expect(result[ENTERPRISE_USER_URN]).toEqual({ employeeNumber: '701984' })
    expect(result).not.toHaveProperty('userName')
  })

  it('keeps the whole extension when asked for its URN', () => {
    expect(projectUser(ENTERPRISE_USER_URN)[ENTERPRISE_USER_URN]).toEqual(
      WIRE_USER[ENTERPRISE_USER_URN],
    )
  })

  it('drops excluded attributes', () => {
    const result = projectUser(undefined, 'emails,groups')
    expect(result).not.toHaveProperty('emails')
    expect(result).not.toHaveProperty('groups')
    expect(result).toHaveProperty('userName')
  })

  it('drops excluded sub-attributes only', () => {
    expect(projectUser(undefined, 'name.givenName').name).toEqual({ familyName: 'Jensen' })
    expect(projectUser(undefined, 'emails.primary').emails).toEqual([
      { value: 'bjensen@example.com', type: 'work' },
      { value: 'babs@jensen.org', type: 'home' },
    ])
  })

  it('drops a whole extension excluded by URN, or one of its attributes', () => {
    expect(projectUser(undefined, ENTERPRISE_USER_URN)).not.toHaveProperty(ENTERPRISE_USER_URN)
    expect(projectUser(undefined, `${ENTERPRISE_USER_URN}:manager`)[ENTERPRISE_USER_URN]).toEqual({
      employeeNumber: '701984',
    })
  })

  it('never excludes returned: always attributes', () => {
    expect(projectUser(undefined, 'id,schemas')).toMatchObject({
      id: 'u1',
      schemas: WIRE_USER.schemas,
    })
  })

  it('lets attributes win when both parameters are given', () => {
    const result = projectUser('userName', 'userName')
    expect(result).toHaveProperty('userName')
    expect(result).not.toHaveProperty('emails')
  })

  it("drops Group members with excludedAttributes=members (Entra's group reads)", () => {
    const opts = { excludedAttributes: parseAttributeList(GROUP_RESOURCE, 'members') ?? [] }
    const result = project(GROUP_RESOURCE, WIRE_GROUP, opts)
    expect(result).not.toHaveProperty('members')
    expect(result).toMatchObject({ id: 'g1', displayName: 'Tour Guides' })
  })

  describe('returned: request attributes', () => {
    const EXTENSION_URN = 'urn:example:params:scim:schemas:extension:test:2.0:User'
    const extension: SchemaDefinition = {
      id: EXTENSION_URN,
      name: 'Test',
      description: '',
      attributes: [
        {
          name: 'secretish',
          type: 'string',
          multiValued: false,
          description: '',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'request',
          uniqueness: 'none',
        },
        {
          name: 'plain',
          type: 'string',
          multiValued: false,
          description: '',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        },
      ],
    }
    const resource: ResourceSchema = { ...USER_RESOURCE, extensions: [extension] }
    const wire = { [EXTENSION_URN]: { secretish: 's', plain: 'p' } }

    it('are left out by default and under excludedAttributes', () => {
      expect(project(resource, wire, {})).toEqual({ [EXTENSION_URN]: { plain: 'p' } })
      expect(project(resource, wire, { excludedAttributes: [] })).toEqual({
        [EXTENSION_URN]: { plain: 'p' },
      })
    })

    it('are returned when named in attributes', () => {
      const attributes = parseAttributeList(resource, `${EXTENSION_URN}:secretish`)
      expect(attributes).toEqual([`${EXTENSION_URN}:secretish`])
      expect(project(resource, wire, { attributes: attributes ?? [] })).toEqual({
        [EXTENSION_URN]: { secretish: 's' },
      })
    })
  })
})

describe('isRequested', () => {
  it('is true by default for returned: default attributes', () => {
    expect(isRequested(GROUP_RESOURCE, {}, 'members')).toBe(true)
    expect(isRequested(USER_RESOURCE, {}, 'groups')).toBe(true)
  })

  it('is false for an excluded attribute', () => {
    expect(isRequested(GROUP_RESOURCE, { excludedAttributes: ['members'] }, 'members')).toBe(false)
  })

  it('is false for an attribute not in attributes, true when one of its sub-attributes is', () => {
    expect(isRequested(GROUP_RESOURCE, { attributes: ['displayName'] }, 'members')).toBe(false)
    expect(isRequested(GROUP_RESOURCE, { attributes: ['members.value'] }, 'members')).toBe(true)
  })

  it('answers for sub-attributes', () => {
    expect(isRequested(USER_RESOURCE, { attributes: ['emails'] }, 'emails.value')).toBe(true)
    expect(isRequested(USER_RESOURCE, { attributes: ['emails.type'] }, 'emails.value')).toBe(false)
    expect(
      isRequested(USER_RESOURCE, { excludedAttributes: ['emails.value'] }, 'emails.value'),
    ).toBe(false)
  })

  it('is always true for id and always false for password', () => {
    expect(isRequested(USER_RESOURCE, { attributes: ['userName'] }, 'id')).toBe(true)
    expect(isRequested(USER_RESOURCE, { excludedAttributes: ['id'] }, 'id')).toBe(true)
    expect(isRequested(USER_RESOURCE, { attributes: ['password'] }, 'password')).toBe(false)
  })

  it('follows a whole-extension selection', () => {
    const manager = `${ENTERPRISE_USER_URN}:manager`
    expect(isRequested(USER_RESOURCE, { attributes: [ENTERPRISE_USER_URN] }, manager)).toBe(true)
    expect(isRequested(USER_RESOURCE, { excludedAttributes: [ENTERPRISE_USER_URN] }, manager)).toBe(
      false,
    )
    expect(isRequested(USER_RESOURCE, { attributes: [manager] }, ENTERPRISE_USER_URN)).toBe(true)
  })

  it('is false for unknown attributes', () => {
    expect(isRequested(USER_RESOURCE, {}, 'nonsense')).toBe(false)
  })
})
