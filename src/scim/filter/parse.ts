/**
 * Filter text (RFC 7644 §3.4.2.2) to the tree, through scim2-parse-filter, with the
 * leniencies real clients need; bad syntax is 400 invalidFilter.
 */
import { parse } from 'scim2-parse-filter'
import { ScimError } from '../errors.js'
import { type Filter, NUMBER_TEXT } from './ast.js'

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
