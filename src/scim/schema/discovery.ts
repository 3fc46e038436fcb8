/** Pure builders for the SCIM discovery endpoints: ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 §4). */

import {
  ALL_SCHEMAS,
  LIST_RESPONSE_URN,
  RESOURCE_SCHEMAS,
  type ResourceSchema,
} from './resource-types.js'
import type { AttributeDefinition, SchemaDefinition } from './types.js'

export const SERVICE_PROVIDER_CONFIG_URN =
  'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'
export const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType'
export const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema'

export interface ScimDiscoveryMeta {
  resourceType: 'ServiceProviderConfig' | 'ResourceType' | 'Schema'
  location: string
}

export interface ScimAuthenticationScheme {
  type: string
  name: string
  description: string
  specUri: string
  primary: boolean
}

/** RFC 7643 §5. */
export interface ScimServiceProviderConfig {
  schemas: [typeof SERVICE_PROVIDER_CONFIG_URN]
  patch: { supported: boolean }
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number }
  filter: { supported: boolean; maxResults: number }
  changePassword: { supported: boolean }
  sort: { supported: boolean }
  etag: { supported: boolean }
  authenticationSchemes: ScimAuthenticationScheme[]
  meta: ScimDiscoveryMeta
}

/** RFC 7643 §6. */
export interface ScimResourceType {
  schemas: [typeof RESOURCE_TYPE_URN]
  id: string
  name: string
  endpoint: string
  description: string
  schema: string
  schemaExtensions?: { schema: string; required: boolean }[]
  meta: ScimDiscoveryMeta
}

/** RFC 7643 §7. */
export interface ScimSchema {
  schemas: [typeof SCHEMA_URN]
  id: string
  name: string
  description: string
  attributes: AttributeDefinition[]
  meta: ScimDiscoveryMeta
}

/** RFC 7644 §3.4.2. */
export interface ScimListResponse<T> {
  schemas: [typeof LIST_RESPONSE_URN]
  totalResults: number
  itemsPerPage: number
  startIndex: number
  Resources: T[]
}

/** RFC 7643 §5: what scimd supports, with the limits it enforces. */
export function serviceProviderConfig(
  baseUrl: string,
  opts: { maxResults: number; maxOperations: number; maxPayloadSize: number },
): ScimServiceProviderConfig {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_URN],
    patch: { supported: true },
    bulk: {
      supported: true,
      maxOperations: opts.maxOperations,
      maxPayloadSize: opts.maxPayloadSize,
    },
    filter: { supported: true, maxResults: opts.maxResults },
    // A password in PUT or PATCH replaces the stored hash (Okta's password sync).
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
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${trimSlash(baseUrl)}/ServiceProviderConfig`,
    },
  }
}

/** The User and Group resource types (RFC 7643 §6), User first. */
export function resourceTypes(baseUrl: string): ScimResourceType[] {
  return RESOURCE_SCHEMAS.map((r) => toResourceType(baseUrl, r))
}

/** One resource type by id, ignoring case, or undefined. */
export function resourceType(baseUrl: string, id: string): ScimResourceType | undefined {
  const lower = id.toLowerCase()
  const resource = RESOURCE_SCHEMAS.find((r) => r.name.toLowerCase() === lower)
  return resource && toResourceType(baseUrl, resource)
}

/** The core User, core Group and enterprise User schemas as Schema resources (RFC 7643 §7). */
export function schemaResources(baseUrl: string): ScimSchema[] {
  return ALL_SCHEMAS.map((s) => toSchemaResource(baseUrl, s))
}

/** One schema by URN, ignoring case, or undefined. */
export function schemaResource(baseUrl: string, id: string): ScimSchema | undefined {
  const lower = id.toLowerCase()
  const schema = ALL_SCHEMAS.find((s) => s.id.toLowerCase() === lower)
  return schema && toSchemaResource(baseUrl, schema)
}

/** An unpaged ListResponse (RFC 7644 §3.4.2) for the discovery lists, which are always complete. */
export function listResponse<T>(resources: T[]): ScimListResponse<T> {
  return {
    schemas: [LIST_RESPONSE_URN],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  }
}

function toResourceType(baseUrl: string, resource: ResourceSchema): ScimResourceType {
  const { extensions } = resource
  return {
    schemas: [RESOURCE_TYPE_URN],
    id: resource.name,
    name: resource.name,
    endpoint: resource.endpoint,
    description: resource.description,
    schema: resource.core.id,
    // RFC 7643 §8.6 omits schemaExtensions for a resource type that has none.
    ...(extensions.length > 0 && {
      schemaExtensions: extensions.map((s) => ({ schema: s.id, required: false })),
    }),
    meta: {
      resourceType: 'ResourceType',
      location: `${trimSlash(baseUrl)}/ResourceTypes/${resource.name}`,
    },
  }
}

function toSchemaResource(baseUrl: string, schema: SchemaDefinition): ScimSchema {
  return {
    schemas: [SCHEMA_URN],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(toAttributeResource),
    meta: {
      resourceType: 'Schema',
      location: `${trimSlash(baseUrl)}/Schemas/${schema.id}`,
    },
  }
}

/**
 * A fresh copy of an attribute definition with every characteristic (RFC 7643 §7), keys in
 * the order of RFC 7643 §8.7.1, so callers cannot mutate the shared schema data.
 */
function toAttributeResource(a: AttributeDefinition): AttributeDefinition {
  return {
    name: a.name,
    type: a.type,
    ...(a.referenceTypes && { referenceTypes: [...a.referenceTypes] }),
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    ...(a.canonicalValues && { canonicalValues: [...a.canonicalValues] }),
    ...(a.subAttributes && { subAttributes: a.subAttributes.map(toAttributeResource) }),
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
  }
}

function trimSlash(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '')
}
