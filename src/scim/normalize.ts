/** Turns a client's User or Group body into scimd's canonical stored document, absorbing known client quirks. */
import type { ScimDocument } from '../core/domain.js'
import { isRealDate } from '../core/instant.js'
import { ScimError } from './errors.js'
import type {
  AttributeDefinition,
  ResolvedAttribute,
  ResourceSchema,
  SchemaDefinition,
} from './schema/resource-types.js'
import {
  coreAttributes,
  ENTERPRISE_USER_URN,
  findAttribute,
  findExtension,
  splitUrn,
} from './schema/resource-types.js'

/**
 * A stored SCIM resource: wire JSON in canonical attribute casing, without `id`, `meta`,
 * `groups`, `members` and `password`; extension attributes live under their URN key.
 */

/** A group member reference as sent by a client (RFC 7643 §4.2). */
export interface MemberRef {
  value: string
  type?: 'User' | 'Group'
}

export interface NormalizedResource {
  document: ScimDocument
  /** The writeOnly `password` (RFC 7643 §4.1.1), never part of the document. */
  password?: string
  /** Group `members`, when the body carried them (membership is stored apart from the document). */
  members?: MemberRef[]
}

/** Entra's old documentation spells the enterprise URN without the colon before `User`. */
const ENTERPRISE_URN_TYPO = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0user'

/** The attribute each resource type cannot do without (RFC 7643 §4.1.1, and a group needs a name). */
const REQUIRED_ATTRIBUTE: Record<ResourceSchema['name'], string> = {
  User: 'userName',
  Group: 'displayName',
}

type JsonObject = Record<string, unknown>

/**
 * Most values one multi-valued attribute (emails, roles, …) may carry: real users have a
 * handful; a limit keeps a request's work and a user's rows bounded. Group `members` are not
 * limited by count (normalizeMembers), only by the body size.
 */
export const MAX_VALUES = 1000

/** Most entries one multi-valued attribute may be sent with, duplicates included. */
export const MAX_ENTRIES = 10 * MAX_VALUES

/**
 * Longest string value of any attribute, in UTF-16 code units. A certificate is a few
 * thousand; a 7 MB userName was stored, indexed and echoed for over a second.
 */
export const MAX_STRING_LENGTH = 65_536

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Normalizes a POST or PUT body (RFC 7644 §3.3, §3.5.1): canonical casing (RFC 7643 §2.1),
 * readOnly attributes ignored, unknown attributes dropped, values coerced to their types.
 */
export function normalizeResource(resource: ResourceSchema, body: unknown): NormalizedResource {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('Request body must be a JSON object')
  const result: NormalizedResource = { document: {} }
  const core: JsonObject = {}
  // Enterprise attributes sent at the top level (Entra's old docs) and under the extension
  // URN are collected apart, so that the URN object wins over the top-level copy.
  const movedToExtension = new Map<SchemaDefinition, JsonObject>()
  const extensions = new Map<SchemaDefinition, JsonObject>()

  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase()
    if (lower === 'schemas') {
      // Unknown URNs are tolerated: Google adds `urn:scim:schemas:core:1.0`, Entra groups add
      // a Microsoft URN. The stored `schemas` is computed from the document instead.
      if (!Array.isArray(value) || value.some((urn) => typeof urn !== 'string')) {
        throw ScimError.invalidSyntax("'schemas' must be an array of strings")
      }
      continue
    }
    const extension = extensionForKey(resource, key)
    if (extension) {
      if (value === null || value === undefined) continue
      if (!isJsonObject(value)) {
        throw ScimError.invalidValue(`Extension '${extension.id}' must be an object`)
      }
      const target = extensions.get(extension) ?? {}
      Object.assign(target, normalizeAttributes(extension.attributes, value, `${extension.id}:`))
      extensions.set(extension, target)
      continue
    }
    const qualified = lower.startsWith('urn:') ? splitUrn(resource, key) : undefined
    if (lower.startsWith('urn:') && (!qualified || qualified.rest.includes('.'))) continue
    if (qualified && qualified.schema !== resource.core) {
      const attribute = findAttribute(qualified.schema.attributes, qualified.rest)
      if (!attribute) continue
      const target = extensions.get(qualified.schema) ?? {}
      setNormalized(target, attribute, value, `${qualified.schema.id}:${attribute.name}`)
      extensions.set(qualified.schema, target)
      continue
    }
    const name = qualified ? qualified.rest : key
    const attribute = findAttribute(coreAttributes(resource), name)
    if (!attribute) {
      const moved = findTopLevelExtensionAttribute(resource, name)
      if (moved) {
        const target = movedToExtension.get(moved.schema) ?? {}
        setNormalized(target, moved.attribute, value, moved.attribute.name)
        movedToExtension.set(moved.schema, target)
      }
      // Unknown attributes are dropped, not rejected: Microsoft's SCIM test collection PUTs a
      // misspelled `adreses` and expects 200.
      continue
    }
    if (resource.name === 'Group' && attribute.name === 'members') {
      if (value !== null && value !== undefined) result.members = normalizeMembers(value)
      continue
    }
    if (attribute.mutability === 'writeOnly') {
      if (attribute.name === 'password' && value !== null && value !== undefined) {
        const password = normalizeAttributeValue(attribute, value, attribute.name)
        if (typeof password === 'string') result.password = password
      }
      continue
    }
    // readOnly attributes (id, meta, groups) are ignored (RFC 7644 §3.3); Okta sends `groups: []`.
    if (attribute.mutability === 'readOnly') continue
    setNormalized(core, attribute, value, attribute.name)
  }

  const document: ScimDocument = { schemas: [], ...core }
  for (const extension of resource.extensions) {
    const merged = {
      ...(movedToExtension.get(extension) ?? {}),
      ...(extensions.get(extension) ?? {}),
    }
    if (Object.keys(merged).length > 0) document[extension.id] = merged
  }
  document.schemas = computeSchemas(resource, document)
  assertRequired(resource, document)
  result.document = document
  return result
}

/** `schemas` of a document: the core URN plus every extension present (RFC 7643 §3). */
export function computeSchemas(resource: ResourceSchema, document: ScimDocument): string[] {
  const schemas = [resource.core.id]
  for (const extension of resource.extensions) {
    const value = document[extension.id]
    if (isJsonObject(value) && Object.keys(value).length > 0) schemas.push(extension.id)
  }
  return schemas
}

/** The name of the attribute a resource of this type cannot do without. */
export function requiredAttribute(resource: ResourceSchema): string {
  return REQUIRED_ATTRIBUTE[resource.name]
}

/** Throws invalidValue unless the resource type's required attribute is a non-empty string. */
export function assertRequired(resource: ResourceSchema, document: ScimDocument): void {
  const name = REQUIRED_ATTRIBUTE[resource.name]
  const value = document[name]
  if (typeof value !== 'string' || value.trim() === '') {
    throw ScimError.invalidValue(`Attribute '${name}' is required`)
  }
}

/**
 * The extension schema a top-level body key names: an extension URN in any case, or Entra's
 * old `…:enterprise:2.0User` typo.
 */
export function extensionForKey(
  resource: ResourceSchema,
  key: string,
): SchemaDefinition | undefined {
  if (key.toLowerCase() === ENTERPRISE_URN_TYPO) return findExtension(resource, ENTERPRISE_USER_URN)
  return findExtension(resource, key)
}

/**
 * An enterprise attribute sent without its URN at the top level, where it is not a core
 * attribute (Entra's old docs put `department` and `manager` there).
 */
export function findTopLevelExtensionAttribute(
  resource: ResourceSchema,
  name: string,
): { schema: SchemaDefinition; attribute: AttributeDefinition } | undefined {
  if (findAttribute(coreAttributes(resource), name)) return undefined
  const schema = findExtension(resource, ENTERPRISE_USER_URN)
  const attribute = schema && findAttribute(schema.attributes, name)
  return schema && attribute ? { schema, attribute } : undefined
}

/**
 * Coerces a value for a resolved attribute path exactly as POST/PUT bodies are coerced, so
 * PATCH values follow the same rules. Returns undefined for a value that means "absent".
 */
export function normalizeValue(
  resolved: Pick<ResolvedAttribute, 'attribute' | 'subAttribute'>,
  value: unknown,
  pathForErrors: string,
): unknown {
  return normalizeAttributeValue(resolved.subAttribute ?? resolved.attribute, value, pathForErrors)
}

/**
 * Coerces one attribute's value (RFC 7643 §2.3, §2.4). `null` and empty objects/arrays mean
 * absent (undefined): Entra's old docs create users with `"manager": null`, Microsoft's test
 * collection sends nulls inside addresses. Multi-valued attributes always come back as a
 * non-empty array.
 */
export function normalizeAttributeValue(
  attribute: AttributeDefinition,
  value: unknown,
  path: string,
): unknown {
  if (value === null || value === undefined) return undefined
  if (!attribute.multiValued) {
    if (Array.isArray(value)) {
      // Entra sends single-valued attributes (e.g. `manager`) as a one-element array.
      if (value.length === 0) return undefined
      if (value.length > 1) {
        throw ScimError.invalidValue(`Attribute '${path}' is single-valued but got an array`)
      }
      return normalizeElement(attribute, value[0], path)
    }
    return normalizeElement(attribute, value, path)
  }
  // OneLogin sends `emails` as a single object instead of an array.
  const items = Array.isArray(value) ? value : [value]
  // Duplicates are forgiven, but not without end: 100,000 copies of one email took seconds
  // to normalize one by one.
  if (items.length > MAX_ENTRIES) {
    throw ScimError.invalidValue(
      `Attribute '${path}' has ${items.length} entries; at most ${MAX_ENTRIES} are accepted (${MAX_VALUES} once duplicates are dropped)`,
    )
  }
  const normalized: unknown[] = []
  // Duplicates are found by key, not by comparing every pair: 20,000 emails took seconds.
  const seen = new Set<string>()
  for (const item of items) {
    const element = normalizeElement(attribute, item, path)
    if (element === undefined) continue
    // A lone value (most emails, every schemas list) has nothing to be a duplicate of.
    if (items.length > 1) {
      const key = jsonKey(element)
      if (seen.has(key)) continue
      seen.add(key)
    }
    normalized.push(element)
    // Counted once duplicates are gone: a client that repeats values is not refused for it.
    if (normalized.length > MAX_VALUES) {
      throw ScimError.invalidValue(
        `Attribute '${path}' has more than ${MAX_VALUES} values; at most ${MAX_VALUES} are accepted`,
      )
    }
  }
  if (normalized.length === 0) return undefined
  return attribute.type === 'complex' ? fixPrimary(normalized) : normalized
}

/**
 * Coerces one value of an attribute, i.e. one element of a multi-valued attribute or the
 * value of a single-valued one (arrays are not unwrapped here).
 */
export function normalizeElement(
  attribute: AttributeDefinition,
  value: unknown,
  path: string,
): unknown {
  if (value === null || value === undefined) return undefined
  switch (attribute.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value !== 'string')
        throw ScimError.invalidValue(`Attribute '${path}' must be a string`)
      if (value.length > MAX_STRING_LENGTH) {
        throw ScimError.invalidValue(
          `Attribute '${path}' is ${value.length} characters long; at most ${MAX_STRING_LENGTH} are accepted`,
        )
      }
      return value
    case 'boolean':
      return toBoolean(value, path)
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw ScimError.invalidValue(`Attribute '${path}' must be an integer`)
      }
      return value
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw ScimError.invalidValue(`Attribute '${path}' must be a number`)
      }
      return value
    case 'dateTime':
      if (
        typeof value !== 'string' ||
        !ISO_8601.test(value) ||
        !isRealDate(value) ||
        Number.isNaN(Date.parse(value))
      ) {
        throw ScimError.invalidValue(`Attribute '${path}' must be an ISO 8601 dateTime`)
      }
      return value
    case 'complex':
      return normalizeComplex(attribute, value, path)
  }
}

// RFC 7643 §2.3.5 xsd:dateTime; fractional seconds of any length (Microsoft sends 7 digits).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

/**
 * A SCIM boolean as clients send it: true/false, or the strings "true"/"false" in any case
 * (Entra sends "True"/"False" unless the aadOptscim062020 flag is set); else undefined.
 * Bodies, PATCH values and filter values all read booleans through this.
 */
export function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
}

function toBoolean(value: unknown, path: string): boolean {
  const read = readBoolean(value)
  if (read === undefined) throw ScimError.invalidValue(`Attribute '${path}' must be a boolean`)
  return read
}

function normalizeComplex(attribute: AttributeDefinition, value: unknown, path: string): unknown {
  const subAttributes = attribute.subAttributes ?? []
  if (!isJsonObject(value)) {
    // Entra sends `manager` as a bare id string; read it as the `value` sub-attribute.
    const valueAttribute = findAttribute(subAttributes, 'value')
    if (!attribute.multiValued && valueAttribute && typeof value === 'string') {
      return normalizeComplex(attribute, { value }, path)
    }
    throw ScimError.invalidValue(`Attribute '${path}' must be an object`)
  }
  const normalized = normalizeAttributes(subAttributes, value, `${path}.`)
  return Object.keys(normalized).length > 0 ? normalized : undefined
}

/**
 * Normalizes an object's keys against attribute definitions: canonical casing, unknown and
 * readOnly ones dropped, absent values left out.
 */
function normalizeAttributes(
  attributes: readonly AttributeDefinition[],
  value: JsonObject,
  pathPrefix: string,
): JsonObject {
  const result: JsonObject = {}
  for (const [key, item] of Object.entries(value)) {
    const attribute = findAttribute(attributes, key)
    // Unknown sub-attributes are dropped; readOnly ones (e.g. `manager.displayName`) ignored.
    if (!attribute || attribute.mutability === 'readOnly') continue
    setNormalized(result, attribute, item, `${pathPrefix}${attribute.name}`)
  }
  return result
}

function setNormalized(
  target: JsonObject,
  attribute: AttributeDefinition,
  value: unknown,
  path: string,
): void {
  const normalized = normalizeAttributeValue(attribute, value, path)
  if (normalized === undefined) delete target[attribute.name]
  else target[attribute.name] = normalized
}

/**
 * At most one element may be primary (RFC 7643 §2.4): the first one marked wins and the
 * others are set to false, rather than rejecting the request.
 */
export function fixPrimary(elements: unknown[], preferred?: number): unknown[] {
  let primaryIndex = preferred
  if (primaryIndex === undefined) {
    primaryIndex = elements.findIndex((e) => isJsonObject(e) && e.primary === true)
  }
  return elements.map((element, index) =>
    isJsonObject(element) && element.primary === true && index !== primaryIndex
      ? { ...element, primary: false }
      : element,
  )
}

/**
 * Member references of a Group body or PATCH value: an array (or one object) of objects
 * with a string `value`; `$ref`, `display` and `displayName` are tolerated and dropped.
 */
export function normalizeMembers(value: unknown, path = 'members'): MemberRef[] {
  // A single member object is read as a one-element list, like other multi-valued attributes.
  const items = Array.isArray(value) ? value : isJsonObject(value) ? [value] : undefined
  if (!items) throw ScimError.invalidValue(`Attribute '${path}' must be an array of members`)
  const members: MemberRef[] = []
  // Members are bounded by the body size only (an Okta PUT carries the whole list), so
  // duplicates are found by id, in linear time.
  const seen = new Set<string>()
  for (const item of items) {
    if (item === null) continue
    if (!isJsonObject(item)) {
      throw ScimError.invalidValue(`Each of '${path}' must be an object with a 'value'`)
    }
    const id = memberField(item, 'value')
    if (typeof id !== 'string' || id === '') {
      throw ScimError.invalidValue(`Each of '${path}' must have a string 'value'`)
    }
    const member: MemberRef = { value: id }
    const rawType = memberField(item, 'type')
    const type = typeof rawType === 'string' ? rawType.toLowerCase() : undefined
    if (type === 'user') member.type = 'User'
    else if (type === 'group') member.type = 'Group'
    if (seen.has(id)) continue
    seen.add(id)
    members.push(member)
  }
  return members
}

/**
 * A member's `value` or `type`, its key matched ignoring case (the last spelling wins, as
 * when keys are lower-cased); no copy of the member is made, for lists of 100,000.
 */
function memberField(item: JsonObject, name: 'value' | 'type'): unknown {
  let found: unknown
  for (const key in item) {
    if (key.length === name.length && (key === name || key.toLowerCase() === name)) {
      found = item[key]
    }
  }
  return found
}

const elementKeys = new WeakMap<object, string>()

/**
 * A text that two JSON values share exactly when `deepEqual` says they are equal (object keys
 * sorted), to find duplicates with a Set. Objects' keys are remembered: PATCH keeps the
 * element objects it does not change, so each is keyed once per request, not once per
 * operation.
 */
export function jsonKey(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined'
  const known = elementKeys.get(value)
  if (known !== undefined) return known
  let key: string
  if (Array.isArray(value)) {
    key = `[${value.map(jsonKey).join(',')}]`
  } else {
    const record = value as JsonObject
    const parts = Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${jsonKey(record[k])}`)
    key = `{${parts.join(',')}}`
  }
  elementKeys.set(value, key)
  return key
}

/** An object's keys lower-cased: SCIM names match ignoring case (RFC 7643 §2.1). */
export function lowerKeys(value: JsonObject): JsonObject {
  const result: JsonObject = {}
  for (const [key, item] of Object.entries(value)) result[key.toLowerCase()] = item
  return result
}

/** Structural equality of JSON values, ignoring key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]))
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
    )
  }
  return false
}
