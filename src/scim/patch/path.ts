/** PATCH paths (RFC 7644 §3.5.2 `PATH` grammar) and the value filters inside them. */
import { assertNever, ScimError } from '../errors.js'
import { type Filter, isComparison } from '../filter/ast.js'
import { parseFilter } from '../filter/parse.js'
import { extensionForKey, findTopLevelExtensionAttribute } from '../normalize.js'
import {
  type AttributeDefinition,
  coreAttributes,
  findAttribute,
  type ResourceSchema,
  type SchemaDefinition,
  splitUrn,
} from '../schema/resource-types.js'

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

export type AttributeTarget = Extract<PatchTarget, { kind: 'attribute' }>

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
    target.filter = canonicalFilter(parseFilter(filterText), attribute)
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
export function closingBracket(text: string, open: number): number {
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

/** The definitions a value filter on `attribute` can name: its sub-attributes, or `value`. */
export function elementAttributes(attribute: AttributeDefinition): readonly AttributeDefinition[] {
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
    if (isComparison(node)) return { ...node, attrPath: rename(node.attrPath) }
    switch (node.op) {
      case 'and':
      case 'or':
        return { op: node.op, filters: node.filters.map(walk) }
      case 'not':
        return { op: 'not', filter: walk(node.filter) }
      case '[]':
        throw ScimError.invalidFilter(`Nested value filters are not allowed in '${attribute.name}'`)
      default:
        return assertNever(node)
    }
  }
  return walk(filter)
}
