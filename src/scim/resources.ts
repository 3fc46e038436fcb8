/** Maps stored records to SCIM wire resources (RFC 7643 §3.1 common attributes and meta). */
import type {
  ResourceRef,
  ScimDocument,
  ScimGroupRecord,
  ScimUserRecord,
  UserGroupRef,
} from '../domain.js'
import { CORE_GROUP_URN, LIST_RESPONSE_URN, type ResourceSchema, USER_RESOURCE } from './schemas.js'

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
  if (groups && groups.length > 0) {
    wire.groups = groups.map((g) => ({
      value: g.value,
      $ref: `${baseUrl}/Groups/${g.value}`,
      display: g.display,
      type: g.type,
    }))
  }
  wire.meta = {
    resourceType: 'User',
    created: record.created,
    lastModified: record.lastModified,
    location: `${baseUrl}/Users/${record.id}`,
    version: etag(record.version),
  }
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
  if (members) {
    wire.members = members.map((m) => ({
      value: m.value,
      $ref: `${baseUrl}/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
      display: m.display,
      type: m.type,
    }))
  }
  wire.meta = {
    resourceType: 'Group',
    created: record.created,
    lastModified: record.lastModified,
    location: `${baseUrl}/Groups/${record.id}`,
    version: etag(record.version),
  }
  return wire
}

/** RFC 7644 §3.4.2: a ListResponse; itemsPerPage is the number of resources returned. */
export function listResponse(
  resources: readonly ScimResource[],
  totalResults: number,
  startIndex: number,
): ScimResource {
  return {
    schemas: [LIST_RESPONSE_URN],
    totalResults,
    itemsPerPage: resources.length,
    startIndex,
    Resources: resources,
  }
}
