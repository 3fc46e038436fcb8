/** SCIM PATCH (RFC 7644 §3.5.2) applied as a pure function over stored documents, with the client quirks scimd accepts. */
import type { Compare, Filter } from 'scim2-parse-filter'
import { ScimError } from '../errors.js'
import { compare, lookup, matchesFilter } from '../filter/evaluate.js'
import type { ScimDocument } from '../normalize.js'
import {
  assertRequired,
  computeSchemas,
  deepEqual,
  fixPrimary,
  isJsonObject,
  normalizeAttributeValue,
  normalizeElement,
  requiredAttribute,
} from '../normalize.js'
import {
  type AttributeDefinition,
  findAttribute,
  type ResourceSchema,
} from '../schema/resource-types.js'
import {
  type AttributeTarget,
  elementAttributes,
  type PatchTarget,
  parsePatchPath,
} from './path.js'
import type { PatchOperation } from './request.js'

type JsonObject = Record<string, unknown>

export interface PatchResult {
  document: ScimDocument
  /** A new password set by the patch; never stored in the document. */
  password?: string
  /** Whether the document or the password changed. */
  changed: boolean
}

/** Keys of a pathless value that are readOnly and silently skipped (Okta sends `id`). */
const PATHLESS_IGNORED = new Set(['id', 'meta', 'schemas', 'groups'])

/**
 * Applies PATCH operations in order (RFC 7644 §3.5.2.1-3) to a copy of `document`; the
 * input is never mutated and the first bad operation throws, so nothing is half-applied.
 * Group `members` must have been taken out with `splitMemberOperations` first.
 */
export function applyPatch(
  resource: ResourceSchema,
  document: ScimDocument,
  operations: readonly PatchOperation[],
): PatchResult {
  const state: PatchState = { document: structuredClone(document) }
  const required = requiredAttribute(resource)
  operations.forEach((operation, index) => {
    try {
      const hadRequired = state.document[required] !== undefined
      applyOperation(resource, state, operation)
      // RFC 7644 §3.5.2.2: a required attribute removed (or replaced by null) is a
      // mutability error. An empty string is still there, and invalid (assertRequired).
      if (hadRequired && state.document[required] === undefined) {
        throw ScimError.mutability(`Attribute '${required}' is required and cannot be removed`)
      }
    } catch (error) {
      if (!(error instanceof ScimError)) throw error
      throw new ScimError(error.status, `Operation ${index + 1}: ${error.detail}`, error.scimType)
    }
  })
  const result = state.document
  for (const extension of resource.extensions) {
    const value = result[extension.id]
    if (value !== undefined && (!isJsonObject(value) || Object.keys(value).length === 0)) {
      delete result[extension.id]
    }
  }
  result.schemas = computeSchemas(resource, result)
  assertRequired(resource, result)
  const patched: PatchResult = {
    document: result,
    changed: state.password !== undefined || !deepEqual(document, result),
  }
  if (state.password !== undefined) patched.password = state.password
  return patched
}

interface PatchState {
  document: ScimDocument
  password?: string
}

function applyOperation(resource: ResourceSchema, state: PatchState, operation: PatchOperation) {
  if (operation.path === undefined) {
    applyPathless(resource, state, operation)
    return
  }
  const target = parsePatchPath(resource, operation.path)
  if (target.kind === 'attribute') {
    assertNotMembers(resource, target)
    if (isReadOnly(target)) throw ScimError.mutability(`Attribute '${target.path}' is readOnly`)
  }
  applyToTarget(state, target, operation.op, operation.value)
}

/**
 * A pathless operation's value is an object whose keys are paths (RFC 7644 §3.5.2.1);
 * Entra (aadOptscim062020) sends dotted and URN-qualified keys. readOnly keys are skipped
 * (Okta's group rename sends `id`), and unknown keys dropped as in POST/PUT bodies.
 */
function applyPathless(resource: ResourceSchema, state: PatchState, operation: PatchOperation) {
  if (!isJsonObject(operation.value)) {
    throw ScimError.invalidValue(`An '${operation.op}' without a path needs an object value`)
  }
  for (const [key, value] of Object.entries(operation.value)) {
    if (PATHLESS_IGNORED.has(key.toLowerCase())) continue
    let target: PatchTarget
    try {
      target = parsePatchPath(resource, key)
    } catch (error) {
      if (error instanceof ScimError && error.scimType === 'invalidPath') continue
      throw error
    }
    if (target.kind === 'attribute') {
      assertNotMembers(resource, target)
      if (isReadOnly(target)) continue
    }
    applyToTarget(state, target, operation.op, value)
  }
}

function assertNotMembers(resource: ResourceSchema, target: AttributeTarget): void {
  if (resource.name === 'Group' && !target.isExtension && target.attribute.name === 'members') {
    // A programming error, not a client one: the service splits membership changes first.
    throw new Error('Group members must be taken out with splitMemberOperations before applyPatch')
  }
}

function isReadOnly(target: AttributeTarget): boolean {
  return (
    target.attribute.mutability === 'readOnly' || target.subAttribute?.mutability === 'readOnly'
  )
}

function applyToTarget(
  state: PatchState,
  target: PatchTarget,
  op: PatchOperation['op'],
  value: unknown,
): void {
  const document = state.document
  if (target.kind === 'extension') {
    const key = target.schema.id
    if (value === null && op === 'add') return
    if (op === 'remove' || value === null) {
      delete document[key]
      return
    }
    if (!isJsonObject(value)) throw ScimError.invalidValue(`Value for '${key}' must be an object`)
    for (const [name, item] of Object.entries(value)) {
      const attribute = findAttribute(target.schema.attributes, name)
      if (!attribute || attribute.mutability === 'readOnly') continue
      const path = `${key}:${attribute.name}`
      applyToTarget(
        state,
        { ...target, kind: 'attribute', isExtension: true, attribute, path },
        op,
        item,
      )
    }
    return
  }
  if (target.attribute.mutability === 'writeOnly') {
    // The password is handed back to the service, never stored in the document.
    if (op !== 'remove') {
      const password = normalizeAttributeValue(target.attribute, value, target.path)
      if (typeof password === 'string') state.password = password
    }
    return
  }
  const container = containerOf(document, target, op !== 'remove')
  if (!container) return
  if (target.filter) applyFiltered(container, target, target.filter, op, value)
  else if (target.attribute.multiValued) applyMultiValued(container, target, op, value)
  else applySingleValued(container, target, op, value)
}

/** The object holding the target attribute: the document, or its extension object. */
function containerOf(
  document: ScimDocument,
  target: AttributeTarget,
  create: boolean,
): JsonObject | undefined {
  if (!target.isExtension) return document
  const existing = document[target.schema.id]
  if (isJsonObject(existing)) return existing
  if (!create) return undefined
  const created: JsonObject = {}
  document[target.schema.id] = created
  return created
}

function applySingleValued(
  container: JsonObject,
  target: AttributeTarget,
  op: PatchOperation['op'],
  value: unknown,
): void {
  const { attribute, subAttribute } = target
  if (subAttribute) {
    const current = container[attribute.name]
    const parent: JsonObject = isJsonObject(current) ? { ...current } : {}
    const normalized =
      op === 'remove' ? undefined : normalizeAttributeValue(subAttribute, value, target.path)
    if (normalized === undefined && op === 'add') return
    if (normalized === undefined) delete parent[subAttribute.name]
    else parent[subAttribute.name] = normalized
    setOrDelete(container, attribute.name, Object.keys(parent).length > 0 ? parent : undefined)
    return
  }
  if (op === 'remove') {
    delete container[attribute.name]
    return
  }
  const normalized = normalizeAttributeValue(attribute, value, target.path)
  if (normalized === undefined) {
    // A null value: replace removes the attribute (RFC 7644 §3.5.2.3), add does nothing.
    if (op === 'replace') delete container[attribute.name]
    return
  }
  const existing = container[attribute.name]
  // Replacing a complex attribute replaces only the sub-attributes given (RFC 7644 §3.5.2.3).
  container[attribute.name] =
    isJsonObject(normalized) && isJsonObject(existing) ? { ...existing, ...normalized } : normalized
}

function applyMultiValued(
  container: JsonObject,
  target: AttributeTarget,
  op: PatchOperation['op'],
  value: unknown,
): void {
  const { attribute, subAttribute } = target
  const elements = currentElements(container, attribute)
  if (subAttribute) {
    // `emails.value` without a filter addresses that sub-attribute of every element.
    const normalized =
      op === 'remove' ? undefined : normalizeAttributeValue(subAttribute, value, target.path)
    if (normalized === undefined && op === 'add') return
    if (normalized !== undefined && elements.length === 0) {
      elements.push({ [subAttribute.name]: normalized })
    }
    const updated = elements.map((element) =>
      withSubAttribute(element, subAttribute.name, normalized),
    )
    setElements(container, attribute, updated)
    return
  }
  if (op === 'remove') {
    if (value === undefined || value === null) {
      delete container[attribute.name]
      return
    }
    // Remove with a value removes the elements matching each given object (Entra removes
    // group members this way; SCIMMY does it for any multi-valued attribute).
    const given = normalizeAttributeValue(attribute, value, target.path)
    const patterns = Array.isArray(given) ? given : []
    const remaining = elements.filter(
      (element) => !patterns.some((pattern) => matchesPattern(element, pattern, attribute)),
    )
    setElements(container, attribute, remaining)
    return
  }
  const normalized = normalizeAttributeValue(attribute, value, target.path)
  const added = Array.isArray(normalized) ? normalized : []
  if (op === 'replace') {
    setElements(container, attribute, added)
    return
  }
  let preferred: number | undefined
  for (const element of added) {
    let index = elements.findIndex((existing) => deepEqual(existing, element))
    if (index === -1) index = elements.push(element) - 1
    if (preferred === undefined && isJsonObject(element) && element.primary === true) {
      preferred = index
    }
  }
  setElements(container, attribute, elements, preferred)
}

function applyFiltered(
  container: JsonObject,
  target: AttributeTarget,
  filter: Filter,
  op: PatchOperation['op'],
  value: unknown,
): void {
  const { attribute, subAttribute } = target
  const attributes = elementAttributes(attribute)
  const elements = currentElements(container, attribute)
  const matches = elements.map((element) => matchesFilter(filter, element, attributes))
  const hasMatch = matches.includes(true)
  if (op === 'remove') {
    const remaining = subAttribute
      ? elements.map((e, i) => (matches[i] ? withSubAttribute(e, subAttribute.name, undefined) : e))
      : elements.filter((_, i) => !matches[i])
    setElements(container, attribute, remaining)
    return
  }
  const normalized = subAttribute
    ? normalizeAttributeValue(subAttribute, value, target.path)
    : normalizeElement(attribute, unwrapSingle(value, target.path), target.path)
  if (!hasMatch) {
    if (op === 'replace') {
      throw ScimError.noTarget(`No value of '${attribute.name}' matches '${target.path}'`)
    }
    if (normalized === undefined) return
    // Create-on-absent: Entra adds `emails[type eq "work"].value` when there is no work
    // email yet and expects the element to be created (wire-server #5419).
    const created = subAttribute
      ? { ...filterValues(filter, attributes), [subAttribute.name]: normalized }
      : isJsonObject(normalized)
        ? { ...filterValues(filter, attributes), ...normalized }
        : normalized
    const element = normalizeElement(attribute, created, target.path) ?? created
    elements.push(element)
    const preferred =
      isJsonObject(element) && element.primary === true ? elements.length - 1 : undefined
    setElements(container, attribute, elements, preferred)
    return
  }
  if (normalized === undefined) {
    if (op === 'add') return
    // Replace with null removes what the path selects.
    const remaining = subAttribute
      ? elements.map((e, i) => (matches[i] ? withSubAttribute(e, subAttribute.name, undefined) : e))
      : elements.filter((_, i) => !matches[i])
    setElements(container, attribute, remaining)
    return
  }
  const updated = elements.map((element, i) => {
    if (!matches[i]) return element
    if (subAttribute) return withSubAttribute(element, subAttribute.name, normalized)
    return isJsonObject(element) && isJsonObject(normalized)
      ? { ...element, ...normalized }
      : normalized
  })
  const setsPrimary = subAttribute
    ? subAttribute.name === 'primary' && normalized === true
    : isJsonObject(normalized) && normalized.primary === true
  setElements(container, attribute, updated, setsPrimary ? matches.indexOf(true) : undefined)
}

function currentElements(container: JsonObject, attribute: AttributeDefinition): unknown[] {
  const existing = container[attribute.name]
  if (Array.isArray(existing)) return [...existing]
  return existing === undefined || existing === null ? [] : [existing]
}

/**
 * Stores a multi-valued attribute after dropping empty and duplicate elements and keeping at
 * most one primary (the `preferred` index, else the first); an empty list removes it.
 */
function setElements(
  container: JsonObject,
  attribute: AttributeDefinition,
  elements: unknown[],
  preferred?: number,
): void {
  const primaryElement = preferred === undefined ? undefined : elements[preferred]
  const kept: unknown[] = []
  for (const element of elements) {
    if (element === undefined || (isJsonObject(element) && Object.keys(element).length === 0))
      continue
    if (!kept.some((other) => deepEqual(other, element))) kept.push(element)
  }
  const index =
    primaryElement === undefined ? undefined : kept.findIndex((e) => deepEqual(e, primaryElement))
  const fixed =
    attribute.type === 'complex' ? fixPrimary(kept, index === -1 ? undefined : index) : kept
  setOrDelete(container, attribute.name, fixed.length > 0 ? fixed : undefined)
}

function withSubAttribute(element: unknown, name: string, value: unknown): unknown {
  if (!isJsonObject(element)) return element
  const updated = { ...element }
  if (value === undefined) delete updated[name]
  else updated[name] = value
  return updated
}

function setOrDelete(container: JsonObject, key: string, value: unknown): void {
  if (value === undefined) delete container[key]
  else container[key] = value
}

/** A filter-path value for a whole element may come as a one-element array (Entra). */
function unwrapSingle(value: unknown, path: string): unknown {
  if (!Array.isArray(value)) return value
  if (value.length > 1) throw ScimError.invalidValue(`'${path}' selects one value but got an array`)
  return value[0]
}

/** Whether an element has every sub-attribute of `pattern` with an equal value. */
function matchesPattern(
  element: unknown,
  pattern: unknown,
  attribute: AttributeDefinition,
): boolean {
  if (!isJsonObject(pattern)) return deepEqual(element, pattern)
  const attributes = elementAttributes(attribute)
  return Object.entries(pattern).every(([name, expected]) => {
    const definition = findAttribute(attributes, name)
    if (!definition) return false
    if (typeof expected === 'object') return deepEqual(lookup(element, name), expected)
    return compare('eq', lookup(element, name), expected as Compare['compValue'], definition)
  })
}

/** The `attr eq value` comparisons of a filter's top-level `and`, as element values. */
function filterValues(filter: Filter, attributes: readonly AttributeDefinition[]): JsonObject {
  const values: JsonObject = {}
  const collect = (node: Filter): void => {
    if (node.op === 'and') node.filters.forEach(collect)
    else if (node.op === 'eq' && node.compValue !== null) {
      const attribute = findAttribute(attributes, node.attrPath)
      if (!attribute) return
      const value =
        typeof node.compValue !== 'string' && ['string', 'reference'].includes(attribute.type)
          ? String(node.compValue)
          : node.compValue
      try {
        const normalized = normalizeElement(attribute, value, attribute.name)
        if (normalized !== undefined) values[attribute.name] = normalized
      } catch {
        // A comparison value that is not a valid attribute value cannot seed the new element.
      }
    }
  }
  collect(filter)
  return values
}
