/** Maps stored records to SCIM wire resources (RFC 7643 §3.1 common attributes and meta). */
import type {
  ResourceRef,
  ScimDocument,
  ScimGroupRecord,
  ScimUserRecord,
  UserGroupRef,
} from '../core/domain.js'
import { storedDocumentJson } from '../core/stored-document.js'
import {
  CORE_GROUP_URN,
  CORE_USER_URN,
  GROUP_RESOURCE,
  LIST_RESPONSE_URN,
  type ResourceSchema,
  USER_RESOURCE,
} from './schema/resource-types.js'

export type ScimResource = Record<string, unknown>

/** The weak entity tag of a resource version (RFC 7644 §3.14). */
export function etag(version: number): string {
  return `W/"${version}"`
}

/** `schemas` of a resource: the core URN, then every extension the document carries. */
export function schemasOf(resource: ResourceSchema, document: ScimDocument): string[] {
  const schemas = [resource.core.id]
  for (const ext of resource.extensions) {
    const value = document[ext.id]
    if (value && typeof value === 'object' && Object.keys(value).length > 0) schemas.push(ext.id)
  }
  return schemas
}

function withoutSchemas(document: ScimDocument): ScimDocument {
  const { schemas: _ignored, ...rest } = document
  return rest
}

function userGroupsWire(groups: readonly UserGroupRef[], baseUrl: string) {
  return groups.map((g) => ({
    value: g.value,
    $ref: `${baseUrl}/Groups/${g.value}`,
    display: g.display,
    type: g.type,
  }))
}

function membersWire(members: readonly ResourceRef[], baseUrl: string) {
  return members.map((m) => ({
    value: m.value,
    $ref: `${baseUrl}/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
    display: m.display,
    type: m.type,
  }))
}

function metaOf(
  resource: ResourceSchema,
  record: ScimUserRecord | ScimGroupRecord,
  baseUrl: string,
) {
  return {
    resourceType: resource.name,
    created: record.created,
    lastModified: record.lastModified,
    location: `${baseUrl}${resource.endpoint}/${record.id}`,
    version: etag(record.version),
  }
}

export function toScimUser(
  record: ScimUserRecord,
  baseUrl: string,
  groups?: readonly UserGroupRef[],
): ScimResource {
  const wire: ScimResource = {
    schemas: schemasOf(USER_RESOURCE, record.document),
    id: record.id,
    ...(record.externalId !== null ? { externalId: record.externalId } : {}),
    ...withoutSchemas(record.document),
  }
  if (groups && groups.length > 0) wire.groups = userGroupsWire(groups, baseUrl)
  wire.meta = metaOf(USER_RESOURCE, record, baseUrl)
  return wire
}

export function toScimGroup(
  record: ScimGroupRecord,
  baseUrl: string,
  members?: readonly ResourceRef[],
): ScimResource {
  const wire: ScimResource = {
    schemas: [CORE_GROUP_URN],
    id: record.id,
    ...(record.externalId !== null ? { externalId: record.externalId } : {}),
    ...withoutSchemas(record.document),
  }
  // RFC 7643 §2.5: an empty multi-valued attribute is unassigned, and omitted like any other.
  if (members && members.length > 0) wire.members = membersWire(members, baseUrl)
  wire.meta = metaOf(GROUP_RESOURCE, record, baseUrl)
  return wire
}

const SCHEMAS_FIRST = '{"schemas":'

/**
 * The members of a stored document after its `schemas`, as JSON text without the closing
 * brace (empty, or starting with a comma): a normalized document is stored with its
 * computed `schemas` first (normalize.ts, patch/apply.ts), whose URNs contain no `]`. Undefined
 * when the record has no stored text or the text is not in that form.
 */
function storedMembersAfterSchemas(
  record: ScimUserRecord | ScimGroupRecord,
  coreUrn: string,
): { schemas: string; rest: string } | undefined {
  const json = storedDocumentJson(record)
  if (json === undefined || !json.startsWith(`${SCHEMAS_FIRST}["${coreUrn}"`)) return undefined
  const end = json.indexOf(']') + 1
  return { schemas: json.slice(SCHEMAS_FIRST.length, end), rest: json.slice(end, -1) }
}

function idMembers(record: ScimUserRecord | ScimGroupRecord): string {
  const id = `,"id":${JSON.stringify(record.id)}`
  return record.externalId === null ? id : `${id},"externalId":${JSON.stringify(record.externalId)}`
}

/**
 * `JSON.stringify(toScimUser(record, baseUrl, groups))`, byte for byte. A record read from
 * the database (stored-document.ts) is answered with its stored text and the members the
 * wire adds spliced in, so its document is never parsed nor serialized again.
 */
export function scimUserJson(
  record: ScimUserRecord,
  baseUrl: string,
  groups?: readonly UserGroupRef[],
): string {
  const stored = storedMembersAfterSchemas(record, CORE_USER_URN)
  if (!stored) return JSON.stringify(toScimUser(record, baseUrl, groups))
  const groupsJson =
    groups && groups.length > 0
      ? `,"groups":${JSON.stringify(userGroupsWire(groups, baseUrl))}`
      : ''
  const meta = JSON.stringify(metaOf(USER_RESOURCE, record, baseUrl))
  return `{"schemas":${stored.schemas}${idMembers(record)}${stored.rest}${groupsJson},"meta":${meta}}`
}

/** `JSON.stringify(toScimGroup(record, baseUrl, members))`, byte for byte, as scimUserJson. */
export function scimGroupJson(
  record: ScimGroupRecord,
  baseUrl: string,
  members?: readonly ResourceRef[],
): string {
  const stored = storedMembersAfterSchemas(record, CORE_GROUP_URN)
  if (!stored) return JSON.stringify(toScimGroup(record, baseUrl, members))
  const membersJson =
    members && members.length > 0
      ? `,"members":${JSON.stringify(membersWire(members, baseUrl))}`
      : ''
  const meta = JSON.stringify(metaOf(GROUP_RESOURCE, record, baseUrl))
  // A group's wire `schemas` is the core URN alone, whatever the document lists.
  return `{"schemas":["${CORE_GROUP_URN}"]${idMembers(record)}${stored.rest}${membersJson},"meta":${meta}}`
}

/**
 * RFC 7644 §3.4.2: a ListResponse of resources already in JSON text; itemsPerPage is the
 * number of resources returned.
 */
export function listResponseJson(
  resources: readonly string[],
  totalResults: number,
  startIndex: number,
): string {
  return (
    `{"schemas":["${LIST_RESPONSE_URN}"],"totalResults":${totalResults},` +
    `"itemsPerPage":${resources.length},"startIndex":${startIndex},` +
    `"Resources":[${resources.join(',')}]}`
  )
}
