/** The `attributes` / `excludedAttributes` projection of response resources (RFC 7644 §3.4.2.5, §3.9). */
import { extensionForKey, findTopLevelExtensionAttribute, isJsonObject } from './normalize.js'
import type { AttributeDefinition, ResourceSchema } from './schema/resource-types.js'
import {
  coreAttributes,
  findAttribute,
  findExtension,
  resolveAttributePath,
  splitUrn,
} from './schema/resource-types.js'

export interface ProjectionOptions {
  /** Canonical attribute references to return (besides `returned: always` ones); wins over exclusion. */
  attributes?: string[]
  /** Canonical attribute references to leave out. */
  excludedAttributes?: string[]
}

type Mode =
  | { kind: 'default' }
  | { kind: 'include'; refs: Set<string> }
  | { kind: 'exclude'; refs: Set<string> }

/**
 * How much of an attribute survives: all of it, some sub-attributes, only its
 * `returned: always` sub-attributes (`meta.resourceType`), or nothing.
 */
type Decision = 'whole' | 'partial' | 'always' | 'none'

/**
 * Parses an `attributes` or `excludedAttributes` query parameter into canonical references
 * (`userName`, `name.givenName`, `urn:…:enterprise:2.0:User:manager`, or an extension URN).
 * Names ignore case; unknown ones are ignored. Microsoft's test collection sends
 * `emails[type eq "work"]`, read as `emails`.
 */
export function parseAttributeList(
  resource: ResourceSchema,
  param: string | undefined,
): string[] | undefined {
  if (param === undefined || param.trim() === '') return undefined
  const refs: string[] = []
  for (const item of splitList(param)) {
    const ref = canonicalReference(resource, item)
    if (ref !== undefined && !refs.includes(ref)) refs.push(ref)
  }
  return refs
}

/** Splits on commas outside brackets and quotes. */
function splitList(param: string): string[] {
  const items: string[] = []
  let depth = 0
  let inString = false
  let start = 0
  for (let i = 0; i < param.length; i++) {
    const char = param[i]
    if (inString) {
      if (char === '\\') i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === '[') depth++
    else if (char === ']') depth = Math.max(0, depth - 1)
    else if (char === ',' && depth === 0) {
      items.push(param.slice(start, i))
      start = i + 1
    }
  }
  items.push(param.slice(start))
  return items.map((item) => item.trim()).filter((item) => item !== '')
}

/** Drops a value filter (`emails[type eq "work"].value` → `emails.value`). */
function withoutFilter(name: string): string {
  const open = name.indexOf('[')
  if (open === -1) return name
  const close = name.lastIndexOf(']')
  return close === -1 ? name.slice(0, open) : name.slice(0, open) + name.slice(close + 1)
}

function canonicalReference(resource: ResourceSchema, raw: string): string | undefined {
  const name = withoutFilter(raw.trim())
  const extension = extensionForKey(resource, name)
  if (extension) return extension.id
  const resolved = resolveAttributePath(resource, name)
  if (resolved) {
    return resolved.isExtension
      ? `${resolved.schema.id}:${resolved.canonicalPath}`
      : resolved.canonicalPath
  }
  if (splitUrn(resource, name)) return undefined
  // Enterprise attributes named without their URN, as Entra's old docs do.
  const [head = '', tail, ...more] = name.split('.')
  const moved = more.length === 0 ? findTopLevelExtensionAttribute(resource, head) : undefined
  if (!moved) return undefined
  const sub =
    tail === undefined ? undefined : findAttribute(moved.attribute.subAttributes ?? [], tail)
  if (tail !== undefined && !sub) return undefined
  const path = sub ? `${moved.attribute.name}.${sub.name}` : moved.attribute.name
  return `${moved.schema.id}:${path}`
}

function modeOf(opts: ProjectionOptions): Mode {
  const lower = (refs: string[]) => new Set(refs.map((ref) => ref.toLowerCase()))
  if (opts.attributes) return { kind: 'include', refs: lower(opts.attributes) }
  if (opts.excludedAttributes) return { kind: 'exclude', refs: lower(opts.excludedAttributes) }
  return { kind: 'default' }
}

function hasAlwaysSub(attribute: AttributeDefinition): boolean {
  return (attribute.subAttributes ?? []).some((sub) => sub.returned === 'always')
}

/** `ref` is the attribute's canonical reference; `extensionRef` its extension URN, if any. */
function decide(
  mode: Mode,
  attribute: AttributeDefinition,
  ref: string,
  extensionRef: string | undefined,
): Decision {
  if (attribute.returned === 'never') return 'none'
  if (attribute.returned === 'always') return 'whole'
  // Left out, an attribute with `returned: always` sub-attributes still brings those.
  const leftOut: Decision = hasAlwaysSub(attribute) ? 'always' : 'none'
  if (mode.kind === 'default') return attribute.returned === 'request' ? leftOut : 'whole'
  const lowerRef = ref.toLowerCase()
  const named =
    mode.refs.has(lowerRef) ||
    (extensionRef !== undefined && mode.refs.has(extensionRef.toLowerCase()))
  const namesSub = [...mode.refs].some((r) => r.startsWith(`${lowerRef}.`))
  if (mode.kind === 'include') return named ? 'whole' : namesSub ? 'partial' : leftOut
  if (named || attribute.returned === 'request') return leftOut
  return namesSub ? 'partial' : 'whole'
}

function keepSub(mode: Mode, sub: AttributeDefinition, subRef: string, parent: Decision): boolean {
  if (sub.returned === 'never') return false
  if (sub.returned === 'always') return true
  if (parent === 'always') return false
  const named = mode.kind !== 'default' && mode.refs.has(subRef.toLowerCase())
  if (parent === 'whole') return sub.returned !== 'request' || (mode.kind === 'include' && named)
  if (mode.kind === 'include') return named
  return !named && sub.returned !== 'request'
}

/**
 * Applies `attributes` / `excludedAttributes` to a full response resource (RFC 7644 §3.9):
 * `returned: always` attributes stay, `returned: never` ones go, `returned: request` ones
 * appear only when asked for. `attributes` wins when both are given.
 */
export function project(
  resource: ResourceSchema,
  wire: Record<string, unknown>,
  opts: ProjectionOptions,
): Record<string, unknown> {
  const mode = modeOf(opts)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(wire)) {
    if (key === 'schemas') {
      out[key] = value
      continue
    }
    const extension = findExtension(resource, key)
    if (extension) {
      if (!isJsonObject(value)) continue
      const projected: Record<string, unknown> = {}
      for (const [name, item] of Object.entries(value)) {
        const attribute = findAttribute(extension.attributes, name)
        if (!attribute) continue
        const ref = `${extension.id}:${attribute.name}`
        const kept = projectAttribute(mode, attribute, item, ref, extension.id)
        if (kept !== undefined) projected[name] = kept
      }
      if (Object.keys(projected).length > 0) out[key] = projected
      continue
    }
    const attribute = findAttribute(coreAttributes(resource), key)
    if (!attribute) {
      if (mode.kind !== 'include') out[key] = value
      continue
    }
    const kept = projectAttribute(mode, attribute, value, attribute.name, undefined)
    if (kept !== undefined) out[key] = kept
  }
  return out
}

function projectAttribute(
  mode: Mode,
  attribute: AttributeDefinition,
  value: unknown,
  ref: string,
  extensionRef: string | undefined,
): unknown {
  const decision = decide(mode, attribute, ref, extensionRef)
  if (decision === 'none') return undefined
  if (attribute.type !== 'complex') return value
  const pick = (element: unknown): unknown => {
    if (!isJsonObject(element)) return element
    const picked: Record<string, unknown> = {}
    for (const [name, item] of Object.entries(element)) {
      const sub = findAttribute(attribute.subAttributes ?? [], name)
      if (!sub || keepSub(mode, sub, `${ref}.${sub.name}`, decision)) picked[name] = item
    }
    return Object.keys(picked).length > 0 ? picked : undefined
  }
  if (!Array.isArray(value)) return pick(value)
  const elements = value.map(pick).filter((element) => element !== undefined)
  return decision !== 'whole' && elements.length === 0 ? undefined : elements
}

/**
 * Whether an attribute (canonical path such as `members`, `groups`, `name.givenName` or a
 * URN-qualified one) survives the projection, so the server can skip loading it (Entra reads
 * groups with `excludedAttributes=members`).
 */
export function isRequested(
  resource: ResourceSchema,
  opts: ProjectionOptions,
  canonicalPath: string,
): boolean {
  const mode = modeOf(opts)
  const ref = canonicalReference(resource, canonicalPath)
  if (ref === undefined) return false
  const extension = findExtension(resource, ref)
  if (extension) {
    if (mode.kind === 'default') return true
    const lower = extension.id.toLowerCase()
    if (mode.kind === 'exclude') return !mode.refs.has(lower)
    return [...mode.refs].some((r) => r === lower || r.startsWith(`${lower}:`))
  }
  const resolved = resolveAttributePath(resource, ref)
  if (!resolved) return false
  const { attribute, subAttribute, schema, isExtension } = resolved
  const attributeRef = isExtension ? `${schema.id}:${attribute.name}` : attribute.name
  const decision = decide(mode, attribute, attributeRef, isExtension ? schema.id : undefined)
  if (decision === 'none') return false
  if (!subAttribute) return true
  return keepSub(mode, subAttribute, `${attributeRef}.${subAttribute.name}`, decision)
}
