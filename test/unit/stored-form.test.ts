import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ResourceRef, UserGroupRef } from '../../src/core/domain.js'
import { storedDocumentJson } from '../../src/core/stored-document.js'
import { normalizeResource } from '../../src/scim/normalize.js'
import { applyPatch } from '../../src/scim/patch/apply.js'
import { parsePatchRequest } from '../../src/scim/patch/request.js'
import { project } from '../../src/scim/projection.js'
import { scimGroupJson, scimUserJson, toScimGroup, toScimUser } from '../../src/scim/resources.js'
import {
  ENTERPRISE_USER_URN,
  GROUP_RESOURCE,
  type ResourceSchema,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'
import { splitExternalId } from '../../src/services/resource-common.js'
import { StoredGroupRecord, StoredUserRecord } from '../../src/store/scim-resources/records.js'

/**
 * Stored documents are in the form the default projection returns: a GET or list without
 * `attributes` / `excludedAttributes` skips the projection pass (http/scim/
 * resource-routes.ts), so whatever a create, replace or PATCH stores must come out of
 * project() unchanged. Bodies here are recorded client requests and random ones.
 */

const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const FIXTURES = join(import.meta.dirname, '../../fixtures')

const BASE_URL = 'https://scimd.example/source/scim/s/v2'
const GROUPS: UserGroupRef[] = [{ value: 'g1', display: 'Staff', type: 'direct' }]
const MEMBERS: ResourceRef[] = [{ value: 'u1', display: 'Ann', type: 'User' }]

/** The row the services write for a document (externalId in its own column), read back. */
function storedRow(document: Record<string, unknown>) {
  const { externalId, rest } = splitExternalId(document)
  return {
    external_id: externalId,
    resource: JSON.stringify(rest),
    created: '2026-01-01T00:00:00.000Z',
    last_modified: '2026-01-02T00:00:00.000Z',
    version: 2,
  }
}

const userRecord = (document: Record<string, unknown>) =>
  new StoredUserRecord('u1', 's1', { user_id: 1, ...storedRow(document) })
const groupRecord = (document: Record<string, unknown>) =>
  new StoredGroupRecord('g1', 's1', storedRow(document))

/**
 * What a create, replace or PATCH stores comes back unchanged through project(), and a
 * record read back answers with the stored text spliced (scimUserJson): byte for byte the
 * wire resource serialized, without parsing the document.
 */
function expectStoredForm(resource: ResourceSchema, document: Record<string, unknown>): void {
  const isUser = resource === USER_RESOURCE
  const wire = isUser
    ? toScimUser(userRecord(document), BASE_URL, GROUPS)
    : toScimGroup(groupRecord(document), BASE_URL, MEMBERS)
  expect(project(resource, wire, {})).toEqual(wire)
  const record = isUser ? userRecord(document) : groupRecord(document)
  const json = isUser
    ? scimUserJson(record as StoredUserRecord, BASE_URL, GROUPS)
    : scimGroupJson(record, BASE_URL, MEMBERS)
  expect(json).toBe(JSON.stringify(wire))
  // Spliced: the document was never parsed.
  expect(storedDocumentJson(record)).toBe(storedRow(document).resource)
}

/** Recorded request bodies of every client (fixtures/<client>/*.json), by kind. */
function recordedBodies(kind: 'create-user' | 'create-group' | 'patch-user'): unknown[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(FIXTURES, d.name))
        .filter((f) => f.startsWith(kind) && f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(join(FIXTURES, d.name, f), 'utf8')) as unknown),
    )
}

const KEY = fc.constantFrom(
  'userName',
  'name',
  'Name',
  'displayName',
  'emails',
  'EMAILS',
  'active',
  'phoneNumbers',
  'addresses',
  'x509Certificates',
  'roles',
  'nickName',
  'title',
  'password',
  'externalId',
  'id',
  'meta',
  'groups',
  'members',
  'nope',
  ENTERPRISE_USER_URN,
  `${ENTERPRISE_USER_URN}:manager`,
  `${ENTERPRISE_USER_URN}:department`,
  'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName',
)
const SUB_KEY = fc.constantFrom(
  'value',
  'type',
  'primary',
  'display',
  'givenName',
  'familyName',
  'formatted',
  'manager',
  'department',
  '$ref',
  'displayName',
  'streetAddress',
  'nope',
  '',
)
const leaf = fc.oneof(fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null), fc.integer())
const object = (item: fc.Arbitrary<unknown>) => fc.dictionary(SUB_KEY, item, { maxKeys: 4 })
const sub = fc.oneof(leaf, object(leaf), fc.array(fc.oneof(leaf, object(leaf)), { maxLength: 3 }))
const value = fc.oneof(leaf, object(sub), fc.array(fc.oneof(leaf, object(sub)), { maxLength: 3 }))
const body = fc.dictionary(KEY, value, { maxKeys: 8 })

const PATH = fc.constantFrom(
  undefined,
  'name',
  'name.givenName',
  'emails',
  'emails[type eq "work"].value',
  'emails[type eq "work"]',
  'emails[primary eq true].type',
  'active',
  'displayName',
  'phoneNumbers[type eq "work"].value',
  'addresses[type eq "work"].streetAddress',
  ENTERPRISE_USER_URN,
  `${ENTERPRISE_USER_URN}:manager`,
  `${ENTERPRISE_USER_URN}:manager.value`,
  `${ENTERPRISE_USER_URN}:department`,
  'members',
)
const operation = fc.record(
  { op: fc.constantFrom('add', 'replace', 'remove'), path: PATH, value },
  { requiredKeys: ['op'] },
)

/** The document a create would store, or undefined when the body is refused. */
function created(resource: ResourceSchema, input: unknown) {
  try {
    return normalizeResource(resource, input).document
  } catch {
    return undefined
  }
}

function patched(resource: ResourceSchema, document: Record<string, unknown>, ops: unknown) {
  try {
    return applyPatch(
      resource,
      document,
      parsePatchRequest({ schemas: [PATCH_OP_URN], Operations: ops }),
    ).document
  } catch {
    return undefined
  }
}

describe('stored documents are in default-projection form', () => {
  it('for every recorded client create and PATCH', () => {
    const users = recordedBodies('create-user').map((b) => created(USER_RESOURCE, b))
    const groups = recordedBodies('create-group').map((b) => created(GROUP_RESOURCE, b))
    expect(users.length).toBeGreaterThan(5)
    expect(groups.length).toBeGreaterThan(3)
    for (const document of users) expectStoredForm(USER_RESOURCE, document ?? {})
    for (const document of groups) expectStoredForm(GROUP_RESOURCE, document ?? {})
    const base = users.find((d) => d !== undefined) ?? {}
    for (const patch of recordedBodies('patch-user')) {
      const ops = (patch as { Operations?: unknown }).Operations
      const document = patched(USER_RESOURCE, base, ops)
      if (document) expectStoredForm(USER_RESOURCE, document)
    }
  })

  it('for random users, created and then patched', () => {
    fc.assert(
      fc.property(body, fc.array(operation, { maxLength: 4 }), (input, ops) => {
        const document = created(USER_RESOURCE, { userName: 'u', ...input })
        if (!document) return
        expectStoredForm(USER_RESOURCE, document)
        const after = patched(USER_RESOURCE, document, ops)
        if (after) expectStoredForm(USER_RESOURCE, after)
      }),
      { numRuns: 3000 },
    )
  })

  it('for random groups', () => {
    fc.assert(
      fc.property(body, (input) => {
        const document = created(GROUP_RESOURCE, { displayName: 'g', ...input })
        if (document) expectStoredForm(GROUP_RESOURCE, document)
      }),
      { numRuns: 2000 },
    )
  })
})
