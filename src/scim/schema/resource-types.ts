/** The SCIM resource types scimd serves and case-insensitive lookup of their attributes (RFC 7643 §2.1, §3). */
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './data.js'
import type { AttributeDefinition, SchemaDefinition } from './types.js'

export type { AttributeDefinition, SchemaDefinition } from './types.js'

export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const CORE_GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group'
export const ENTERPRISE_USER_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'

export type ResourceTypeName = 'User' | 'Group'

/** A resource type: its core schema and the extensions it may carry (RFC 7643 §6). */
export interface ResourceSchema {
  name: ResourceTypeName
  endpoint: '/Users' | '/Groups'
  description: string
  core: SchemaDefinition
  extensions: SchemaDefinition[]
}

const sub = (
  name: string,
  type: AttributeDefinition['type'],
  extra: Partial<AttributeDefinition> = {},
): AttributeDefinition => ({
  name,
  type,
  multiValued: false,
  description: '',
  required: false,
  caseExact: false,
  mutability: 'readOnly',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
})

/**
 * The common attributes of every resource (RFC 7643 §3.1). They are not part of any
 * schema's attribute list, so `/Schemas` does not serve them, but filters, PATCH paths
 * and projections resolve them like schema attributes.
 */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  sub('id', 'string', {
    description: 'Unique identifier for the resource, assigned by the service provider.',
    caseExact: true,
    returned: 'always',
    uniqueness: 'server',
  }),
  sub('externalId', 'string', {
    description: 'Identifier of the resource as defined by the provisioning client.',
    caseExact: true,
    mutability: 'readWrite',
  }),
  sub('meta', 'complex', {
    description: 'Resource metadata.',
    subAttributes: [
      // returned always: RFC 7643 §3.1 and issue 4 (id, schemas and meta.resourceType).
      sub('resourceType', 'string', { caseExact: true, returned: 'always' }),
      sub('created', 'dateTime'),
      sub('lastModified', 'dateTime'),
      sub('location', 'reference', { caseExact: true, referenceTypes: ['uri'] }),
      sub('version', 'string', { caseExact: true }),
    ],
  }),
]

export const USER_RESOURCE: ResourceSchema = {
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  core: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
}

export const GROUP_RESOURCE: ResourceSchema = {
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  core: GROUP_SCHEMA,
  extensions: [],
}

export const RESOURCE_SCHEMAS: readonly ResourceSchema[] = [USER_RESOURCE, GROUP_RESOURCE]
export const ALL_SCHEMAS: readonly SchemaDefinition[] = [
  USER_SCHEMA,
  GROUP_SCHEMA,
  ENTERPRISE_USER_SCHEMA,
]

/** Finds an attribute by name, ignoring case (RFC 7643 §2.1). */
export function findAttribute(
  attributes: readonly AttributeDefinition[],
  name: string,
): AttributeDefinition | undefined {
  const lower = name.toLowerCase()
  return attributes.find((a) => a.name.toLowerCase() === lower)
}

/** The top-level attributes of the core schema plus the common attributes. */
export function coreAttributes(resource: ResourceSchema): readonly AttributeDefinition[] {
  return CORE_ATTRIBUTE_CACHE.get(resource) ?? []
}

const CORE_ATTRIBUTE_CACHE = new Map<ResourceSchema, AttributeDefinition[]>(
  RESOURCE_SCHEMAS.map((r) => [r, [...COMMON_ATTRIBUTES, ...r.core.attributes]]),
)

/** Finds one of the resource's extension schemas by URN, ignoring case. */
export function findExtension(resource: ResourceSchema, urn: string): SchemaDefinition | undefined {
  const lower = urn.toLowerCase()
  return resource.extensions.find((s) => s.id.toLowerCase() === lower)
}

/** Where an attribute path points: the schema holding it, the attribute and an optional sub-attribute. */
export interface ResolvedAttribute {
  /** The schema that declares the attribute (the core schema for common attributes). */
  schema: SchemaDefinition
  /** True when the attribute lives in an extension, i.e. under the extension URN key on the wire. */
  isExtension: boolean
  attribute: AttributeDefinition
  subAttribute?: AttributeDefinition
  /** Canonical dotted path without URN, e.g. `name.givenName`, `manager.value`. */
  canonicalPath: string
}

/**
 * Resolves an attribute path such as `userName`, `name.givenName`, `emails.value`,
 * `urn:ietf:params:scim:schemas:core:2.0:User:userName` or
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`
 * (RFC 7644 §3.10), ignoring case. Returns undefined for anything the schemas do not define.
 */
export function resolveAttributePath(
  resource: ResourceSchema,
  path: string,
): ResolvedAttribute | undefined {
  let schema = resource.core
  let isExtension = false
  let rest = path
  const urn = splitUrn(resource, path)
  if (urn) {
    schema = urn.schema
    isExtension = urn.schema !== resource.core
    rest = urn.rest
    if (rest === '') return undefined
  }
  const [head, tail, ...more] = rest.split('.')
  if (head === undefined || more.length > 0) return undefined
  const attribute = isExtension
    ? findAttribute(schema.attributes, head)
    : findAttribute(coreAttributes(resource), head)
  if (!attribute) return undefined
  if (tail === undefined) return { schema, isExtension, attribute, canonicalPath: attribute.name }
  const subAttribute = findAttribute(attribute.subAttributes ?? [], tail)
  if (!subAttribute) return undefined
  return {
    schema,
    isExtension,
    attribute,
    subAttribute,
    canonicalPath: `${attribute.name}.${subAttribute.name}`,
  }
}

/**
 * Splits a URN-qualified path (`<schema urn>:<attr path>`) into its schema and the rest.
 * Returns `rest: ''` when the path is the URN itself (the whole extension object).
 */
export function splitUrn(
  resource: ResourceSchema,
  path: string,
): { schema: SchemaDefinition; rest: string } | undefined {
  if (!path.toLowerCase().startsWith('urn:')) return undefined
  const lower = path.toLowerCase()
  for (const schema of [resource.core, ...resource.extensions]) {
    const id = schema.id.toLowerCase()
    if (lower === id) return { schema, rest: '' }
    if (lower.startsWith(`${id}:`)) return { schema, rest: path.slice(id.length + 1) }
  }
  return undefined
}
