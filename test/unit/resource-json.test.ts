import { describe, expect, it } from 'vitest'
import { storedDocumentJson } from '../../src/core/stored-document.js'
import {
  listResponseJson,
  scimGroupJson,
  scimUserJson,
  toScimUser,
} from '../../src/scim/resources.js'
import { ENTERPRISE_USER_URN } from '../../src/scim/schema/resource-types.js'
import { StoredGroupRecord, StoredUserRecord } from '../../src/store/scim-resources/records.js'

/**
 * Responses spliced from a record's stored text (scim/resources.ts). That the splice equals
 * the serialized wire resource for every stored form is checked in stored-form.test.ts;
 * these check when the stored text may be used at all.
 */
const BASE_URL = 'https://scimd.example/source/scim/s/v2'

const DOCUMENT = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE_USER_URN],
  userName: 'ann@example.com',
  active: true,
  [ENTERPRISE_USER_URN]: { department: 'Sales' },
}

function readUser(resource: string) {
  return new StoredUserRecord('u1', 's1', {
    user_id: 7,
    external_id: 'ext-1',
    resource,
    created: '2026-01-01T00:00:00.000Z',
    last_modified: '2026-01-02T00:00:00.000Z',
    version: 3,
  })
}

describe('records read from the database', () => {
  it('answer with the stored text until their document is read', () => {
    const record = readUser(JSON.stringify(DOCUMENT))
    const json = scimUserJson(record, BASE_URL)
    expect(storedDocumentJson(record)).toBe(JSON.stringify(DOCUMENT))
    expect(JSON.parse(json)).toEqual({
      ...DOCUMENT,
      id: 'u1',
      externalId: 'ext-1',
      meta: {
        resourceType: 'User',
        created: '2026-01-01T00:00:00.000Z',
        lastModified: '2026-01-02T00:00:00.000Z',
        location: `${BASE_URL}/Users/u1`,
        version: 'W/"3"',
      },
    })
  })

  it('render a document changed after reading it, not the stale stored text', () => {
    const record = readUser(JSON.stringify(DOCUMENT))
    record.document.userName = 'changed@example.com'
    expect(storedDocumentJson(record)).toBeUndefined()
    expect(JSON.parse(scimUserJson(record, BASE_URL)).userName).toBe('changed@example.com')

    const replaced = readUser(JSON.stringify(DOCUMENT))
    replaced.document = { ...DOCUMENT, userName: 'new@example.com' }
    expect(JSON.parse(scimUserJson(replaced, BASE_URL)).userName).toBe('new@example.com')
  })

  it('do not pass their stored text to a copy', () => {
    const record = readUser(JSON.stringify(DOCUMENT))
    const copy = { ...record, document: { ...DOCUMENT, active: false }, version: 4 }
    expect(storedDocumentJson(copy)).toBeUndefined()
    expect(scimUserJson(copy, BASE_URL)).toBe(JSON.stringify(toScimUser(copy, BASE_URL)))
    expect(JSON.parse(scimUserJson(copy, BASE_URL)).active).toBe(false)
  })

  it('fall back to the document when the stored text is not in the stored form', () => {
    // Valid JSON, but not as scimd writes it: whitespace, `schemas` not first.
    const text = '{ "userName": "ann@example.com", "schemas": ["x"] }'
    const record = readUser(text)
    expect(JSON.parse(scimUserJson(record, BASE_URL))).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'ann@example.com',
    })
  })

  it('answer a group with the core schema alone, as toScimGroup does', () => {
    const group = new StoredGroupRecord('g1', 's1', {
      external_id: null,
      resource: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'urn:example:ext'],
        displayName: 'Staff',
      }),
      created: '2026-01-01T00:00:00.000Z',
      last_modified: '2026-01-01T00:00:00.000Z',
      version: 1,
    })
    const wire = JSON.parse(scimGroupJson(group, BASE_URL, []))
    expect(wire.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Group'])
    // RFC 7643 §2.5: no members is unassigned, omitted like every empty multi-valued attribute.
    expect(wire).not.toHaveProperty('members')
    expect(wire.displayName).toBe('Staff')
  })
})

describe('listResponseJson', () => {
  it('is a ListResponse of the resources, in RFC 7644 order', () => {
    const resources = [{ id: 'a' }, { id: 'b', name: { givenName: 'B' } }]
    const json = listResponseJson(
      resources.map((r) => JSON.stringify(r)),
      12,
      3,
    )
    expect(json).toBe(
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 12,
        itemsPerPage: 2,
        startIndex: 3,
        Resources: resources,
      }),
    )
    expect(JSON.parse(listResponseJson([], 0, 1))).toMatchObject({ Resources: [], itemsPerPage: 0 })
  })
})
