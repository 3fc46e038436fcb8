/**
 * sortBy / sortOrder (RFC 7644 §3.4.2.3) as an SQL sort key over the connection table
 * aliased `r`: any attribute a filter can name, sub-attributes included; multi-valued ones
 * sort by their primary (else first) value. Resources without a value sort last in
 * ascending order and first in descending order (absent is greater than every value).
 */
import { type Expression, type RawBuilder, sql } from 'kysely'
import { assertNever, ScimError } from '../../scim/errors.js'
import { type Resolution, resolveFilterPath } from '../../scim/filter/resolve.js'
import { type AttributeDefinition, findAttribute } from '../../scim/schema/resource-types.js'
import type { FilterContext, Operand } from './context.js'
import { binaryOrder, foldAscii, jsonBooleanSortKey } from './json-sql.js'
import { attributeTarget } from './targets.js'

export interface SortSpec {
  expression: Expression<unknown>
  descending: boolean
  /** False when every resource has a value, so no NULLS FIRST/LAST clause is needed. */
  nullable: boolean
}

export function sortExpression(
  sortBy: string,
  sortOrder: 'ascending' | 'descending',
  ctx: FilterContext,
): SortSpec {
  const key = attributeSortKey(sortBy, ctx)
  return {
    expression: key.expression,
    descending: sortOrder === 'descending',
    nullable: key.nullable,
  }
}

export interface SortKey {
  expression: RawBuilder<unknown>
  /** Whether the key can be NULL (resources without a value sort after those with one). */
  nullable: boolean
}

function operandSortKey(
  operand: Operand,
  definition: AttributeDefinition,
  ctx: FilterContext,
): SortKey {
  switch (operand.kind) {
    case 'const':
      return {
        expression: operand.value === undefined ? sql`null` : sql`${sql.lit(operand.value)}`,
        nullable: operand.value === undefined,
      }
    case 'boolean':
      return { expression: jsonBooleanSortKey(operand.place), nullable: true }
    case 'text': {
      const exact = definition.caseExact || definition.type === 'dateTime'
      const key = operand.keyed || exact ? operand.expr : foldAscii(ctx.dialect, operand.expr)
      return {
        expression: operand.byteOrdered ? key : binaryOrder(ctx.dialect, key),
        nullable: operand.nullable,
      }
    }
    default:
      return assertNever(operand)
  }
}

/**
 * The SQL sort key of `sortBy` (RFC 7644 §3.4.2.3): case-insensitive strings sort by their
 * folded form, multi-valued attributes by their primary (else first) element. Errors are
 * 400 invalidValue; an attribute only another searched type has sorts as "no value".
 */
export function attributeSortKey(path: string, ctx: FilterContext): SortKey {
  let resolution: Resolution
  try {
    resolution = resolveFilterPath(path, ctx)
  } catch (err) {
    if (err instanceof ScimError)
      throw ScimError.invalidValue(`Cannot sort by '${path}': ${err.detail}`)
    throw err
  }
  if (resolution.kind === 'absent') return { expression: sql`null`, nullable: true }
  const { resolved } = resolution
  const target = attributeTarget(resolved, ctx)
  const sortable = (definition: AttributeDefinition): AttributeDefinition => {
    if (definition.type === 'complex') {
      const value = findAttribute(definition.subAttributes ?? [], 'value')
      if (!value) throw ScimError.invalidValue(`Cannot sort by complex attribute '${path}'`)
      return value
    }
    return definition
  }
  switch (target.kind) {
    case 'scalar':
      return operandSortKey(target.operand, resolved.attribute, ctx)
    case 'complex': {
      const definition = resolved.subAttribute ?? sortable(resolved.attribute)
      return operandSortKey(target.sub(definition), definition, ctx)
    }
    case 'multi': {
      const definition = resolved.subAttribute ?? sortable(resolved.attribute)
      const opened = target.elements.open('s0')
      const key = operandSortKey(opened.sub(definition), definition, ctx)
      return {
        expression: sql`(select ${key.expression} from ${opened.from} order by ${sql.join(opened.order)} limit 1)`,
        nullable: true,
      }
    }
    default:
      return assertNever(target)
  }
}
