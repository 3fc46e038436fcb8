/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled into one Kysely expression over the connection
 * table aliased `r`. Nothing is evaluated in memory; anything the schema does not define is
 * 400 invalidFilter, never silently dropped.
 */
import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'
import { type Filter, parse } from 'scim2-parse-filter'
import type { Dialect } from '../store/database.js'
import { assertNever, ScimError } from './errors.js'
import {
  type AttributeDefinition,
  type ResolvedAttribute,
  type ResourceSchema,
  resolveAttributePath,
} from './schemas.js'

export type { Filter } from 'scim2-parse-filter'

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])
const LITERAL = /^(true|false|null|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/i

type Token = { kind: 'str' | 'word' | 'open' | 'close' | 'lbracket' | 'rbracket'; text: string }

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (j >= text.length) throw ScimError.invalidFilter('Unterminated string in filter')
      tokens.push({ kind: 'str', text: text.slice(i, j + 1) })
      i = j + 1
    } else if ('()[]'.includes(ch)) {
      const kind = ch === '(' ? 'open' : ch === ')' ? 'close' : ch === '[' ? 'lbracket' : 'rbracket'
      tokens.push({ kind, text: ch })
      i++
    } else {
      let j = i
      while (j < text.length && !/[\s()[\]"]/.test(text[j] as string)) j++
      tokens.push({ kind: 'word', text: text.slice(i, j) })
      i = j
    }
  }
  return tokens
}

/**
 * Rewrites what real clients send into RFC filter syntax before parsing:
 * - a bare word after a comparison operator becomes a string (Entra's documented
 *   `externalId eq jyoung`, Microsoft's test collection `userName sw O`, dateTimes unquoted),
 *   unless it reads as true, false, null or a number;
 * - `attr[filter].sub op value` becomes `attr[(filter) and sub op value]`, so that both
 *   conditions apply to the same element (the parser would otherwise split them).
 */
export function normalizeFilterText(text: string): string {
  const tokens = tokenize(text)
  const out: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token
    const prev = tokens[i - 1]
    if (
      t.kind === 'word' &&
      prev?.kind === 'word' &&
      COMPARE_OPS.has(prev.text.toLowerCase()) &&
      !LITERAL.test(t.text)
    ) {
      out.push(JSON.stringify(t.text))
      continue
    }
    const next = tokens[i + 1]
    if (t.kind === 'rbracket' && next?.kind === 'word' && next.text.startsWith('.')) {
      const open = matchingOpen(out)
      const op = tokens[i + 2]
      if (open >= 0 && op?.kind === 'word') {
        const inner = out.splice(open + 1)
        const isPresence = op.text.toLowerCase() === 'pr'
        const value = isPresence ? undefined : tokens[i + 3]
        if (!isPresence && value === undefined) throw ScimError.invalidFilter('Incomplete filter')
        const valueText =
          value === undefined
            ? ''
            : value.kind === 'word' && !LITERAL.test(value.text)
              ? JSON.stringify(value.text)
              : value.text
        out.push(
          '(',
          ...inner,
          ')',
          'and',
          next.text.slice(1),
          op.text,
          ...(valueText ? [valueText] : []),
          ']',
        )
        i += isPresence ? 2 : 3
        continue
      }
    }
    out.push(t.text)
  }
  return out.join(' ').replace(/\[ /g, '[').replace(/ \]/g, ']')
}

function matchingOpen(out: string[]): number {
  let depth = 0
  for (let k = out.length - 1; k >= 0; k--) {
    if (out[k] === ']') depth++
    else if (out[k] === '[') {
      if (depth === 0) return k
      depth--
    }
  }
  return -1
}

/** Parses a filter; syntax errors are 400 invalidFilter. */
export function parseFilter(text: string): Filter {
  if (text.trim() === '') throw ScimError.invalidFilter('Empty filter')
  if (text.length > 10_000) throw ScimError.invalidFilter('Filter is too long')
  try {
    return parse(normalizeFilterText(text))
  } catch (err) {
    if (err instanceof ScimError) throw err
    throw ScimError.invalidFilter(`Invalid filter: ${(err as Error).message}`)
  }
}

export interface FilterContext {
  resource: ResourceSchema
  dialect: Dialect
}

type Value = boolean | null | number | string
type Compiled = Expression<SqlBool>

/** A column that holds an attribute: `key` columns hold the lower-cased value. */
interface Column {
  ref: RawBuilder<unknown>
  kind: 'exact' | 'key' | 'dateTime'
}

const ref = (name: string) => sql.ref(name)

const USER_COLUMNS: Record<string, Column> = {
  id: { ref: ref('r.id'), kind: 'exact' },
  externalid: { ref: ref('r.external_id'), kind: 'exact' },
  username: { ref: ref('r.user_name_key'), kind: 'key' },
  'meta.created': { ref: ref('r.created'), kind: 'dateTime' },
  'meta.lastmodified': { ref: ref('r.last_modified'), kind: 'dateTime' },
}

const GROUP_COLUMNS: Record<string, Column> = {
  id: { ref: ref('r.id'), kind: 'exact' },
  externalid: { ref: ref('r.external_id'), kind: 'exact' },
  displayname: { ref: ref('r.display_name_key'), kind: 'key' },
  'meta.created': { ref: ref('r.created'), kind: 'dateTime' },
  'meta.lastmodified': { ref: ref('r.last_modified'), kind: 'dateTime' },
}

/** Compiles a parsed filter into a boolean SQL expression over `r` (RFC 7644 §3.4.2.2). */
export function compileFilter(filter: Filter, ctx: FilterContext): Compiled {
  switch (filter.op) {
    case 'and':
      return sql<SqlBool>`(${sql.join(
        filter.filters.map((f) => compileFilter(f, ctx)),
        sql` and `,
      )})`
    case 'or':
      return sql<SqlBool>`(${sql.join(
        filter.filters.map((f) => compileFilter(f, ctx)),
        sql` or `,
      )})`
    case 'not':
      return sql<SqlBool>`(not ${compileFilter(filter.filter, ctx)})`
    case '[]':
      return valuePath(filter.attrPath, filter.valFilter, ctx)
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
      return attributeExpression(filter.attrPath, filter, ctx)
    default:
      return assertNever(filter)
  }
}

type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>

function resolve(path: string, ctx: FilterContext): ResolvedAttribute {
  const resolved = resolveAttributePath(ctx.resource, path)
  if (!resolved) throw ScimError.invalidFilter(`Unknown attribute '${path}' in filter`)
  return resolved
}

function attributeExpression(path: string, node: Comparison, ctx: FilterContext): Compiled {
  const resolved = resolve(path, ctx)
  const key = resolved.isExtension
    ? `${resolved.schema.id}:${resolved.canonicalPath}`.toLowerCase()
    : resolved.canonicalPath.toLowerCase()
  const columns = ctx.resource.name === 'User' ? USER_COLUMNS : GROUP_COLUMNS
  const column = columns[key] ?? columns[resolved.attribute.name.toLowerCase()]
  if (column && (column === columns[key] || !resolved.subAttribute)) {
    return compare(column, node, resolved.subAttribute ?? resolved.attribute)
  }
  if (ctx.resource.name === 'User' && resolved.attribute.name === 'emails') {
    const sub = resolved.subAttribute?.name ?? 'value'
    return emailExists(ctx, emailCondition(sub, node))
  }
  if (ctx.resource.name === 'Group' && resolved.attribute.name === 'members') {
    if (resolved.subAttribute && resolved.subAttribute.name !== 'value') {
      throw ScimError.invalidFilter(`Filtering on '${path}' is not supported`)
    }
    return memberExists(node)
  }
  throw ScimError.invalidFilter(`Filtering on '${path}' is not supported`)
}

function valuePath(path: string, valFilter: Filter, ctx: FilterContext): Compiled {
  const resolved = resolve(path, ctx)
  if (resolved.subAttribute || !resolved.attribute.multiValued) {
    throw ScimError.invalidFilter(`'${path}' is not a multi-valued attribute`)
  }
  if (ctx.resource.name === 'User' && resolved.attribute.name === 'emails') {
    return emailExists(ctx, elementFilter(valFilter, emailCondition))
  }
  if (ctx.resource.name === 'Group' && resolved.attribute.name === 'members') {
    return elementFilter(valFilter, (sub, node) => {
      if (sub !== 'value')
        throw ScimError.invalidFilter(`Filtering on members.${sub} is not supported`)
      return memberExists(node)
    })
  }
  throw ScimError.invalidFilter(`Filtering on '${path}' is not supported`)
}

/** Compiles the filter inside `attr[…]`, each comparison naming a sub-attribute. */
function elementFilter(
  filter: Filter,
  leaf: (subAttribute: string, node: Comparison) => Compiled,
): Compiled {
  switch (filter.op) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(
        filter.filters.map((f) => elementFilter(f, leaf)),
        filter.op === 'and' ? sql` and ` : sql` or `,
      )})`
    case 'not':
      return sql<SqlBool>`(not ${elementFilter(filter.filter, leaf)})`
    case '[]':
      throw ScimError.invalidFilter('Nested value filters are not allowed')
    default:
      return leaf(filter.attrPath.toLowerCase(), filter)
  }
}

const EMAIL_VALUE = { name: 'emails.value', caseExact: false } as AttributeDefinition

function emailColumn(sub: string): Column {
  switch (sub.toLowerCase()) {
    case 'value':
      return { ref: ref('e.value_key'), kind: 'key' }
    case 'type':
      return { ref: ref('e.type'), kind: 'exact' }
    default:
      throw ScimError.invalidFilter(`Filtering on emails.${sub} is not supported`)
  }
}

function emailCondition(sub: string, node: Comparison): Compiled {
  if (sub.toLowerCase() === 'primary') {
    if (node.op === 'pr') return sql<SqlBool>`1 = 1`
    if (node.op !== 'eq' && node.op !== 'ne') {
      throw ScimError.invalidFilter(`Operator '${node.op}' is not allowed on a boolean`)
    }
    const wanted = coerceBoolean(node.compValue) ? 1 : 0
    return node.op === 'eq'
      ? sql<SqlBool>`e.is_primary = ${wanted}`
      : sql<SqlBool>`e.is_primary <> ${wanted}`
  }
  return compare(emailColumn(sub), node, EMAIL_VALUE)
}

function emailExists(_ctx: FilterContext, condition: Compiled): Compiled {
  return sql<SqlBool>`exists (select 1 from scim_source_user_emails e where e.user_id = r.id and ${condition})`
}

function memberExists(node: Comparison): Compiled {
  if (node.op === 'pr') {
    return sql<SqlBool>`(exists (select 1 from group_members gm where gm.group_id = r.group_id) or exists (select 1 from group_parents gp where gp.parent_id = r.group_id))`
  }
  if (node.op !== 'eq') {
    throw ScimError.invalidFilter(`Operator '${node.op}' is not supported on members.value`)
  }
  const id = String(node.compValue)
  return sql<SqlBool>`(exists (select 1 from group_members gm join scim_source_users su on su.user_id = gm.user_id where gm.group_id = r.group_id and su.id = ${id}) or exists (select 1 from group_parents gp where gp.parent_id = r.group_id and gp.group_id = ${id}))`
}

function coerceBoolean(value: Value): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string' && /^(true|false)$/i.test(value))
    return value.toLowerCase() === 'true'
  throw ScimError.invalidFilter(`Expected a boolean, got ${JSON.stringify(value)}`)
}

/** Escapes LIKE wildcards; patterns use `escape '\'`. */
function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}

function compare(column: Column, node: Comparison, definition: AttributeDefinition): Compiled {
  const col = column.ref
  if (node.op === 'pr') return sql<SqlBool>`(${col} is not null and ${col} <> '')`
  const raw = node.compValue
  if (raw === null) {
    if (node.op === 'eq') return sql<SqlBool>`(${col} is null)`
    if (node.op === 'ne') return sql<SqlBool>`(${col} is not null)`
    throw ScimError.invalidFilter(`Operator '${node.op}' cannot compare with null`)
  }
  if (typeof raw === 'boolean') {
    throw ScimError.invalidFilter(`'${definition.name}' is not a boolean attribute`)
  }
  let value = String(raw)
  if (column.kind === 'key') value = value.toLowerCase()
  if (column.kind === 'dateTime') {
    const time = Date.parse(value)
    if (Number.isNaN(time)) throw ScimError.invalidFilter(`Invalid dateTime '${value}'`)
    value = new Date(time).toISOString()
    if (node.op === 'co' || node.op === 'sw' || node.op === 'ew') {
      throw ScimError.invalidFilter(`Operator '${node.op}' is not allowed on a dateTime`)
    }
  }
  switch (node.op) {
    case 'eq':
      return sql<SqlBool>`${col} = ${value}`
    case 'ne':
      return sql<SqlBool>`(${col} is null or ${col} <> ${value})`
    case 'gt':
      return sql<SqlBool>`${col} > ${value}`
    case 'ge':
      return sql<SqlBool>`${col} >= ${value}`
    case 'lt':
      return sql<SqlBool>`${col} < ${value}`
    case 'le':
      return sql<SqlBool>`${col} <= ${value}`
    case 'co':
    case 'sw':
    case 'ew': {
      if (column.kind === 'key') {
        const pattern =
          node.op === 'co'
            ? `%${likeEscape(value)}%`
            : node.op === 'sw'
              ? `${likeEscape(value)}%`
              : `%${likeEscape(value)}`
        return sql<SqlBool>`${col} like ${pattern} escape '\\'`
      }
      // Case-exact substring tests without LIKE, whose case rules differ between dialects.
      if (node.op === 'sw') return sql<SqlBool>`substr(${col}, 1, length(${value})) = ${value}`
      if (node.op === 'ew') {
        return sql<SqlBool>`(length(${col}) >= length(${value}) and substr(${col}, length(${col}) - length(${value}) + 1) = ${value})`
      }
      // replace() is portable where instr/strpos are not; an empty needle matches everything.
      if (value === '') return sql<SqlBool>`${col} is not null`
      return sql<SqlBool>`replace(${col}, ${value}, '') <> ${col}`
    }
    default:
      return assertNever(node)
  }
}
