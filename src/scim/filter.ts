/**
 * SCIM filters (RFC 7644 §3.4.2.2) compiled into one Kysely expression over the connection
 * table aliased `r`, for every attribute of the User, enterprise User and Group schemas.
 * Nothing is evaluated in memory; anything the schemas do not define is 400 invalidFilter.
 *
 * Semantics, identical on SQLite and PostgreSQL:
 * - A comparison on a multi-valued attribute matches when any value matches; `ne` is the
 *   complement of `eq` (`emails.type ne "work"`: no work email), so an absent attribute is
 *   `ne` anything. `eq null` means "not present", `ne null` means `pr`. `pr` is false for
 *   absent values, empty strings and empty arrays (RFC 7643 §2.5).
 * - Strings follow the attribute's caseExact. userName, the Group displayName and (as an
 *   index) emails.value have lower-cased key columns: those compare with full Unicode
 *   lower-casing (JavaScript toLowerCase, the same key their uniqueness uses). Other
 *   case-insensitive strings live in the JSON document and fold ASCII letters only, because
 *   that is what SQLite's lower() does; PostgreSQL uses translate() to match it.
 * - Ordering (`gt ge lt le`) compares strings by code point (SQLite BINARY, PostgreSQL
 *   COLLATE "C") and dateTimes as instants; on booleans and binary it is 400.
 * - `co sw ew` never treat `%` and `_` as wildcards; on dateTimes they test the stored
 *   ISO-8601 text (SCIMMY's `date co "2021-09"`).
 * - A boolean compared with anything but true/false (or "True"/"False", as Entra sends)
 *   matches nothing; a string attribute compared with a number compares with its text.
 * - `attr op value` on a complex attribute with a `value` sub-attribute means
 *   `attr.value op value` (Entra's `manager eq 2819…`); enterprise attributes may be named
 *   without their URN where no core attribute has the name.
 */
import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'
import { type Filter, parse } from 'scim2-parse-filter'
import type { Dialect } from '../store/database.js'
import {
  binaryOrder,
  containsExact,
  endsWithExact,
  foldAscii,
  foldAsciiValue,
  integerText,
  type JsonPlace,
  jsonArrayElements,
  jsonBooleanSortKey,
  jsonChild,
  jsonColumn,
  jsonIs,
  jsonText,
  startsWithExact,
} from '../store/query/json-sql.js'
import { assertNever, ScimError } from './errors.js'
import {
  type AttributeDefinition,
  ENTERPRISE_USER_URN,
  findAttribute,
  type ResolvedAttribute,
  type ResourceSchema,
  resolveAttributePath,
} from './schema/resource-types.js'

export type { Filter } from 'scim2-parse-filter'

// ---------------------------------------------------------------------------------------------
// Parsing

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])
const KEYWORD = /^(true|false|null)$/i
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/
/** scim2-parse-filter's attribute names cannot hold `$` (`members.$ref`): it travels as this. */
const DOLLAR = '__dollar__'
const MAX_LENGTH = 10_000
/** Nesting of parentheses and brackets; deeper filters would exhaust SQLite's expression depth. */
const MAX_DEPTH = 32
const MAX_TERMS = 200

type Token = { kind: 'str' | 'word' | 'open' | 'close' | 'lbracket' | 'rbracket'; text: string }
type Literal = { kind: 'string'; value: string } | { kind: 'number'; value: number; text: string }

/** The text of number literals, kept so that `employeeNumber eq 007` compares with "007". */
const NUMBER_TEXT = new WeakMap<object, string>()

/** Whitespace as `\s` reads it; ASCII answered without a regular expression. */
function isSpace(ch: string): boolean {
  const code = ch.charCodeAt(0)
  if (code < 128) return code === 32 || (code >= 9 && code <= 13)
  return /\s/.test(ch)
}

/** Characters that end a bare word: whitespace, brackets, parentheses, a quote. */
function endsWord(ch: string): boolean {
  return ch === '(' || ch === ')' || ch === '[' || ch === ']' || ch === '"' || isSpace(ch)
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let depth = 0
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (isSpace(ch)) {
      i++
    } else if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (j >= text.length) throw ScimError.invalidFilter('Unterminated string in filter')
      tokens.push({ kind: 'str', text: text.slice(i, j + 1) })
      i = j + 1
    } else if ('()[]'.includes(ch)) {
      const kind = ch === '(' ? 'open' : ch === ')' ? 'close' : ch === '[' ? 'lbracket' : 'rbracket'
      depth += kind === 'open' || kind === 'lbracket' ? 1 : -1
      if (depth > MAX_DEPTH) throw ScimError.invalidFilter('Filter is nested too deeply')
      tokens.push({ kind, text: ch })
      i++
    } else {
      let j = i
      while (j < text.length && !endsWord(text[j] as string)) j++
      tokens.push({ kind: 'word', text: text.slice(i, j) })
      i = j
    }
  }
  return tokens
}

/** A filter string literal is a JSON string (RFC 7644 §3.4.2.2); a bad escape is read leniently. */
function decodeString(quoted: string): string {
  try {
    const value: unknown = JSON.parse(quoted)
    if (typeof value === 'string') return value
  } catch {
    // fall through
  }
  return quoted.slice(1, -1).replace(/\\(.)/gs, '$1')
}

/**
 * Rewrites what clients send into text scim2-parse-filter reads the same way every time:
 * - every value becomes a numbered placeholder string (the parser mangles backslash escapes
 *   and cannot read `-5)`); the real values are put back after parsing;
 * - a bare word after a comparison operator is a string (Entra's documented
 *   `externalId eq jyoung`, Microsoft's test collection `userName sw O`, unquoted dateTimes),
 *   unless it reads as true, false, null (in any case) or a number;
 * - `attr[filter].sub op value` becomes `attr[(filter) and sub op value]`, so that both
 *   conditions apply to the same element (the parser would otherwise split them).
 */
function prepare(text: string): { text: string; literals: Literal[] } {
  const tokens = tokenize(text)
  const literals: Literal[] = []
  const placeholder = (literal: Literal): Token => {
    literals.push(literal)
    return { kind: 'str', text: `"${literals.length - 1}"` }
  }
  const mapped = tokens.map((t, i): Token => {
    const prev = tokens[i - 1]
    const isValue = prev?.kind === 'word' && COMPARE_OPS.has(prev.text.toLowerCase())
    if (t.kind === 'str') return placeholder({ kind: 'string', value: decodeString(t.text) })
    if (t.kind !== 'word') return t
    if (!isValue) return { kind: 'word', text: t.text.replaceAll('$', DOLLAR) }
    if (KEYWORD.test(t.text)) return { kind: 'word', text: t.text.toLowerCase() }
    if (NUMBER.test(t.text)) {
      return placeholder({ kind: 'number', value: Number(t.text), text: t.text })
    }
    return placeholder({ kind: 'string', value: t.text })
  })

  const out: string[] = []
  for (let i = 0; i < mapped.length; i++) {
    const t = mapped[i] as Token
    const next = mapped[i + 1]
    if (t.kind === 'rbracket' && next?.kind === 'word' && next.text.startsWith('.')) {
      const open = matchingOpen(out)
      const op = mapped[i + 2]
      if (open >= 0 && op?.kind === 'word') {
        const inner = out.splice(open + 1)
        const isPresence = op.text.toLowerCase() === 'pr'
        const value = isPresence ? undefined : mapped[i + 3]
        if (!isPresence && value === undefined) throw ScimError.invalidFilter('Incomplete filter')
        out.push('(', ...inner, ')', 'and', next.text.slice(1), op.text)
        if (value) out.push(value.text)
        out.push(']')
        i += isPresence ? 2 : 3
        continue
      }
    }
    out.push(t.text)
  }
  return { text: out.join(' '), literals }
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

/** Puts the literal values back into the parsed tree and checks its size. */
function restore(filter: Filter, literals: Literal[], budget: { terms: number }): Filter {
  if (--budget.terms < 0) throw ScimError.invalidFilter('Filter has too many terms')
  switch (filter.op) {
    case 'and':
    case 'or':
      return { op: filter.op, filters: filter.filters.map((f) => restore(f, literals, budget)) }
    case 'not':
      return { op: 'not', filter: restore(filter.filter, literals, budget) }
    case '[]':
      return {
        op: '[]',
        attrPath: filter.attrPath.replaceAll(DOLLAR, '$'),
        valFilter: restore(filter.valFilter, literals, budget),
      }
    case 'pr':
      return { op: 'pr', attrPath: filter.attrPath.replaceAll(DOLLAR, '$') }
    default: {
      const attrPath = filter.attrPath.replaceAll(DOLLAR, '$')
      const raw = filter.compValue
      const literal = typeof raw === 'string' ? literals[Number(raw)] : undefined
      if (!literal) return { op: filter.op, attrPath, compValue: raw }
      const node = { op: filter.op, attrPath, compValue: literal.value }
      if (literal.kind === 'number') NUMBER_TEXT.set(node, literal.text)
      return node
    }
  }
}

/**
 * `attribute eq "value"` as identity providers send their existence checks, with one space
 * on each side of `eq` and no escape in the value: its tree, read directly. Anything else
 * (or this with other spacing) takes the full parser, which gives the same tree (a property
 * test checks it).
 */
const SIMPLE_EQ = /^([A-Za-z]\w*) eq "([^"\\]*)"$/
/** Words that the full parser reads as operators, never as attribute names (nor is DOLLAR one). */
const OPERATORS = new Set([...COMPARE_OPS, 'pr', 'and', 'or', 'not'])

/** Parses a filter (RFC 7644 §3.4.2.2, with the leniencies above); bad syntax is 400 invalidFilter. */
export function parseFilter(text: string): Filter {
  if (text.length > MAX_LENGTH) throw ScimError.invalidFilter('Filter is too long')
  const simple = SIMPLE_EQ.exec(text)
  const attrPath = simple?.[1]
  if (
    attrPath !== undefined &&
    !OPERATORS.has(attrPath.toLowerCase()) &&
    !attrPath.includes(DOLLAR)
  ) {
    return { op: 'eq', attrPath, compValue: simple?.[2] as string }
  }
  if (text.trim() === '') throw ScimError.invalidFilter('Empty filter')
  const prepared = prepare(text)
  return restore(parseShape(prepared.text), prepared.literals, { terms: MAX_TERMS })
}

/**
 * Parsed filters by their prepared text, in which every value is a numbered placeholder:
 * the existence checks of a whole sync (`userName eq "…"`) are one shape, parsed once.
 * restore() builds a new tree, so a kept one is never handed out or changed.
 */
const shapes = new Map<string, Filter>()
const MAX_SHAPES = 500

function parseShape(prepared: string): Filter {
  const kept = shapes.get(prepared)
  if (kept) return kept
  let parsed: Filter
  try {
    parsed = parse(prepared)
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    // The parser's messages quote placeholders, not the client's values: keep them short.
    throw ScimError.invalidFilter(`Invalid filter: ${detail.replace(/"\d+"/g, '"…"')}`)
  }
  if (shapes.size >= MAX_SHAPES) shapes.clear()
  shapes.set(prepared, parsed)
  return parsed
}

// ---------------------------------------------------------------------------------------------
// Compilation

export interface FilterContext {
  resource: ResourceSchema
  dialect: Dialect
  /** The source whose rows are filtered, so side-table lookups use their source-first indexes. */
  sourceId: string
  /** The source's SCIM base URL (`…/v2`), from which `meta.location` and `$ref` are built. */
  baseUrl?: string | undefined
  /**
   * For searches across resource types (RFC 7644 §3.4.2.1): an attribute of one of these
   * other types that this type lacks "has no value" instead of being an error.
   */
  alsoSearching?: readonly ResourceSchema[] | undefined
}

type Compiled = RawBuilder<SqlBool>
type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>
type Value = boolean | null | number | string

/** How an attribute value is reached in SQL. */
type Operand =
  | {
      kind: 'text'
      expr: RawBuilder<unknown>
      /** The column holds JavaScript-lower-cased text (a `*_key` column). */
      keyed: boolean
      nullable: boolean
      /** Fixed-format ASCII (ids, ISO timestamps): any collation orders it as bytes do. */
      byteOrdered?: boolean
    }
  | { kind: 'boolean'; place: JsonPlace }
  | { kind: 'const'; value: string | undefined }

/** One opened set of elements of a multi-valued attribute: a FROM item and its sub-attributes. */
interface OpenedElements {
  from: RawBuilder<unknown>
  sub(definition: AttributeDefinition): Operand
  /** Orders elements as they are returned: primary first where there is one (RFC 7644 §3.4.2.3). */
  order: RawBuilder<unknown>[]
}

interface ElementSet {
  open(alias: string): OpenedElements
  /**
   * A condition on `r` implied by "some element has value eq v", from an index, and whether
   * it is exactly that (then the element scan is skipped).
   */
  byValue?(value: string): { condition: Compiled; exact: boolean }
}

type Target =
  | { kind: 'scalar'; operand: Operand }
  | {
      kind: 'complex'
      present: Compiled
      sub(definition: AttributeDefinition): Operand
    }
  | { kind: 'multi'; elements: ElementSet }

type Resolution = { kind: 'resolved'; resolved: ResolvedAttribute } | { kind: 'absent' }

const TRUE = sql<SqlBool>`1 = 1`
const FALSE = sql<SqlBool>`1 = 0`
const constant = (value: boolean): Compiled => (value ? TRUE : FALSE)
const not = (condition: Compiled): Compiled => sql<SqlBool>`(not ${condition})`
/** Users' and groups' nesting depth, as listGroupsOfUsers() follows it. */
const MAX_GROUP_DEPTH = 32

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

/** The string an element filter requires `value` to equal, if any (`[type eq "work" and value eq "x"]`). */
function requiredValue(filter: Filter): string | undefined {
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

function isExactlyValueEq(filter: Filter): boolean {
  return filter.op === 'eq' && filter.attrPath.toLowerCase() === 'value'
}

// ---------------------------------------------------------------------------------------------
// Attribute resolution: where each attribute of each resource type lives

/**
 * Resolves a filter or sortBy path against the resource type. Enterprise attributes may be
 * named without their URN (Entra); in a search across types, an attribute only another type
 * has is "absent"; anything else unknown is 400 invalidFilter.
 */
export function resolveFilterPath(path: string, ctx: FilterContext): Resolution {
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

function resolveLenient(resource: ResourceSchema, path: string): ResolvedAttribute | undefined {
  const resolved = resolveAttributePath(resource, path)
  if (resolved || path.toLowerCase().startsWith('urn:')) return resolved
  if (!resource.extensions.some((e) => e.id === ENTERPRISE_USER_URN)) return undefined
  return resolveAttributePath(resource, `${ENTERPRISE_USER_URN}:${path}`)
}

const textColumn = (
  column: string,
  opts: { keyed?: boolean; nullable?: boolean; byteOrdered?: boolean } = {},
): Operand => ({
  kind: 'text',
  expr: sql.ref(column),
  keyed: opts.keyed ?? false,
  nullable: opts.nullable ?? false,
  byteOrdered: opts.byteOrdered ?? false,
})

function jsonOperand(definition: AttributeDefinition, place: JsonPlace): Operand {
  if (definition.type === 'boolean') return { kind: 'boolean', place }
  return { kind: 'text', expr: jsonText(place), keyed: false, nullable: true }
}

function requireBaseUrl(ctx: FilterContext, what: string): string {
  if (ctx.baseUrl === undefined) {
    throw ScimError.invalidFilter(`'${what}' can be used only when SCIMD_BASE_URL is configured`)
  }
  return ctx.baseUrl
}

function concat(...parts: Array<RawBuilder<unknown> | string>): RawBuilder<unknown> {
  return sql`(${sql.join(
    parts.map((p) => (typeof p === 'string' ? sql`${sql.lit(p)}` : p)),
    sql` || `,
  )})`
}

function metaTarget(ctx: FilterContext): Target {
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
function jsonElements(place: JsonPlace, attribute: AttributeDefinition): ElementSet {
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
function emailElements(
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

/** A Group's members: users (group_members) and nested groups (group_parents) of this source. */
function memberElements(ctx: FilterContext): ElementSet {
  return {
    open(alias) {
      const m = sql.raw(alias)
      return {
        from: sql`(select su.id as value, 'User' as type, case when u.name <> '' then u.name else u.username end as display, 0 as kind
          from group_members gm
          join scim_source_users su on su.user_id = gm.user_id
          join users u on u.id = gm.user_id
          where gm.group_id = r.group_id and su.source_id = ${ctx.sourceId}
          union all
          select sg.id, 'Group', g.name, 1
          from group_parents gp
          join scim_source_groups sg on sg.group_id = gp.group_id
          join groups g on g.id = gp.group_id
          where gp.parent_id = r.group_id and sg.source_id = ${ctx.sourceId}) as ${m}`,
        sub(definition) {
          switch (definition.name) {
            case 'value':
            case 'type':
            case 'display':
              return {
                kind: 'text',
                expr: sql`${m}.${sql.raw(definition.name)}`,
                keyed: false,
                nullable: false,
              }
            case '$ref': {
              const base = requireBaseUrl(ctx, 'members.$ref')
              const endpoint = sql`(case when ${m}.kind = 0 then ${sql.lit(`${base}/Users/`)} else ${sql.lit(`${base}/Groups/`)} end)`
              return {
                kind: 'text',
                expr: concat(endpoint, sql`${m}.value`),
                keyed: false,
                nullable: false,
              }
            }
            default:
              throw ScimError.invalidFilter(
                `Unknown attribute 'members.${definition.name}' in filter`,
              )
          }
        },
        order: [sql`${m}.kind`, binaryOrder(ctx.dialect, sql`${m}.value`)],
      }
    },
    // members.value is case-exact: the membership tables answer it exactly, through indexes
    // (the member's id, its memberships, then the groups' (source_id, id) rows).
    byValue: (value) => ({
      condition: sql<SqlBool>`r.id in (select sg.id from group_members gm
          join scim_source_users su on su.user_id = gm.user_id
          join scim_source_groups sg on sg.group_id = gm.group_id
          where su.source_id = ${ctx.sourceId} and su.id = ${value} and sg.source_id = ${ctx.sourceId}
        union all
        select sg.id from group_parents gp
          join scim_source_groups child on child.group_id = gp.group_id
          join scim_source_groups sg on sg.group_id = gp.parent_id
          where child.source_id = ${ctx.sourceId} and child.id = ${value} and sg.source_id = ${ctx.sourceId})`,
      exact: true,
    }),
  }
}

/** A User's groups (RFC 7643 §4.1.2): direct ones and those reached through nesting, as listGroupsOfUsers() computes them. */
function userGroupElements(ctx: FilterContext): ElementSet {
  return {
    open(alias) {
      const g = sql.raw(alias)
      return {
        from: sql`(with recursive reach(id, depth) as (
            select gm.group_id, 0 from group_members gm where gm.user_id = r.user_id
            union
            select gp.parent_id, reach.depth + 1 from group_parents gp join reach on gp.group_id = reach.id
            where reach.depth < ${sql.lit(MAX_GROUP_DEPTH)})
          select g.id as value, g.name as display,
            case when min(reach.depth) = 0 then 'direct' else 'indirect' end as type
          from reach
          join groups g on g.id = reach.id
          join scim_source_groups sg on sg.group_id = g.id and sg.source_id = ${ctx.sourceId}
          group by g.id, g.name) as ${g}`,
        sub(definition) {
          switch (definition.name) {
            case 'value':
            case 'type':
            case 'display':
              return {
                kind: 'text',
                expr: sql`${g}.${sql.raw(definition.name)}`,
                keyed: false,
                nullable: false,
              }
            case '$ref': {
              const base = requireBaseUrl(ctx, 'groups.$ref')
              return {
                kind: 'text',
                expr: concat(`${base}/Groups/`, sql`${g}.value`),
                keyed: false,
                nullable: false,
              }
            }
            default:
              throw ScimError.invalidFilter(
                `Unknown attribute 'groups.${definition.name}' in filter`,
              )
          }
        },
        order: [binaryOrder(ctx.dialect, sql`${g}.value`)],
      }
    },
  }
}

/** Where a resolved attribute (not its sub-attribute) lives for this resource type. */
function attributeTarget(resolved: ResolvedAttribute, ctx: FilterContext): Target {
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

// ---------------------------------------------------------------------------------------------
// Comparisons

/** A boolean filter value: true/false, or the strings "true"/"false" in any case (Entra). */
function toBoolean(value: Value): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
}

/**
 * An ISO-8601 dateTime (RFC 7643 §2.3.5) as the stored form (`toISOString()`), or
 * undefined. Dates and year-months (`2021-09`) mean their first instant; a missing offset
 * means UTC; fractions of any length (Microsoft sends 7 digits) are cut to milliseconds.
 */
export function parseDateTime(text: string): string | undefined {
  const m =
    /^(\d{4})-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?$/.exec(
      text.trim(),
    )
  if (!m) return undefined
  const [, y, mo, d = '01', h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'))
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const check = new Date(0)
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  check.setUTCHours(Number(h), Number(mi), Number(s), ms)
  let time = check.getTime()
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined
  }
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const [offsetHours, offsetMinutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))]
    // RFC 3339 §5.6: an offset is hours 00-23 and minutes 00-59 (+25:00 is no offset).
    if (offsetHours > 23 || offsetMinutes > 59) return undefined
    time -= sign * (offsetHours * 60 + offsetMinutes) * 60_000
  }
  if (Number(y) < 1) return undefined
  const iso = new Date(time).toISOString()
  // Years beyond 9999 print as +010000-…, which would not compare as text.
  return /^\d{4}-/.test(iso) ? iso : undefined
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

function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}

function like(expr: RawBuilder<unknown>, pattern: string): Compiled {
  return sql<SqlBool>`${expr} like ${pattern} escape '\\'`
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

/** Compares code point by code point, as SQLite's BINARY and PostgreSQL's "C" collations do. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a]
  const y = [...b]
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) as number) - (y[i]?.codePointAt(0) as number)
    if (d !== 0) return d
  }
  return x.length - y.length
}

/** The same comparisons in JavaScript, for constant operands (`meta.resourceType`). */
function compareText(
  actual: string | undefined,
  op: Exclude<Comparison['op'], 'pr' | 'ne'>,
  wanted: string,
): boolean {
  if (actual === undefined) return false
  switch (op) {
    case 'eq':
      return actual === wanted
    case 'gt':
      return compareCodePoints(actual, wanted) > 0
    case 'ge':
      return compareCodePoints(actual, wanted) >= 0
    case 'lt':
      return compareCodePoints(actual, wanted) < 0
    case 'le':
      return compareCodePoints(actual, wanted) <= 0
    case 'co':
      return actual.includes(wanted)
    case 'sw':
      return actual.startsWith(wanted)
    case 'ew':
      return actual.endsWith(wanted)
    default:
      return assertNever(op)
  }
}

// ---------------------------------------------------------------------------------------------
// Sort keys (used by sort.ts)

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
