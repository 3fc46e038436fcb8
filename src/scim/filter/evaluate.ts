/**
 * Filters evaluated in memory over SCIM documents, with the semantics the SQL compiler
 * (store/query/compile.ts) gives them (semantics.ts decides each comparison for both):
 * whole resources (matchesResource) and single elements of a multi-valued attribute, which
 * is what PATCH value filters select (matchesElement).
 */
import { assertNever, ScimError } from '../errors.js'
import { isJsonObject } from '../normalize.js'
import { type AttributeDefinition, findAttribute } from '../schema/resource-types.js'
import { type Comparison, type Filter, isComparison } from './ast.js'
import { type FilterScope, resolveFilterPath } from './resolve.js'
import { type ComparisonPlan, compareText, foldCase, planComparison } from './semantics.js'

/** Whether a resource document (as served) matches a filter; errors as the SQL compiler's. */
export function matchesResource(
  filter: Filter,
  document: Record<string, unknown>,
  scope: FilterScope,
): boolean {
  if (isComparison(filter)) return attributeComparison(filter, document, scope)
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matchesResource(f, document, scope))
    case 'or':
      return filter.filters.some((f) => matchesResource(f, document, scope))
    case 'not':
      return !matchesResource(filter.filter, document, scope)
    case '[]':
      return valuePath(filter.attrPath, filter.valFilter, document, scope)
    default:
      return assertNever(filter)
  }
}

/**
 * Whether one element of `attribute` matches a value filter whose names are its
 * sub-attributes (`emails[type eq "work"]`); for a multi-valued attribute of simple values,
 * `value` names the element itself.
 */
export function matchesElement(
  filter: Filter,
  element: unknown,
  attribute: AttributeDefinition,
): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matchesElement(f, element, attribute))
    case 'or':
      return filter.filters.some((f) => matchesElement(f, element, attribute))
    case 'not':
      return !matchesElement(filter.filter, element, attribute)
    case '[]':
      throw ScimError.invalidFilter('A [filter] cannot be nested in another')
    default: {
      const definition = elementAttribute(attribute, filter.attrPath)
      return holds(planComparison(definition, filter), elementValue(element, definition, attribute))
    }
  }
}

/** Whether `actual` equals `expected` as `eq` compares them (caseExact, booleans, dateTimes). */
export function equalsValue(
  actual: unknown,
  expected: string | number | boolean,
  definition: AttributeDefinition,
): boolean {
  const node = { op: 'eq' as const, attrPath: definition.name, compValue: expected }
  return holds(planComparison(definition, node), actual)
}

/** Carries out a decided comparison on one JSON value (undefined when absent). */
function holds(plan: ComparisonPlan, actual: unknown): boolean {
  let result: boolean
  switch (plan.kind) {
    case 'constant':
      return plan.value
    case 'present':
      result = actual !== undefined && actual !== null && actual !== ''
      break
    case 'boolean':
      result = plan.wanted !== undefined && actual === plan.wanted
      break
    case 'text': {
      const text = typeof actual === 'string' ? actual : undefined
      result = compareText(
        text !== undefined && plan.fold ? foldCase(text) : text,
        plan.op,
        plan.wanted,
      )
      break
    }
    default:
      return assertNever(plan)
  }
  return plan.negate ? !result : result
}

/** A sub-attribute a value filter names; unknown ones are 400, as in SQL. */
function elementAttribute(attribute: AttributeDefinition, name: string): AttributeDefinition {
  if (attribute.type !== 'complex') {
    if (name.toLowerCase() === 'value') return { ...attribute, name: 'value', multiValued: false }
  } else {
    const found = findAttribute(attribute.subAttributes ?? [], name)
    if (found) return found
  }
  throw ScimError.invalidFilter(`Unknown attribute '${name}' in a filter on '${attribute.name}'`)
}

/** A sub-attribute's value in an element; a simple element is its own `value`. */
function elementValue(
  element: unknown,
  definition: AttributeDefinition,
  attribute: AttributeDefinition,
): unknown {
  if (attribute.type !== 'complex') return element
  return isJsonObject(element) ? attributeOf(element, definition.name) : undefined
}

/** An attribute of a JSON object by name, ignoring case (RFC 7643 §2.1). */
export function attributeOf(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name]
  const lower = name.toLowerCase()
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : object[key]
}

function attributeValue(
  document: Record<string, unknown>,
  resolved: { attribute: AttributeDefinition; isExtension: boolean; schema: { id: string } },
): unknown {
  if (!resolved.isExtension) return attributeOf(document, resolved.attribute.name)
  const extension = attributeOf(document, resolved.schema.id)
  return isJsonObject(extension) ? attributeOf(extension, resolved.attribute.name) : undefined
}

function elementsOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** A complex attribute compared as a whole means its `value` sub-attribute. */
function valueSubAttribute(attribute: AttributeDefinition, path: string): AttributeDefinition {
  const value = findAttribute(attribute.subAttributes ?? [], 'value')
  if (!value) {
    throw ScimError.invalidFilter(`'${path}' is complex: name one of its sub-attributes`)
  }
  return value
}

function attributeComparison(
  node: Comparison,
  document: Record<string, unknown>,
  scope: FilterScope,
): boolean {
  const resolution = resolveFilterPath(node.attrPath, scope)
  if (resolution.kind === 'absent') {
    // An attribute only another searched type has: no value here.
    if (node.op === 'pr') return false
    return node.compValue === null ? node.op === 'eq' : node.op === 'ne'
  }
  const { attribute, subAttribute } = resolution.resolved
  const value = attributeValue(document, resolution.resolved)
  if (attribute.type !== 'complex') return holds(planComparison(attribute, node), value)
  if (!attribute.multiValued) {
    if (subAttribute) {
      const sub = isJsonObject(value) ? attributeOf(value, subAttribute.name) : undefined
      return holds(planComparison(subAttribute, node), sub)
    }
    if (node.op === 'pr') return isJsonObject(value)
    const definition = valueSubAttribute(attribute, node.attrPath)
    const sub = isJsonObject(value) ? attributeOf(value, definition.name) : undefined
    return holds(planComparison(definition, node), sub)
  }
  const elements = elementsOf(value)
  if (!subAttribute && node.op === 'pr') return elements.length > 0
  const definition = subAttribute ?? valueSubAttribute(attribute, node.attrPath)
  // `ne` and `eq null` are complements over the whole attribute, not per element.
  if (node.op === 'ne' || (node.op === 'eq' && node.compValue === null)) {
    const positive: Comparison =
      node.op === 'ne'
        ? { op: 'eq', attrPath: node.attrPath, compValue: node.compValue }
        : { op: 'pr', attrPath: node.attrPath }
    return !attributeComparison(positive, document, scope)
  }
  const plan = planComparison(definition, node)
  return elements.some((e) => holds(plan, elementValue(e, definition, attribute)))
}

function valuePath(
  path: string,
  filter: Filter,
  document: Record<string, unknown>,
  scope: FilterScope,
): boolean {
  const resolution = resolveFilterPath(path, scope)
  if (resolution.kind === 'absent') return false
  const { attribute, subAttribute } = resolution.resolved
  if (subAttribute || attribute.type !== 'complex') {
    throw ScimError.invalidFilter(`'${path}' is not a complex attribute and cannot take a [filter]`)
  }
  const value = attributeValue(document, resolution.resolved)
  if (!attribute.multiValued) return isJsonObject(value) && matchesElement(filter, value, attribute)
  return elementsOf(value).some((e) => matchesElement(filter, e, attribute))
}
