/** SCIM PATCH (RFC 7644 §3.5.2) as a pure function over stored documents, with the client quirks scimd accepts. */
import type { Compare, Filter } from 'scim2-parse-filter'
import { parse } from 'scim2-parse-filter'
import { assertNever, ScimError } from './errors.js'
import type { MemberRef, ScimDocument } from './normalize.js'
import {
  assertRequired,
  computeSchemas,
  deepEqual,
  extensionForKey,
  findTopLevelExtensionAttribute,
  fixPrimary,
  isJsonObject,
  normalizeAttributeValue,
  normalizeElement,
  normalizeMembers,
  requiredAttribute,
} from './normalize.js'
import type { AttributeDefinition, ResourceSchema, SchemaDefinition } from './schemas.js'
import { CORE_GROUP_URN, coreAttributes, findAttribute, PATCH_OP_URN, splitUrn } from './schemas.js'

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace'
  path?: string
  value?: unknown
}

export interface PatchResult {
  document: ScimDocument
  /** A new password set by the patch; never stored in the document. */
  password?: string
  /** Whether the document or the password changed. */
  changed: boolean
}

/** A change to a Group's membership, which is stored apart from the document. */
export type MemberChange =
  | { kind: 'add'; members: MemberRef[] }
  | { kind: 'remove'; values: string[] }
  | { kind: 'removeAll' }
  | { kind: 'replace'; members: MemberRef[] }

/** Where a PATCH path points (RFC 7644 §3.5.2 `PATH` grammar). */
export type PatchTarget =
  | { kind: 'extension'; schema: SchemaDefinition }
  | {
      kind: 'attribute'
      schema: SchemaDefinition
      isExtension: boolean
      attribute: AttributeDefinition
      /** The value filter of `attr[filter]`, with attribute names made canonical. */
      filter?: Filter
      subAttribute?: AttributeDefinition
      /** The path as written canonically, for error messages. */
      path: string
    }

type AttributeTarget = Extract<PatchTarget, { kind: 'attribute' }>
type JsonObject = Record<string, unknown>

export const MAX_PATCH_OPERATIONS = 1000

/** Keys of a pathless value that are readOnly and silently skipped (Okta sends `id`). */
const PATHLESS_IGNORED = new Set(['id', 'meta', 'schemas', 'groups'])

/**
 * Validates a PatchOp request body (RFC 7644 §3.5.2). `Operations` and each operation's
 * keys are matched ignoring case; `op` too, since Entra sends "Replace"/"Add"/"Remove".
 */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('Request body must be a JSON object')
  const fields = lowerKeys(body)
  const schemas = fields.schemas
  if (schemas !== undefined) {
    const isPatchOp =
      Array.isArray(schemas) &&
      schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_URN.toLowerCase())
    if (!isPatchOp) throw ScimError.invalidSyntax(`'schemas' must contain '${PATCH_OP_URN}'`)
  }
  const operations = fields.operations
  if (!Array.isArray(operations) || operations.length === 0) {
    throw ScimError.invalidSyntax("'Operations' must be a non-empty array")
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw ScimError.tooMany(`At most ${MAX_PATCH_OPERATIONS} operations are allowed per request`)
  }
  return operations.map((operation, index) => parseOperation(operation, index))
}

function parseOperation(operation: unknown, index: number): PatchOperation {
  const where = `Operation ${index + 1}`
  if (!isJsonObject(operation)) throw ScimError.invalidSyntax(`${where} must be an object`)
  // Other keys (Microsoft's test collection sends `name`) are ignored.
  const fields = lowerKeys(operation)
  const op = typeof fields.op === 'string' ? fields.op.toLowerCase() : undefined
  if (op !== 'add' && op !== 'remove' && op !== 'replace') {
    throw ScimError.invalidSyntax(`${where}: 'op' must be one of add, remove, replace`)
  }
  const result: PatchOperation = { op }
  if (fields.path !== undefined && fields.path !== null) {
    if (typeof fields.path !== 'string') {
      throw ScimError.invalidSyntax(`${where}: 'path' must be a string`)
    }
    result.path = fields.path
  }
  if ('value' in fields) result.value = fields.value
  if (op === 'remove' && result.path === undefined && result.value === undefined) {
    // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails" with noTarget.
    throw ScimError.noTarget(`${where}: 'remove' needs a 'path'`)
  }
  if (op !== 'remove' && !('value' in fields)) {
    throw ScimError.invalidSyntax(`${where}: '${op}' needs a 'value'`)
  }
  return result
}

function lowerKeys(value: JsonObject): JsonObject {
  const result: JsonObject = {}
  for (const [key, item] of Object.entries(value)) result[key.toLowerCase()] = item
  return result
}

/**
 * Parses a PATCH path: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each
 * optionally prefixed by a schema URN, or a bare extension URN (the whole extension).
 */
export function parsePatchPath(resource: ResourceSchema, path: string): PatchTarget {
  const text = path.trim()
  let schema = resource.core
  let rest = text
  let isQualified = false
  if (text.toLowerCase().startsWith('urn:')) {
    const extension = extensionForKey(resource, text)
    if (extension) return { kind: 'extension', schema: extension }
    const split = splitUrn(resource, text)
    if (!split || split.rest === '') throw ScimError.invalidPath(`Unknown schema in path '${path}'`)
    schema = split.schema
    rest = split.rest
    isQualified = true
  }
  const { name, filterText, subName } = splitPath(rest, path)
  if (name.toLowerCase() === 'schemas' && schema === resource.core) {
    throw ScimError.mutability("Attribute 'schemas' is readOnly")
  }
  let isExtension = schema !== resource.core
  let attribute = findAttribute(isExtension ? schema.attributes : coreAttributes(resource), name)
  if (!attribute && !isQualified) {
    // Entra's old docs send enterprise attributes without their URN.
    const moved = findTopLevelExtensionAttribute(resource, name)
    if (moved) {
      schema = moved.schema
      attribute = moved.attribute
      isExtension = true
    }
  }
  if (!attribute) throw ScimError.invalidPath(`Unknown attribute '${name}' in path '${path}'`)
  const target: AttributeTarget = { kind: 'attribute', schema, isExtension, attribute, path: '' }
  let canonical = attribute.name
  if (filterText !== undefined) {
    if (!attribute.multiValued) {
      throw ScimError.invalidPath(`Attribute '${attribute.name}' is not multi-valued`)
    }
    target.filter = canonicalFilter(parseValueFilter(filterText), attribute)
    canonical += `[${filterText}]`
  }
  if (subName !== undefined) {
    const subAttribute = findAttribute(attribute.subAttributes ?? [], subName)
    if (!subAttribute) {
      throw ScimError.invalidPath(`Unknown sub-attribute '${subName}' in path '${path}'`)
    }
    target.subAttribute = subAttribute
    canonical += `.${subAttribute.name}`
  }
  target.path = isExtension ? `${schema.id}:${canonical}` : canonical
  return target
}

function splitPath(
  rest: string,
  path: string,
): { name: string; filterText?: string; subName?: string } {
  const open = rest.indexOf('[')
  if (open === -1) {
    const [name = '', subName, ...more] = rest.split('.')
    if (more.length > 0 || name === '' || subName === '') {
      throw ScimError.invalidPath(`Invalid path '${path}'`)
    }
    return subName === undefined ? { name } : { name, subName }
  }
  const close = closingBracket(rest, open)
  const name = rest.slice(0, open).trim()
  const after = rest.slice(close + 1)
  if (
    close === -1 ||
    name === '' ||
    name.includes('.') ||
    (after !== '' && !after.startsWith('.'))
  ) {
    throw ScimError.invalidPath(`Invalid path '${path}'`)
  }
  const filterText = rest.slice(open + 1, close)
  if (after === '') return { name, filterText }
  const subName = after.slice(1)
  if (!/^[A-Za-z$][\w$-]*$/.test(subName)) throw ScimError.invalidPath(`Invalid path '${path}'`)
  return { name, filterText, subName }
}

/** Index of the `]` closing the `[` at `open`, skipping quoted strings; -1 if there is none. */
function closingBracket(text: string, open: number): number {
  let inString = false
  for (let i = open + 1; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (char === '\\') i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === ']') return i
  }
  return -1
}

/**
 * Parses the filter inside `attr[…]`. Values left unquoted (`value eq 123abc`) or booleans
 * written "True" are accepted on a second try: Entra and SCIMMY's fixtures send them.
 */
export function parseValueFilter(text: string): Filter {
  try {
    return parse(text)
  } catch (error) {
    try {
      return parse(quoteBareValues(text))
    } catch {
      const reason = error instanceof Error ? error.message : String(error)
      throw ScimError.invalidFilter(`Invalid filter '${text}': ${reason}`)
    }
  }
}

const BARE_COMPARISON = /\b(eq|ne|co|sw|ew|gt|ge|lt|le)(\s+)([^\s()"[\]]+)/gi

function quoteBareValues(text: string): string {
  return text
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((segment, index) =>
      index % 2 === 1
        ? segment
        : segment.replace(
            BARE_COMPARISON,
            (_match, op: string, space: string, word: string) => `${op}${space}${bareValue(word)}`,
          ),
    )
    .join('')
}

function bareValue(word: string): string {
  if (/^(true|false|null)$/i.test(word)) return word.toLowerCase()
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)) return word
  return JSON.stringify(word)
}

/** The definitions a value filter on `attribute` can name: its sub-attributes, or `value`. */
function elementAttributes(attribute: AttributeDefinition): readonly AttributeDefinition[] {
  if (attribute.type === 'complex') return attribute.subAttributes ?? []
  return [{ ...attribute, name: 'value', multiValued: false }]
}

/** Rewrites a value filter's attribute names to canonical sub-attribute names; unknown ones are invalidFilter. */
function canonicalFilter(filter: Filter, attribute: AttributeDefinition): Filter {
  const attributes = elementAttributes(attribute)
  const rename = (attrPath: string): string => {
    const prefix = `${attribute.name.toLowerCase()}.`
    const name = attrPath.toLowerCase().startsWith(prefix)
      ? attrPath.slice(prefix.length)
      : attrPath
    const found = findAttribute(attributes, name)
    if (!found) {
      throw ScimError.invalidFilter(
        `Unknown attribute '${attrPath}' in filter on '${attribute.name}'`,
      )
    }
    return found.name
  }
  const walk = (node: Filter): Filter => {
    switch (node.op) {
      case 'and':
      case 'or':
        return { op: node.op, filters: node.filters.map(walk) }
      case 'not':
        return { op: 'not', filter: walk(node.filter) }
      case '[]':
        throw ScimError.invalidFilter(`Nested value filters are not allowed in '${attribute.name}'`)
      case 'pr':
        return { op: 'pr', attrPath: rename(node.attrPath) }
      case 'eq':
      case 'ne':
      case 'co':
      case 'sw':
      case 'ew':
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return { op: node.op, attrPath: rename(node.attrPath), compValue: node.compValue }
      default:
        return assertNever(node)
    }
  }
  return walk(filter)
}

/**
 * Evaluates a value filter against one element of a multi-valued attribute in memory, with
 * SCIM semantics (RFC 7644 §3.4.2.2): names ignore case, strings compare ignoring case
 * unless the sub-attribute is caseExact, "True"/"False" strings compare as booleans.
 * `attributes` are the element's sub-attribute definitions; a non-object element is `value`.
 */
export function matchesFilter(
  filter: Filter,
  element: unknown,
  attributes: readonly AttributeDefinition[],
): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matchesFilter(f, element, attributes))
    case 'or':
      return filter.filters.some((f) => matchesFilter(f, element, attributes))
    case 'not':
      return !matchesFilter(filter.filter, element, attributes)
    case '[]':
      return false
    case 'pr':
      return isPresent(lookup(element, filter.attrPath))
    case 'eq':
    case 'ne':
    case 'co':
    case 'sw':
    case 'ew':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const attribute = findAttribute(attributes, filter.attrPath)
      if (!attribute) return false
      return compare(filter.op, lookup(element, filter.attrPath), filter.compValue, attribute)
    }
    default:
      return assertNever(filter)
  }
}

function lookup(element: unknown, name: string): unknown {
  if (!isJsonObject(element)) return name.toLowerCase() === 'value' ? element : undefined
  const lower = name.toLowerCase()
  const key = Object.keys(element).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : element[key]
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false
  if (Array.isArray(value)) return value.length > 0
  if (isJsonObject(value)) return Object.values(value).some(isPresent)
  return true
}

function compare(
  op: Compare['op'],
  actual: unknown,
  expected: Compare['compValue'],
  attribute: AttributeDefinition,
): boolean {
  if (Array.isArray(actual)) return actual.some((a) => compare(op, a, expected, attribute))
  if (expected === null) return op === 'eq' ? actual == null : op === 'ne' && actual != null
  if (actual === undefined || actual === null) return op === 'ne'
  switch (attribute.type) {
    case 'boolean': {
      const a = asBoolean(actual)
      const e = asBoolean(expected)
      if (op === 'eq') return a !== undefined && a === e
      if (op === 'ne') return a !== e
      return false
    }
    case 'integer':
    case 'decimal':
      return compareOrdered(op, Number(actual), Number(expected))
    case 'dateTime': {
      const a = Date.parse(String(actual))
      const e = Date.parse(String(expected))
      if (!['co', 'sw', 'ew'].includes(op) && !Number.isNaN(a) && !Number.isNaN(e)) {
        return compareOrdered(op, a, e)
      }
      return compareStrings(op, String(actual), String(expected), attribute.caseExact)
    }
    case 'complex':
      return false
    case 'string':
    case 'reference':
    case 'binary':
      return compareStrings(op, String(actual), String(expected), attribute.caseExact)
    default:
      return assertNever(attribute.type)
  }
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
}

function compareOrdered(op: Compare['op'], a: number, e: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return op === 'ne'
  switch (op) {
    case 'eq':
      return a === e
    case 'ne':
      return a !== e
    case 'gt':
      return a > e
    case 'ge':
      return a >= e
    case 'lt':
      return a < e
    case 'le':
      return a <= e
    default:
      return false
  }
}

function compareStrings(op: Compare['op'], a: string, e: string, caseExact: boolean): boolean {
  const actual = caseExact ? a : a.toLowerCase()
  const expected = caseExact ? e : e.toLowerCase()
  switch (op) {
    case 'eq':
      return actual === expected
    case 'ne':
      return actual !== expected
    case 'co':
      return actual.includes(expected)
    case 'sw':
      return actual.startsWith(expected)
    case 'ew':
      return actual.endsWith(expected)
    case 'gt':
      return actual > expected
    case 'ge':
      return actual >= expected
    case 'lt':
      return actual < expected
    case 'le':
      return actual <= expected
    default:
      return assertNever(op)
  }
}

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

/**
 * Takes Group membership changes out of a PatchOp (membership lives in SQL, not in the
 * document), in order, recognising every client form: `members` add/replace with a value
 * list, `remove` by `members[value eq "…"]` (Okta, Entra with aadOptscim062020) or by a value
 * list (Entra's default, not RFC), `remove` of all members, and pathless add/replace whose
 * value carries `members` (Okta). The other operations are returned for `applyPatch`.
 */
export function splitMemberOperations(operations: readonly PatchOperation[]): {
  memberChanges: MemberChange[]
  operations: PatchOperation[]
} {
  const memberChanges: MemberChange[] = []
  const rest: PatchOperation[] = []
  for (const operation of operations) {
    if (operation.path === undefined) {
      const value = operation.value
      const entries = isJsonObject(value) ? Object.entries(value) : []
      const members = entries.filter(([key]) => isMembersKey(key))
      if (members.length === 0) {
        rest.push(operation)
        continue
      }
      for (const [, item] of members) {
        const change = memberChange(operation.op, item)
        if (change) memberChanges.push(change)
      }
      const others = entries.filter(([key]) => !isMembersKey(key))
      if (others.length > 0) rest.push({ op: operation.op, value: Object.fromEntries(others) })
      continue
    }
    const path = parseMembersPath(operation.path)
    if (!path) {
      rest.push(operation)
    } else if (
      path.subAttribute !== undefined &&
      !(operation.op === 'remove' && path.values && path.subAttribute === 'value')
    ) {
      // RFC 7644 §3.12: value, $ref and type are immutable, display readOnly (RFC 7643 §4.2):
      // a member is added or removed as a whole, never edited in place.
      throw ScimError.mutability(
        `'${operation.path}': members.${path.subAttribute} cannot be changed; add or remove the member`,
      )
    } else if (path.values) {
      if (operation.op !== 'remove') {
        throw ScimError.invalidPath(`Only 'remove' may use a filter on members`)
      }
      memberChanges.push({ kind: 'remove', values: path.values })
    } else {
      const change = memberChange(operation.op, operation.value)
      if (change) memberChanges.push(change)
    }
  }
  return { memberChanges, operations: rest }
}

const MEMBERS_KEYS = new Set(['members', `${CORE_GROUP_URN.toLowerCase()}:members`])

function isMembersKey(key: string): boolean {
  return MEMBERS_KEYS.has(key.toLowerCase())
}

function memberChange(op: PatchOperation['op'], value: unknown): MemberChange | undefined {
  const isAbsent = value === undefined || value === null
  switch (op) {
    case 'add':
      return isAbsent ? undefined : { kind: 'add', members: normalizeMembers(value) }
    case 'remove':
      // Entra (default) removes members with a value list, which RFC 7644 does not define.
      return isAbsent
        ? { kind: 'removeAll' }
        : { kind: 'remove', values: normalizeMembers(value).map((m) => m.value) }
    case 'replace':
      return { kind: 'replace', members: isAbsent ? [] : normalizeMembers(value) }
    default:
      return assertNever(op)
  }
}

/**
 * Recognises `members`, `members[value eq "…"]` (also an `or` of several) and
 * `members[value eq "…"].value`, optionally URN-qualified. Undefined when the path is not
 * about members at all.
 */
function parseMembersPath(path: string): { values?: string[]; subAttribute?: string } | undefined {
  let text = path.trim()
  const urnPrefix = `${CORE_GROUP_URN.toLowerCase()}:`
  if (text.toLowerCase().startsWith(urnPrefix)) text = text.slice(urnPrefix.length)
  const lower = text.toLowerCase()
  if (lower === 'members') return {}
  if (lower.startsWith('members.')) {
    return { subAttribute: memberSubAttribute(path, lower.slice('members.'.length)) }
  }
  if (!lower.startsWith('members[')) return undefined
  const open = 'members'.length
  const close = closingBracket(text, open)
  const after = text.slice(close + 1).toLowerCase()
  if (close === -1 || (after !== '' && !after.startsWith('.'))) {
    throw ScimError.invalidPath(`Invalid members path '${path}'`)
  }
  const values = memberFilterValues(parseValueFilter(text.slice(open + 1, close)))
  if (!values) {
    throw ScimError.invalidPath(
      `'${path}': members can only be selected with 'value eq "<id>"' (or several joined by 'or')`,
    )
  }
  return after === ''
    ? { values }
    : { values, subAttribute: memberSubAttribute(path, after.slice(1)) }
}

const MEMBER_SUB_ATTRIBUTES = new Set(['value', '$ref', 'type', 'display'])

/** A sub-attribute of members named in a path; an unknown one is invalidPath. */
function memberSubAttribute(path: string, name: string): string {
  if (!MEMBER_SUB_ATTRIBUTES.has(name)) {
    throw ScimError.invalidPath(`Unknown sub-attribute '${name}' of members in '${path}'`)
  }
  return name
}

function memberFilterValues(filter: Filter): string[] | undefined {
  if (filter.op === 'or') {
    const values: string[] = []
    for (const f of filter.filters) {
      const found = memberFilterValues(f)
      if (!found) return undefined
      values.push(...found)
    }
    return values
  }
  if (filter.op !== 'eq') return undefined
  const name = filter.attrPath.toLowerCase()
  if (name !== 'value' && name !== 'members.value') return undefined
  const value = filter.compValue
  if (typeof value === 'string' || typeof value === 'number') return [String(value)]
  return undefined
}
