/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled into one Kysely expression over the connection
 * table aliased `r`, for every attribute of the User, enterprise User and Group schemas.
 * Nothing is evaluated in memory; anything the schemas do not define is 400 invalidFilter.
 * What each comparison means is written down in scim/filter/semantics.ts.
 */
import { type Expression, type SqlBool, sql } from 'kysely'
import { assertNever, ScimError } from '../../scim/errors.js'
import { type Comparison, type Filter, isComparison } from '../../scim/filter/ast.js'
import { resolveFilterPath } from '../../scim/filter/resolve.js'
import {
  type ComparisonPlan,
  compareText,
  foldCase as foldValue,
  planComparison,
  type TextOp,
} from '../../scim/filter/semantics.js'
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
  foldCase,
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
    if (isComparison(filter)) return this.attributeComparison(filter)
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
          return not(this.attributeComparison(positive))
        }
        const leaf: Comparison = { ...node, attrPath: definition.name }
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

/** One comparison of an attribute value: semantics.ts decides it, this writes it in SQL. */
function compare(
  operand: Operand,
  definition: AttributeDefinition,
  node: Comparison,
  ctx: FilterContext,
): Compiled {
  const plan = planComparison(definition, node)
  if (plan.kind === 'constant') return constant(plan.value)
  const positive = comparePlan(operand, definition, plan, ctx)
  return plan.negate ? not(positive) : positive
}

function comparePlan(
  operand: Operand,
  definition: AttributeDefinition,
  plan: Exclude<ComparisonPlan, { kind: 'constant' }>,
  ctx: FilterContext,
): Compiled {
  if (plan.kind === 'present') return present(operand)
  if (plan.kind === 'boolean') {
    if (operand.kind !== 'boolean' || plan.wanted === undefined) return FALSE
    return jsonIs(operand.place, plan.wanted ? 'true' : 'false')
  }
  const { op, wanted, fold } = plan
  if (operand.kind === 'boolean') return FALSE
  if (operand.kind === 'const') {
    const actual = operand.value !== undefined && fold ? foldValue(operand.value) : operand.value
    return constant(compareText(actual, op, wanted))
  }
  if (definition.type === 'dateTime' && !SUBSTRING_OPS.has(op)) {
    // ISO-8601 text in one fixed form: compared as text, it orders as instants.
    return nonNull(
      operand,
      sql<SqlBool>`${operand.expr} ${sql.raw(SQL_OPS[op as SqlOp])} ${wanted}`,
    )
  }
  // A key column holds the folded text already (and its index answers `eq` and `sw`).
  const keyed = operand.keyed && fold
  const lhs = fold && !keyed ? foldCase(ctx.dialect, operand.expr) : operand.expr
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
      if (!fold || keyed) return nonNull(operand, startsWithExact(lhs, wanted))
      return nonNull(operand, like(lhs, `${likeEscape(wanted)}%`))
    }
    // Both sides are folded when `fold`, so LIKE's own ASCII case-insensitivity (SQLite)
    // changes nothing; `%` and `_` in the value are escaped.
    case 'ew':
      if (!fold) return nonNull(operand, endsWithExact(lhs, wanted))
      return nonNull(operand, like(lhs, `%${likeEscape(wanted)}`))
    case 'co':
      if (!fold) return nonNull(operand, containsExact(ctx.dialect, lhs, wanted))
      return nonNull(operand, like(lhs, `%${likeEscape(wanted)}%`))
    default:
      return assertNever(op)
  }
}

const SUBSTRING_OPS: ReadonlySet<TextOp> = new Set(['co', 'sw', 'ew'])
type SqlOp = 'eq' | 'gt' | 'ge' | 'lt' | 'le'
const SQL_OPS = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' } as const

/** `X is not null and …`: keeps every comparison two-valued, so `not` is its exact complement. */
function nonNull(operand: Extract<Operand, { kind: 'text' }>, condition: Compiled): Compiled {
  return operand.nullable ? sql<SqlBool>`(${operand.expr} is not null and ${condition})` : condition
}
