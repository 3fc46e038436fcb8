/** Filter and sortBy attribute paths resolved against a resource type's schemas. */
import { ScimError } from '../errors.js'
import {
  ENTERPRISE_USER_URN,
  type ResolvedAttribute,
  type ResourceSchema,
  resolveAttributePath,
} from '../schema/resource-types.js'

/** The resource type a filter is resolved against, and the others searched with it. */
export interface FilterScope {
  resource: ResourceSchema
  /**
   * For searches across resource types (RFC 7644 §3.4.2.1): an attribute of one of these
   * other types that this type lacks "has no value" instead of being an error.
   */
  alsoSearching?: readonly ResourceSchema[] | undefined
}

export type Resolution = { kind: 'resolved'; resolved: ResolvedAttribute } | { kind: 'absent' }

/**
 * Resolves a filter or sortBy path against the resource type. Enterprise attributes may be
 * named without their URN (Entra); in a search across types, an attribute only another type
 * has is "absent"; anything else unknown is 400 invalidFilter.
 */
export function resolveFilterPath(path: string, ctx: FilterScope): Resolution {
  const resolved = resolveLenient(ctx.resource, path)
  if (resolved) {
    if (resolved.attribute.returned === 'never' || resolved.subAttribute?.returned === 'never') {
      throw ScimError.invalidFilter(`'${path}' is never returned and cannot be used in a filter`)
    }
    return { kind: 'resolved', resolved }
  }
  if (ctx.alsoSearching?.some((other) => resolveLenient(other, path))) return { kind: 'absent' }
  throw ScimError.invalidFilter(`Unknown attribute '${path}' in filter`)
}

export function resolveLenient(
  resource: ResourceSchema,
  path: string,
): ResolvedAttribute | undefined {
  const resolved = resolveAttributePath(resource, path)
  if (resolved || path.toLowerCase().startsWith('urn:')) return resolved
  if (!resource.extensions.some((e) => e.id === ENTERPRISE_USER_URN)) return undefined
  return resolveAttributePath(resource, `${ENTERPRISE_USER_URN}:${path}`)
}
