/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled into one Kysely expression over the connection
 * table aliased `r`, for every attribute of the User, enterprise User and Group schemas.
 * Nothing is evaluated in memory; anything the schemas do not define is 400 invalidFilter.
 * What each comparison means is written down in scim/filter/semantics.ts.
 */
import { type Expression, type SqlBool, sql } from 'kysely'
import { assertNever, ScimError } from '../../scim/errors.js'
import { type Comparison, type Filter, NUMBER_TEXT } from '../../scim/filter/ast.js'
import { resolveFilterPath } from '../../scim/filter/resolve.js'
import { compareText, parseDateTime, toBoolean } from '../../scim/filter/semantics.js'
import {
  type AttributeDefinition,
  findAttribute,
  type ResolvedAttribute,
} from '../../scim/schema/resource-types.js'
import type { ElementSet, FilterContext, OpenedElements, Operand, Target } from './context.js'
import { isExactlyValueEq, requiredValue } from './index-hints.js'
import {
  binaryOrder,
  containsExact,
  endsWithExact,
  foldAscii,
  foldAsciiValue,
  jsonIs,
  startsWithExact,
} from './json-sql.js'
import { type Compiled, constant, FALSE, like, likeEscape, not, TRUE } from './sql-bool.js'
import { attributeTarget } from './targets.js'

class Compiler {
  #aliases = 0
  readonly ctx: FilterContext

  constructor(ctx: FilterContext) {
    this.ctx = ctx
  }

  alias(): string {
    return `j${this.#aliases++}`
  }

  compile(filter: Filter): Compiled {
    switch (filter.op) {
      case 'and':
      case 'or':
        return sql<SqlBool>`(${sql.join(
          filter.filters.map((f) => this.compile(f)),
          filter.op === 'and' ? sql` and ` : sql` or `,
        )})`
      case 'not':
        return not(this.compile(filter.filter))
      case '[]':
        return this.valuePath(filter.attrPath, filter.valFilter)
      case 'pr':
      case 'eq':
      case 'ne':
      case 'co':
      case 'sw':
      case 'ew':
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return this.attributeComparison(filter)
      default:
        return assertNever(filter)
    }
  }

  attributeComparison(node: Comparison): Compiled {
    const resolution = resolveFilterPath(node.attrPath, this.ctx)
    if (resolution.kind === 'absent') return compareAbsent(node)
    const { resolved } = resolution
    const target = this.target(resolved)
    const sub = resolved.subAttribute
    switch (target.kind) {
      case 'scalar':
        return compare(target.operand, resolved.attribute, node, this.ctx)
      case 'complex': {
        if (sub) return compare(target.sub(sub), sub, node, this.ctx)
        if (node.op === 'pr') return target.present
        const value = valueSubAttribute(resolved.attribute, node.attrPath)
        return compare(target.sub(value), value, node, this.ctx)
      }
      case 'multi': {
        if (!sub && node.op === 'pr') return this.someElement(target.elements, () => TRUE)
        const definition = sub ?? valueSubAttribute(resolved.attribute, node.attrPath)
        // `ne` and `eq null` are complements over the whole attribute, not per element.
        if (node.op === 'ne' || (node.op === 'eq' && node.compValue === null)) {
          const positive: Comparison =
            node.op === 'ne'
              ? { op: 'eq', attrPath: node.attrPath, compValue: node.compValue }
              : { op: 'pr', attrPath: node.attrPath }
          if (node.op === 'ne' && NUMBER_TEXT.has(node)) {
            NUMBER_TEXT.set(positive, NUMBER_TEXT.get(node) as string)
          }
          return not(this.attributeComparison(positive))
        }
        const leaf: Comparison = { ...node, attrPath: definition.name }
        if (NUMBER_TEXT.has(node)) NUMBER_TEXT.set(leaf, NUMBER_TEXT.get(node) as string)
        return this.someElement(
          target.elements,
          (e) => this.elementLeaf(e, resolved.attribute, leaf),
          leaf,
        )
      }
      default:
        return assertNever(target)
    }
  }

  valuePath(path: string, valFilter: Filter): Compiled {
    const resolution = resolveFilterPath(path, this.ctx)
    if (resolution.kind === 'absent') return FALSE
    const { resolved } = resolution
    if (resolved.subAttribute || resolved.attribute.type !== 'complex') {
      throw ScimError.invalidFilter(
        `'${path}' is not a complex attribute and cannot take a [filter]`,
      )
    }
    const target = this.target(resolved)
    if (target.kind === 'multi') {
      return this.someElement(
        target.elements,
        (e) => this.elementFilter(valFilter, e, resolved.attribute),
        valFilter,
      )
    }
    if (target.kind === 'complex') {
      const whole: OpenedElements = { from: sql``, sub: target.sub, order: [] }
      return sql<SqlBool>`(${target.present} and ${this.elementFilter(valFilter, whole, resolved.attribute)})`
    }
    throw ScimError.invalidFilter(`'${path}' cannot take a [filter]`)
  }

  /** `exists (select 1 from <elements> where …)`, narrowed first by an index when one applies. */
  someElement(
    elements: ElementSet,
    condition: (e: OpenedElements) => Compiled,
    filter?: Filter,
  ): Compiled {
    const wanted = filter && elements.byValue ? requiredValue(filter) : undefined
    const indexed = wanted !== undefined ? elements.byValue?.(wanted) : undefined
    if (indexed?.exact && filter && isExactlyValueEq(filter)) return indexed.condition
    const opened = elements.open(this.alias())
    const scan = sql<SqlBool>`exists (select 1 from ${opened.from} where ${condition(opened)})`
    return indexed ? sql<SqlBool>`(${indexed.condition} and ${scan})` : scan
  }

  /** A filter inside `attr[…]`: each comparison names a sub-attribute of the element. */
  elementFilter(filter: Filter, e: OpenedElements, attribute: AttributeDefinition): Compiled {
    switch (filter.op) {
      case 'and':
      case 'or':
        return sql<SqlBool>`(${sql.join(
          filter.filters.map((f) => this.elementFilter(f, e, attribute)),
          filter.op === 'and' ? sql` and ` : sql` or `,
        )})`
      case 'not':
        return not(this.elementFilter(filter.filter, e, attribute))
      case '[]':
        throw ScimError.invalidFilter('A [filter] cannot be nested in another')
      default:
        return this.elementLeaf(e, attribute, filter)
    }
  }

  elementLeaf(e: OpenedElements, attribute: AttributeDefinition, node: Comparison): Compiled {
    const definition = findAttribute(attribute.subAttributes ?? [], node.attrPath)
    if (!definition) {
      throw ScimError.invalidFilter(
        `Unknown attribute '${node.attrPath}' in a filter on '${attribute.name}'`,
      )
    }
    return compare(e.sub(definition), definition, node, this.ctx)
  }

  target(resolved: ResolvedAttribute): Target {
    return attributeTarget(resolved, this.ctx)
  }
}

/** Compiles a parsed filter into a boolean SQL expression over `r` (RFC 7644 §3.4.2.2). */
export function compileFilter(filter: Filter, ctx: FilterContext): Expression<SqlBool> {
  return new Compiler(ctx).compile(filter)
}

/** The `value` sub-attribute stands for a complex attribute compared as a whole. */
function valueSubAttribute(attribute: AttributeDefinition, path: string): AttributeDefinition {
  const value = findAttribute(attribute.subAttributes ?? [], 'value')
  if (!value) {
    throw ScimError.invalidFilter(`'${path}' is complex: name one of its sub-attributes`)
  }
  return value
}

/** The smallest string greater than every string starting with `prefix`, by code point. */
function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix]
  const last = points.pop()
  if (last === undefined) return undefined
  let code = (last.codePointAt(0) as number) + 1
  if (code === 0xd800) code = 0xe000
  if (code > 0x10ffff) return undefined
  return points.join('') + String.fromCodePoint(code)
}

function textOf(node: Comparison, value: string | number): string {
  return typeof value === 'number' ? (NUMBER_TEXT.get(node) ?? String(value)) : value
}

function present(operand: Operand): Compiled {
  switch (operand.kind) {
    case 'const':
      return constant(operand.value !== undefined && operand.value !== '')
    case 'boolean':
      return jsonIs(operand.place, 'boolean')
    case 'text':
      return operand.nullable
        ? sql<SqlBool>`(${operand.expr} is not null and ${operand.expr} <> '')`
        : sql<SqlBool>`${operand.expr} <> ''`
    default:
      return assertNever(operand)
  }
}

/** A comparison with an attribute that has no value in this resource type (cross-type searches). */
function compareAbsent(node: Comparison): Compiled {
  if (node.op === 'pr') return FALSE
  if (node.compValue === null) return constant(node.op === 'eq')
  return constant(node.op === 'ne')
}

/** One comparison of an attribute value, with the attribute definition deciding semantics. */
function compare(
  operand: Operand,
  definition: AttributeDefinition,
  node: Comparison,
  ctx: FilterContext,
): Compiled {
  if (definition.type === 'complex') {
    throw ScimError.invalidFilter(`'${node.attrPath}' is complex: name one of its sub-attributes`)
  }
  if (node.op === 'pr') return present(operand)
  const value = node.compValue
  if (value === null) {
    if (node.op === 'eq') return not(present(operand))
    if (node.op === 'ne') return present(operand)
    throw ScimError.invalidFilter(`'${node.op}' cannot compare with null`)
  }
  if (node.op === 'ne') {
    const eq = { op: 'eq' as const, attrPath: node.attrPath, compValue: value }
    if (NUMBER_TEXT.has(node)) NUMBER_TEXT.set(eq, NUMBER_TEXT.get(node) as string)
    return not(compare(operand, definition, eq, ctx))
  }
  const op = node.op
  const isOrdering = op === 'gt' || op === 'ge' || op === 'lt' || op === 'le'
  if (definition.type === 'boolean' || (definition.type === 'binary' && isOrdering)) {
    if (op !== 'eq') {
      throw ScimError.invalidFilter(
        `'${op}' is not allowed on ${definition.type} attribute '${node.attrPath}'`,
      )
    }
  }
  if (operand.kind === 'boolean') {
    const wanted = toBoolean(value)
    return wanted === undefined ? FALSE : jsonIs(operand.place, wanted ? 'true' : 'false')
  }
  if (typeof value === 'boolean') {
    if (op === 'eq') return FALSE
    throw ScimError.invalidFilter(`'${node.attrPath}' cannot be compared with a boolean`)
  }
  const raw = textOf(node, value)
  if (definition.type === 'dateTime' && (op === 'eq' || isOrdering)) {
    const iso = parseDateTime(raw)
    if (iso === undefined) throw ScimError.invalidFilter(`Invalid dateTime '${raw}' in filter`)
    if (operand.kind === 'const') return constant(compareText(operand.value, op, iso))
    return nonNull(operand, sql<SqlBool>`${operand.expr} ${sql.raw(SQL_OPS[op])} ${iso}`)
  }
  const exact = definition.caseExact || definition.type === 'dateTime'
  if (operand.kind === 'const') {
    const actual =
      operand.value === undefined || exact ? operand.value : foldAsciiValue(operand.value)
    return constant(compareText(actual, op, exact ? raw : foldAsciiValue(raw)))
  }
  const keyed = operand.keyed && !exact
  const lhs = keyed || exact ? operand.expr : foldAscii(ctx.dialect, operand.expr)
  const wanted = keyed ? raw.toLowerCase() : exact ? raw : foldAsciiValue(raw)
  const ordered = operand.byteOrdered ? lhs : binaryOrder(ctx.dialect, lhs)
  switch (op) {
    case 'eq':
      return nonNull(operand, sql<SqlBool>`${lhs} = ${wanted}`)
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return nonNull(operand, sql<SqlBool>`${ordered} ${sql.raw(SQL_OPS[op])} ${wanted}`)
    case 'sw': {
      if (keyed) {
        // A range on the key column, so the (source_id, key) index answers it.
        const upper = prefixUpperBound(wanted)
        if (upper !== undefined) {
          return nonNull(operand, sql<SqlBool>`(${ordered} >= ${wanted} and ${ordered} < ${upper})`)
        }
      }
      if (exact || keyed) return nonNull(operand, startsWithExact(lhs, wanted))
      return nonNull(operand, like(lhs, `${likeEscape(wanted)}%`))
    }
    case 'ew':
      if (exact) return nonNull(operand, endsWithExact(lhs, wanted))
      return nonNull(operand, like(lhs, `%${likeEscape(wanted)}`))
    case 'co':
      if (exact) return nonNull(operand, containsExact(ctx.dialect, lhs, wanted))
      return nonNull(operand, like(lhs, `%${likeEscape(wanted)}%`))
    default:
      return assertNever(op)
  }
}

const SQL_OPS = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' } as const

/** `X is not null and …`: keeps every comparison two-valued, so `not` is its exact complement. */
function nonNull(operand: Extract<Operand, { kind: 'text' }>, condition: Compiled): Compiled {
  return operand.nullable ? sql<SqlBool>`(${operand.expr} is not null and ${condition})` : condition
}
