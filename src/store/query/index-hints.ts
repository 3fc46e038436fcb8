/** Which filters an index narrows, and the `value` an element filter requires (for the side-table lookups). */
import { type Filter, NUMBER_TEXT } from '../../scim/filter/ast.js'
import { resolveLenient } from '../../scim/filter/resolve.js'
import type { ResourceSchema } from '../../scim/schema/resource-types.js'
import type { FilterContext } from './context.js'

/** The string an element filter requires `value` to equal, if any (`[type eq "work" and value eq "x"]`). */
export function requiredValue(filter: Filter): string | undefined {
  if (filter.op === 'and') {
    for (const f of filter.filters) {
      const found = requiredValue(f)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (filter.op !== 'eq' || filter.attrPath.toLowerCase() !== 'value') return undefined
  const v = filter.compValue
  if (typeof v === 'string') return v
  if (typeof v === 'number') return NUMBER_TEXT.get(filter) ?? String(v)
  return undefined
}

/** Attributes (canonical, lower-cased) and the operators an index answers for them. */
const INDEXED: Record<ResourceSchema['name'], Record<string, ReadonlySet<string>>> = {
  User: {
    id: new Set(['eq']),
    externalid: new Set(['eq']),
    username: new Set(['eq', 'sw']),
    displayname: new Set(['eq']),
    'emails.value': new Set(['eq']),
    'meta.lastmodified': new Set(['eq', 'gt', 'ge', 'lt', 'le']),
  },
  Group: {
    id: new Set(['eq']),
    externalid: new Set(['eq']),
    displayname: new Set(['eq', 'sw']),
    'members.value': new Set(['eq']),
    'meta.lastmodified': new Set(['eq', 'gt', 'ge', 'lt', 'le']),
  },
}

/**
 * Whether an index narrows the filter down: some top-level conjunct is one of the hot
 * comparisons (`userName eq`, `emails[type eq "work"].value eq`, `members.value eq`,
 * `meta.lastModified gt`, …). The store then sorts the few matching rows instead of walking
 * the whole source in id order, which SQLite's planner (without statistics) would prefer.
 */
export function isIndexNarrowed(filter: Filter, ctx: FilterContext): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.some((f) => isIndexNarrowed(f, ctx))
    case 'or':
    case 'not':
    case 'pr':
      return false
    case '[]': {
      const name = resolveLenient(ctx.resource, filter.attrPath)?.canonicalPath.toLowerCase()
      const wanted = INDEXED[ctx.resource.name][`${name}.value`]
      return wanted !== undefined && requiredValue(filter.valFilter) !== undefined
    }
    default: {
      if (filter.compValue === null || typeof filter.compValue === 'boolean') return false
      const resolved = resolveLenient(ctx.resource, filter.attrPath)
      if (!resolved || resolved.isExtension) return false
      const multiValue = resolved.attribute.multiValued && !resolved.subAttribute
      const path = `${resolved.canonicalPath}${multiValue ? '.value' : ''}`.toLowerCase()
      return INDEXED[ctx.resource.name][path]?.has(filter.op) ?? false
    }
  }
}

export function isExactlyValueEq(filter: Filter): boolean {
  return filter.op === 'eq' && filter.attrPath.toLowerCase() === 'value'
}
