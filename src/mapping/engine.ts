/**
 * Property mapping expressions (JSONata): compiled once per mapping version, evaluated with a
 * time, depth and sequence limit, results deep-merged in name order as authentik merges them.
 */
import jsonata from 'jsonata'
import { compileSimple, type SimpleExpression, UNHANDLED } from './simple.js'

/** A mapping as the engine needs it; `updatedAt` versions the compiled form. */
export interface MappingDefinition {
  id: string
  name: string
  expression: string
  updatedAt: string
}

/**
 * Limits of one evaluation. JSONata checks them as it walks the expression, so a loop or a
 * runaway recursion stops with D1012 / D1011 / D2015 and nothing runs on. JSONata has no
 * I/O: an expression sees only its input and the functions bound below.
 */
export const LIMITS = { timeoutMs: 250, stack: 200, sequence: 100_000 } as const

/** Thrown by an expression through `$skipObject()`: authentik's SkipObject. */
export class SkipObject extends Error {
  override name = 'SkipObject'
  readonly mapping: string
  constructor(mapping: string) {
    super(`Property mapping '${mapping}' skipped this object`)
    this.mapping = mapping
  }
}

/** A mapping that does not compile, fails, or returns what cannot be merged. */
export class MappingError extends Error {
  override name = 'MappingError'
  readonly mapping: string
  readonly reason: string
  constructor(mapping: string, reason: string) {
    super(`Property mapping '${mapping}' failed: ${reason}`)
    this.mapping = mapping
    this.reason = reason
  }
}

/** What JSONata throws: an Error, or (for some syntax errors) a plain object with a message. */
function reasonOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, message, position } = err as {
      code?: unknown
      message?: unknown
      position?: unknown
    }
    const text = typeof message === 'string' ? message : String(err)
    const at = typeof position === 'number' ? ` at position ${position}` : ''
    return typeof code === 'string' ? `${code}: ${text}${at}` : `${text}${at}`
  }
  return String(err)
}

/** The syntax error of an expression, or undefined if it compiles (admin API validation). */
export function syntaxError(expression: string): string | undefined {
  try {
    jsonata(expression)
    return undefined
  } catch (err) {
    return reasonOf(err)
  }
}

/**
 * A mapping compiled once: JSONata's expression, and for a simple one (simple.ts) the same
 * as a synchronous JavaScript function, which spares a create JSONata's promise per node.
 */
interface Compiled {
  expression: jsonata.Expression
  simple: SimpleExpression | undefined
}

/** Compiled expressions by mapping id and version; bounded, oldest dropped first. */
const compiled = new Map<string, Compiled>()
const MAX_COMPILED = 1000

function compile(mapping: MappingDefinition): Compiled {
  const key = `${mapping.id}\n${mapping.updatedAt}`
  const hit = compiled.get(key)
  if (hit) return hit
  let expression: jsonata.Expression
  try {
    expression = jsonata(mapping.expression, {
      timeout: LIMITS.timeoutMs,
      stack: LIMITS.stack,
      sequence: LIMITS.sequence,
    })
  } catch (err) {
    throw new MappingError(mapping.name, reasonOf(err))
  }
  if (compiled.size >= MAX_COMPILED) {
    const oldest = compiled.keys().next().value
    if (oldest !== undefined) compiled.delete(oldest)
  }
  const entry = { expression, simple: compileSimple(expression.ast()) }
  compiled.set(key, entry)
  return entry
}

/** How many compiled expressions are cached (tests check that a mapping compiles once). */
export function compiledCount(): number {
  return compiled.size
}

/** Whether the mapping runs as JavaScript (simple.ts) rather than through JSONata. */
export function isCompiledToJavaScript(mapping: MappingDefinition): boolean {
  return compile(mapping).simple !== undefined
}

/**
 * The mapping's plain JSON result by its JavaScript form, without a promise; UNHANDLED if
 * it has none or this input needs JSONata (evaluateMapping then gives the result).
 */
function evaluateSimple(mapping: MappingDefinition, input: Record<string, unknown>): unknown {
  const { simple } = compile(mapping)
  if (!simple) return UNHANDLED
  const result = simple(input)
  return result === UNHANDLED ? UNHANDLED : plainJson(result)
}

/**
 * Evaluates one mapping against `input` (its variables are the input's keys: `data`,
 * `source`, `user`, …). Throws SkipObject or MappingError; returns the plain JSON result.
 */
export async function evaluateMapping(
  mapping: MappingDefinition,
  input: Record<string, unknown>,
): Promise<unknown> {
  const simple = evaluateSimple(mapping, input)
  if (simple !== UNHANDLED) return simple
  return evaluateJsonata(mapping, input)
}

/** evaluateMapping by JSONata alone (tests hold the JavaScript form to it). */
export async function evaluateJsonata(
  mapping: MappingDefinition,
  input: Record<string, unknown>,
): Promise<unknown> {
  const { expression } = compile(mapping)
  try {
    const result = await expression.evaluate(input, {
      skipObject: () => {
        throw new SkipObject(mapping.name)
      },
    })
    // JSONata builds objects without a prototype and may return functions: plain JSON only.
    return plainJson(result)
  } catch (err) {
    if (err instanceof SkipObject) throw err
    throw new MappingError(mapping.name, reasonOf(err))
  }
}

/**
 * `value` as JSON.parse(JSON.stringify(value)) would give it back (functions and undefined
 * dropped from objects and null in arrays, non-finite numbers null, objects with a
 * prototype again), without the text in between: a third of the cost for a mapping's
 * small results, which every create of a source with mappings copies twice.
 */
export function plainJson(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  // JSON writes -0 as 0.
  if (typeof value === 'number') return Number.isFinite(value) ? value || 0 : null
  if (Array.isArray(value)) return value.map((v) => plainJson(v) ?? null)
  if (typeof value !== 'object') return undefined
  const json = (value as { toJSON?: unknown }).toJSON
  if (typeof json === 'function') return plainJson(json.call(value))
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const v = plainJson((value as Record<string, unknown>)[key])
    if (v === undefined) continue
    // JSON.parse makes `__proto__` an own key; assigning it would set the prototype.
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } else out[key] = v
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * authentik's merge of mapping results: objects merge key by key, lists append the items
 * they do not have yet, anything else is replaced. `into` is changed and returned.
 */
export function deepMerge(
  into: Record<string, unknown>,
  from: Record<string, unknown>,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(from)) {
    // A mapping may return any key: never let one reach the prototype.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue
    const current = into[key]
    if (isPlainObject(current) && isPlainObject(value)) {
      into[key] = deepMerge({ ...current }, value)
    } else if (Array.isArray(current) && Array.isArray(value)) {
      const seen = new Set(current.map((v) => JSON.stringify(v)))
      into[key] = [...current, ...value.filter((v) => !seen.has(JSON.stringify(v)))]
    } else {
      into[key] = value
    }
  }
  return into
}

/** Drops keys whose value is null, at every depth (authentik drops None values). */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v === null) continue
    out[key] = isPlainObject(v) ? withoutNulls(v) : v
  }
  return out
}

export type MappingOutcome =
  | { skipped: false; result: Record<string, unknown> }
  | { skipped: true; by: string }

/**
 * Runs mappings in name order over `input`, deep-merging each object result onto `base`
 * (a result that is not an object is ignored, as authentik ignores it); null values are
 * dropped at the end. The first SkipObject ends the run.
 */
export async function runMappings(
  mappings: readonly MappingDefinition[],
  input: Record<string, unknown>,
  base: Record<string, unknown> = {},
): Promise<MappingOutcome> {
  const ordered = [...mappings].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1,
  )
  let result = plainJson(base) as Record<string, unknown>
  for (const mapping of ordered) {
    try {
      // A simple mapping's result needs no await (a create with one pays no promise).
      let value = evaluateSimple(mapping, input)
      if (value === UNHANDLED) value = await evaluateJsonata(mapping, input)
      if (isPlainObject(value)) result = deepMerge(result, value)
    } catch (err) {
      if (err instanceof SkipObject) return { skipped: true, by: err.mapping }
      throw err
    }
  }
  return { skipped: false, result: withoutNulls(result) }
}
