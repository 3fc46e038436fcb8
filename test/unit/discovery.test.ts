import { describe, expect, it } from 'vitest'
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../src/scim/schema/data.js'
import {
  listResponse,
  resourceType,
  resourceTypes,
  schemaResource,
  schemaResources,
  serviceProviderConfig,
} from '../../src/scim/schema/discovery.js'
import { ENTERPRISE_USER_URN, LIST_RESPONSE_URN } from '../../src/scim/schema/resource-types.js'
import type { AttributeDefinition } from '../../src/scim/schema/types.js'

const BASE = 'https://scim.example.com/scim/v2'

/** Key order of attribute definitions in RFC 7643 §8.7.1, optional keys included. */
const RFC_KEY_ORDER = [
  'name',
  'type',
  'referenceTypes',
  'multiValued',
  'description',
  'required',
  'caseExact',
  'canonicalValues',
  'subAttributes',
  'mutability',
  'returned',
  'uniqueness',
]

function walk(attributes: readonly AttributeDefinition[]): AttributeDefinition[] {
  return attributes.flatMap((a) => [a, ...walk(a.subAttributes ?? [])])
}

describe('serviceProviderConfig', () => {
  it('advertises what scimd supports (RFC 7643 §5)', () => {
    expect(
      serviceProviderConfig(BASE, {
        maxResults: 200,
        maxOperations: 1000,
        maxPayloadSize: 1_048_576,
      }),
    ).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1_048_576 },
      filter: { supported: true, maxResults: 200 },
      changePassword: { supported: true },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'OAuth Bearer Token',
          description: "Authentication with the source's bearer token",
          specUri: 'https://www.rfc-editor.org/info/rfc6750',
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${BASE}/ServiceProviderConfig` },
    })
  })

  it('omits documentationUri and does not double a trailing slash', () => {
    const config = serviceProviderConfig(`${BASE}/`, {
      maxResults: 1,
      maxOperations: 1,
      maxPayloadSize: 1,
    })
    expect(config).not.toHaveProperty('documentationUri')
    expect(config.meta.location).toBe(`${BASE}/ServiceProviderConfig`)
  })
})

describe('resourceTypes', () => {
  it('lists User then Group with endpoints, schemas and locations (RFC 7643 §6)', () => {
    const [user, group, ...rest] = resourceTypes(BASE)
    expect(rest).toEqual([])
    expect(user).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
      schemaExtensions: [{ schema: ENTERPRISE_USER_URN, required: false }],
      meta: { resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/User` },
    })
    expect(group).toMatchObject({
      id: 'Group',
      endpoint: '/Groups',
      schema: 'urn:ietf:params:scim:schemas:core:2.0:Group',
      meta: { resourceType: 'ResourceType', location: `${BASE}/ResourceTypes/Group` },
    })
    expect(group).not.toHaveProperty('schemaExtensions')
  })

  it('finds one resource type ignoring case', () => {
    expect(resourceType(BASE, 'user')?.id).toBe('User')
    expect(resourceType(BASE, 'GROUP')?.endpoint).toBe('/Groups')
    expect(resourceType(BASE, 'Users')).toBeUndefined()
  })
})

describe('schemaResources', () => {
  it('serves the three schemas with locations under /Schemas (RFC 7643 §7)', () => {
    const schemas = schemaResources(BASE)
    expect(schemas.map((s) => s.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
      ENTERPRISE_USER_URN,
    ])
    for (const s of schemas) {
      expect(s.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Schema'])
      expect(s.meta).toEqual({ resourceType: 'Schema', location: `${BASE}/Schemas/${s.id}` })
      expect(s.name.length).toBeGreaterThan(0)
      expect(s.description.length).toBeGreaterThan(0)
    }
  })

  it('serves every characteristic of every attribute in RFC key order', () => {
    for (const s of schemaResources(BASE)) {
      for (const a of walk(s.attributes)) {
        const keys = Object.keys(a)
        for (const key of [
          'name',
          'type',
          'multiValued',
          'description',
          'required',
          'caseExact',
          'mutability',
          'returned',
          'uniqueness',
        ]) {
          expect(keys, `${s.name} ${a.name}`).toContain(key)
        }
        const positions = keys.map((k) => RFC_KEY_ORDER.indexOf(k))
        expect(positions, `${s.name} ${a.name}: ${keys.join(',')}`).not.toContain(-1)
        expect(positions).toEqual([...positions].sort((x, y) => x - y))
      }
    }
  })

  it('serves the schema data unchanged, as copies', () => {
    const user = schemaResource(BASE, USER_SCHEMA.id)
    expect(user?.attributes).toEqual(USER_SCHEMA.attributes)
    expect(user?.attributes).not.toBe(USER_SCHEMA.attributes)
    const first = user?.attributes[0]
    if (first) first.required = false
    expect(USER_SCHEMA.attributes[0]?.required).toBe(true)
  })

  it('finds one schema by URN ignoring case', () => {
    expect(schemaResource(BASE, ENTERPRISE_USER_URN.toUpperCase())?.attributes).toEqual(
      ENTERPRISE_USER_SCHEMA.attributes,
    )
    expect(schemaResource(BASE, 'urn:ietf:params:scim:schemas:core:2.0:Nope')).toBeUndefined()
    expect(schemaResource(BASE, 'User')).toBeUndefined()
  })
})

describe('listResponse', () => {
  it('wraps discovery lists in a complete ListResponse (RFC 7644 §3.4.2)', () => {
    const resources = schemaResources(BASE)
    expect(listResponse(resources)).toEqual({
      schemas: [LIST_RESPONSE_URN],
      totalResults: 3,
      itemsPerPage: 3,
      startIndex: 1,
      Resources: resources,
    })
    expect(listResponse(resourceTypes(BASE)).totalResults).toBe(2)
    expect(listResponse([])).toMatchObject({ totalResults: 0, itemsPerPage: 0, startIndex: 1 })
  })
})
