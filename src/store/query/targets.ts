/** Where each attribute of each resource type lives in SQL: columns, JSON places, element sets. */
import { type SqlBool, sql } from 'kysely'
import { ScimError } from '../../scim/errors.js'
import {
  type AttributeDefinition,
  findAttribute,
  type ResolvedAttribute,
} from '../../scim/schema/resource-types.js'
import {
  type ElementSet,
  type FilterContext,
  type Operand,
  requireBaseUrl,
  type Target,
} from './context.js'
import {
  integerText,
  type JsonPlace,
  jsonArrayElements,
  jsonChild,
  jsonColumn,
  jsonIs,
  jsonText,
} from './json-sql.js'
import { memberElements, userGroupElements } from './member-joins.js'
import { concat, TRUE } from './sql-bool.js'

export const textColumn = (
  column: string,
  opts: { keyed?: boolean; nullable?: boolean; byteOrdered?: boolean } = {},
): Operand => ({
  kind: 'text',
  expr: sql.ref(column),
  keyed: opts.keyed ?? false,
  nullable: opts.nullable ?? false,
  byteOrdered: opts.byteOrdered ?? false,
})

export function jsonOperand(definition: AttributeDefinition, place: JsonPlace): Operand {
  if (definition.type === 'boolean') return { kind: 'boolean', place }
  return { kind: 'text', expr: jsonText(place), keyed: false, nullable: true }
}

export function metaTarget(ctx: FilterContext): Target {
  const endpoint = ctx.resource.endpoint
  return {
    kind: 'complex',
    present: TRUE,
    sub(definition) {
      switch (definition.name) {
        case 'resourceType':
          return { kind: 'const', value: ctx.resource.name }
        case 'created':
          return textColumn('r.created', { byteOrdered: true })
        case 'lastModified':
          return textColumn('r.last_modified', { byteOrdered: true })
        case 'location': {
          const base = requireBaseUrl(ctx, 'meta.location')
          return {
            kind: 'text',
            expr: concat(`${base}${endpoint}/`, sql.ref('r.id')),
            keyed: false,
            nullable: false,
          }
        }
        case 'version':
          return {
            kind: 'text',
            expr: concat('W/"', integerText(sql.ref('r.version')), '"'),
            keyed: false,
            nullable: false,
          }
        default:
          throw ScimError.invalidFilter(`Unknown attribute 'meta.${definition.name}' in filter`)
      }
    },
  }
}

/** A multi-valued complex attribute stored as a JSON array in the document. */
export function jsonElements(place: JsonPlace, attribute: AttributeDefinition): ElementSet {
  const hasPrimary = findAttribute(attribute.subAttributes ?? [], 'primary') !== undefined
  return {
    open(alias) {
      const elements = jsonArrayElements(place, alias)
      const primaryFirst = sql`(case when ${jsonIs(jsonChild(elements.element, 'primary'), 'true')} then 0 else 1 end)`
      return {
        from: elements.from,
        sub: (definition) => jsonOperand(definition, jsonChild(elements.element, definition.name)),
        order: hasPrimary ? [primaryFirst, elements.position] : [elements.position],
      }
    },
  }
}

/** User emails: the JSON array, narrowed through the indexed side table for `value eq`. */
export function emailElements(
  place: JsonPlace,
  attribute: AttributeDefinition,
  ctx: FilterContext,
): ElementSet {
  return {
    ...jsonElements(place, attribute),
    // value_key is JavaScript-lower-cased: every value equal under ASCII folding is found.
    byValue: (value) => ({
      condition: sql<SqlBool>`r.id in (select e.user_id from scim_source_user_emails e where e.source_id = ${ctx.sourceId} and e.value_key = ${value.toLowerCase()})`,
      exact: false,
    }),
  }
}

/** Where a resolved attribute (not its sub-attribute) lives for this resource type. */
export function attributeTarget(resolved: ResolvedAttribute, ctx: FilterContext): Target {
  const { attribute, isExtension, schema } = resolved
  const isUser = ctx.resource.name === 'User'
  if (!isExtension) {
    switch (attribute.name) {
      case 'id':
        return { kind: 'scalar', operand: textColumn('r.id', { byteOrdered: true }) }
      case 'externalId':
        return { kind: 'scalar', operand: textColumn('r.external_id', { nullable: true }) }
      case 'meta':
        return metaTarget(ctx)
      case 'userName':
        if (isUser)
          return { kind: 'scalar', operand: textColumn('r.user_name_key', { keyed: true }) }
        break
      case 'displayName':
        if (!isUser) {
          return { kind: 'scalar', operand: textColumn('r.display_name_key', { keyed: true }) }
        }
        break
      case 'members':
        if (!isUser) return { kind: 'multi', elements: memberElements(ctx) }
        break
      case 'groups':
        if (isUser) return { kind: 'multi', elements: userGroupElements(ctx) }
        break
    }
  }
  const document = jsonColumn(ctx.dialect, 'r.resource')
  const place = isExtension
    ? jsonChild(jsonChild(document, schema.id), attribute.name)
    : jsonChild(document, attribute.name)
  if (attribute.type !== 'complex')
    return { kind: 'scalar', operand: jsonOperand(attribute, place) }
  if (attribute.multiValued) {
    return {
      kind: 'multi',
      elements:
        isUser && !isExtension && attribute.name === 'emails'
          ? emailElements(place, attribute, ctx)
          : jsonElements(place, attribute),
    }
  }
  return {
    kind: 'complex',
    present: jsonIs(place, 'object'),
    sub: (definition) => jsonOperand(definition, jsonChild(place, definition.name)),
  }
}
