import { describe, expect, it } from 'vitest'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../src/scim/schema/data.js'
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_URN,
  findAttribute,
  GROUP_RESOURCE,
  resolveAttributePath,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'
import type { AttributeDefinition } from '../../src/scim/schema/types.js'

const CHARACTERISTICS = [
  'name',
  'type',
  'multiValued',
  'description',
  'required',
  'caseExact',
  'mutability',
  'returned',
  'uniqueness',
] as const

function walk(
  attributes: readonly AttributeDefinition[],
  path = '',
): [string, AttributeDefinition][] {
  return attributes.flatMap((a) => {
    const here = path ? `${path}.${a.name}` : a.name
    return [[here, a] as [string, AttributeDefinition], ...walk(a.subAttributes ?? [], here)]
  })
}

function attribute(attributes: readonly AttributeDefinition[], path: string): AttributeDefinition {
  const [head = '', tail] = path.split('.')
  const top = findAttribute(attributes, head)
  const found = tail === undefined ? top : findAttribute(top?.subAttributes ?? [], tail)
  if (!found) throw new Error(`no attribute ${path}`)
  return found
}

const names = (attributes: readonly AttributeDefinition[] | undefined) =>
  (attributes ?? []).map((a) => a.name)

describe('schema data (RFC 7643 §8.7.1)', () => {
  const schemas = [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]

  it('gives every attribute and sub-attribute every characteristic', () => {
    for (const schema of schemas) {
      for (const [path, a] of walk(schema.attributes)) {
        for (const key of CHARACTERISTICS) {
          expect(a[key], `${schema.name} ${path}.${key}`).toBeDefined()
        }
        expect(a.description.length, `${schema.name} ${path} description`).toBeGreaterThan(0)
        expect(a.subAttributes !== undefined, `${path} subAttributes`).toBe(a.type === 'complex')
        if (a.referenceTypes) expect(a.type).toBe('reference')
        if (a.type === 'reference') expect(a.referenceTypes?.length).toBeGreaterThan(0)
      }
    }
  })

  it('nests sub-attributes only one level deep (RFC 7643 §2.3.8)', () => {
    for (const schema of schemas) {
      for (const [path, a] of walk(schema.attributes)) {
        if (path.includes('.')) expect(a.subAttributes, path).toBeUndefined()
      }
    }
  })

  it('has no duplicate names, ignoring case', () => {
    for (const schema of schemas) {
      for (const list of [
        schema.attributes,
        ...schema.attributes.map((a) => a.subAttributes ?? []),
      ]) {
        const lower = list.map((a) => a.name.toLowerCase())
        expect(new Set(lower).size).toBe(lower.length)
      }
    }
  })

  it('uses the RFC URNs, names and descriptions', () => {
    expect(USER_SCHEMA).toMatchObject({
      id: 'urn:ietf:params:scim:schemas:core:2.0:User',
      name: 'User',
      description: 'User Account',
    })
    expect(GROUP_SCHEMA).toMatchObject({
      id: 'urn:ietf:params:scim:schemas:core:2.0:Group',
      name: 'Group',
    })
    expect(ENTERPRISE_USER_SCHEMA).toMatchObject({
      id: ENTERPRISE_USER_URN,
      name: 'EnterpriseUser',
      description: 'Enterprise User',
    })
  })

  it('lists the core User attributes in RFC order', () => {
    expect(names(USER_SCHEMA.attributes)).toEqual([
      'userName',
      'name',
      'displayName',
      'nickName',
      'profileUrl',
      'title',
      'userType',
      'preferredLanguage',
      'locale',
      'timezone',
      'active',
      'password',
      'emails',
      'phoneNumbers',
      'ims',
      'photos',
      'addresses',
      'groups',
      'entitlements',
      'roles',
      'x509Certificates',
    ])
    expect(names(attribute(USER_SCHEMA.attributes, 'name').subAttributes)).toEqual([
      'formatted',
      'familyName',
      'givenName',
      'middleName',
      'honorificPrefix',
      'honorificSuffix',
    ])
    expect(names(attribute(USER_SCHEMA.attributes, 'emails').subAttributes)).toEqual([
      'value',
      'display',
      'type',
      'primary',
    ])
  })

  it('makes userName required, case-insensitive and unique per server', () => {
    expect(attribute(USER_SCHEMA.attributes, 'userName')).toMatchObject({
      type: 'string',
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    })
  })

  it('never returns the password and only accepts writes', () => {
    expect(attribute(USER_SCHEMA.attributes, 'password')).toMatchObject({
      mutability: 'writeOnly',
      returned: 'never',
    })
  })

  it('keeps common attribute id case-exact and always returned', () => {
    expect(attribute(COMMON_ATTRIBUTES, 'id')).toMatchObject({
      caseExact: true,
      mutability: 'readOnly',
      returned: 'always',
    })
  })

  it('keeps the RFC canonical values and reference types', () => {
    expect(attribute(USER_SCHEMA.attributes, 'emails.type').canonicalValues).toEqual([
      'work',
      'home',
      'other',
    ])
    expect(attribute(USER_SCHEMA.attributes, 'phoneNumbers.type').canonicalValues).toEqual([
      'work',
      'home',
      'mobile',
      'fax',
      'pager',
      'other',
    ])
    expect(attribute(USER_SCHEMA.attributes, 'photos.value')).toMatchObject({
      type: 'reference',
      referenceTypes: ['external'],
    })
    expect(attribute(USER_SCHEMA.attributes, 'profileUrl').referenceTypes).toEqual(['external'])
    expect(attribute(USER_SCHEMA.attributes, 'x509Certificates.value').type).toBe('binary')
    expect(attribute(USER_SCHEMA.attributes, 'active').type).toBe('boolean')
  })

  it('makes User groups read-only with direct/indirect types', () => {
    const groups = attribute(USER_SCHEMA.attributes, 'groups')
    expect(groups).toMatchObject({ multiValued: true, mutability: 'readOnly' })
    expect(names(groups.subAttributes)).toEqual(['value', '$ref', 'display', 'type'])
    for (const sub of groups.subAttributes ?? []) expect(sub.mutability).toBe('readOnly')
    expect(attribute(USER_SCHEMA.attributes, 'groups.type').canonicalValues).toEqual([
      'direct',
      'indirect',
    ])
  })

  it('gives Group members value, $ref, type and display', () => {
    const members = attribute(GROUP_SCHEMA.attributes, 'members')
    expect(members).toMatchObject({ multiValued: true, mutability: 'readWrite' })
    expect(names(members.subAttributes)).toEqual(['value', '$ref', 'type', 'display'])
    expect(attribute(GROUP_SCHEMA.attributes, 'members.value')).toMatchObject({
      caseExact: true,
      mutability: 'immutable',
    })
    expect(attribute(GROUP_SCHEMA.attributes, 'members.$ref')).toMatchObject({
      type: 'reference',
      referenceTypes: ['User', 'Group'],
      mutability: 'immutable',
    })
    expect(attribute(GROUP_SCHEMA.attributes, 'members.type')).toMatchObject({
      canonicalValues: ['User', 'Group'],
      mutability: 'immutable',
    })
    expect(attribute(GROUP_SCHEMA.attributes, 'members.display').mutability).toBe('readOnly')
  })

  it('defines the enterprise extension with a case-exact manager id', () => {
    expect(names(ENTERPRISE_USER_SCHEMA.attributes)).toEqual([
      'employeeNumber',
      'costCenter',
      'organization',
      'division',
      'department',
      'manager',
    ])
    expect(attribute(ENTERPRISE_USER_SCHEMA.attributes, 'manager.value')).toMatchObject({
      caseExact: true,
      uniqueness: 'none',
      mutability: 'readWrite',
    })
    expect(attribute(ENTERPRISE_USER_SCHEMA.attributes, 'manager.$ref').referenceTypes).toEqual([
      'User',
    ])
    expect(attribute(ENTERPRISE_USER_SCHEMA.attributes, 'manager.displayName').mutability).toBe(
      'readOnly',
    )
  })
})

describe('resolveAttributePath', () => {
  it('resolves core sub-attributes ignoring case', () => {
    const resolved = resolveAttributePath(USER_RESOURCE, 'NAME.givenname')
    expect(resolved?.canonicalPath).toBe('name.givenName')
    expect(resolved?.isExtension).toBe(false)
    expect(resolved?.schema).toBe(USER_SCHEMA)
  })

  it('resolves a URN-qualified enterprise path', () => {
    const resolved = resolveAttributePath(
      USER_RESOURCE,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
    )
    expect(resolved?.isExtension).toBe(true)
    expect(resolved?.schema).toBe(ENTERPRISE_USER_SCHEMA)
    expect(resolved?.canonicalPath).toBe('manager.value')
    expect(resolved?.subAttribute?.caseExact).toBe(true)
  })

  it('resolves multi-valued sub-attributes and common attributes', () => {
    expect(resolveAttributePath(USER_RESOURCE, 'emails.value')?.canonicalPath).toBe('emails.value')
    const lastModified = resolveAttributePath(USER_RESOURCE, 'meta.lastModified')
    expect(lastModified?.subAttribute?.type).toBe('dateTime')
    expect(resolveAttributePath(GROUP_RESOURCE, 'members.display')?.canonicalPath).toBe(
      'members.display',
    )
  })

  it('returns undefined for anything the schemas do not define', () => {
    expect(resolveAttributePath(USER_RESOURCE, 'emails.nope')).toBeUndefined()
    expect(resolveAttributePath(USER_RESOURCE, 'nope')).toBeUndefined()
    expect(resolveAttributePath(GROUP_RESOURCE, 'userName')).toBeUndefined()
  })
})
