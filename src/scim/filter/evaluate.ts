/** The filter evaluated in memory against one element of a multi-valued attribute (PATCH value filters). */
import type { Compare, Filter } from 'scim2-parse-filter'
import { assertNever } from '../errors.js'
import { isJsonObject } from '../normalize.js'
import { type AttributeDefinition, findAttribute } from '../schema/resource-types.js'

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

export function lookup(element: unknown, name: string): unknown {
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

export function compare(
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
