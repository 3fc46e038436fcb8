/** Simple mapping expressions compiled from JSONata's parsed tree to synchronous JavaScript. */

/**
 * What a compiled expression returns when this input needs more of JSONata than it copies
 * (a path through an array, a function given what is not a string, …): the caller then
 * evaluates the expression with JSONata itself, which gives the result or the error.
 */
export const UNHANDLED: unique symbol = Symbol('unhandled')

/** A compiled expression: JSONata's result for `input`, or UNHANDLED. */
export type SimpleExpression = (input: Record<string, unknown>) => unknown

type Compiled = (input: Record<string, unknown>) => unknown

/**
 * Deeper trees are left to JSONata, whose stack limit (engine.ts LIMITS.stack) counts one
 * frame or two per level: far below it, a compiled tree can never be one JSONata stops.
 */
const MAX_DEPTH = 32

/** JSONata refuses these object keys (D1013); a prototype key is left to it as well. */
const REFUSED_KEYS = new Set(['_jsonata_lambda', '_jsonata_function', '__proto__'])

const hasOwn = Object.prototype.hasOwnProperty

type Node = Record<string, unknown>

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The node has no key beyond `allowed`: anything else (stages, predicates, groups, focus,
 * keepArray, tuple, …) changes JSONata's evaluation and is left to it. */
function only(node: Node, allowed: readonly string[]): boolean {
  for (const key of Object.keys(node)) if (!allowed.includes(key)) return false
  return true
}

const LITERAL_KEYS = ['type', 'value', 'position'] as const

/**
 * JSONata's `$string` and `&` conversion (functions.js `string`) for the values a compiled
 * expression meets; arrays and objects (JSON with JSONata's number rounding) are left to it.
 */
function toText(value: unknown): string | typeof UNHANDLED {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (value === null) return 'null'
  if (typeof value === 'number' && Number.isFinite(value)) {
    return JSON.stringify(Number.isInteger(value) ? value : Number(value.toPrecision(15)))
  }
  return UNHANDLED
}

/**
 * A path of plain names (`data.name.familyName`) read from the input document. Through
 * objects only, JSONata's sequences reduce to this: a missing key (own keys only) or a step
 * into a non-object gives undefined, null stays null, and an array met at the last step is
 * returned as it is. An array met before the last step flattens into a sequence, and an
 * object flagged `_jsonata_function` or `_jsonata_lambda` (a client may send one) is not
 * looked into: both left to JSONata.
 */
function path(steps: string[]): Compiled {
  const last = steps.length - 1
  return (input) => {
    let current: unknown = input
    for (let i = 0; i <= last; i++) {
      if (typeof current !== 'object' || current === null) return undefined
      if (Array.isArray(current)) return UNHANDLED
      // JSONata takes an object flagged as one of its functions for a function: no keys.
      const flags = current as { _jsonata_function?: unknown; _jsonata_lambda?: unknown }
      if (flags._jsonata_function === true || flags._jsonata_lambda === true) return UNHANDLED
      const key = steps[i] as string
      if (!hasOwn.call(current, key)) return undefined
      current = (current as Record<string, unknown>)[key]
    }
    return current
  }
}

/**
 * An object constructor with literal keys, evaluated on the input document (an object, so
 * JSONata's grouping makes one group per key): undefined values are dropped, keys keep
 * JSONata's order (both objects are built by assignment in the same order).
 */
function object(pairs: [string, Compiled][]): Compiled {
  return (input) => {
    const out: Record<string, unknown> = Object.create(null)
    for (const [key, value] of pairs) {
      const v = value(input)
      if (v === UNHANDLED) return UNHANDLED
      if (v !== undefined) out[key] = v
    }
    return out
  }
}

/** The string functions whose JSONata implementation is one JavaScript call on a string. */
const STRING_FUNCTIONS: Record<string, (text: string) => string> = {
  lowercase: (text) => text.toLowerCase(),
  uppercase: (text) => text.toUpperCase(),
  // functions.js `trim`: runs of space, tab, CR, LF become one space, one cut at each end.
  trim: (text) => {
    let result = text.replace(/[ \t\n\r]+/g, ' ')
    if (result.charAt(0) === ' ') result = result.substring(1)
    if (result.charAt(result.length - 1) === ' ') result = result.substring(0, result.length - 1)
    return result
  },
}

function call(name: string, argument: Compiled): Compiled | undefined {
  if (name === 'string') {
    return (input) => {
      const v = argument(input)
      // undefined passes through JSONata's argument checks in ways not worth copying.
      if (v === UNHANDLED || v === undefined) return UNHANDLED
      return toText(v)
    }
  }
  const apply = STRING_FUNCTIONS[name]
  if (!apply) return undefined
  return (input) => {
    const v = argument(input)
    // Anything but a string is JSONata's to accept (undefined) or refuse (T0410).
    return typeof v === 'string' ? apply(v) : UNHANDLED
  }
}

/** `a & b`: each side as `$string` gives it, undefined as ''. */
function concat(lhs: Compiled, rhs: Compiled): Compiled {
  return (input) => {
    const l = lhs(input)
    if (l === UNHANDLED) return UNHANDLED
    const r = rhs(input)
    if (r === UNHANDLED) return UNHANDLED
    const lt = l === undefined ? '' : toText(l)
    const rt = r === undefined ? '' : toText(r)
    if (lt === UNHANDLED || rt === UNHANDLED) return UNHANDLED
    return lt + rt
  }
}

function compileNode(node: unknown, depth: number): Compiled | undefined {
  if (!isNode(node) || depth > MAX_DEPTH) return undefined
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      if (!only(node, LITERAL_KEYS)) return undefined
      const value = node.value
      return () => value
    }
    case 'path': {
      if (!only(node, ['type', 'steps']) || !Array.isArray(node.steps)) return undefined
      const steps: string[] = []
      for (const step of node.steps) {
        if (!isNode(step) || step.type !== 'name' || !only(step, LITERAL_KEYS)) return undefined
        if (typeof step.value !== 'string') return undefined
        steps.push(step.value)
      }
      return steps.length > 0 ? path(steps) : undefined
    }
    case 'unary': {
      if (node.value !== '{' || !only(node, ['type', 'value', 'position', 'lhs'])) return undefined
      if (!Array.isArray(node.lhs)) return undefined
      const pairs: [string, Compiled][] = []
      const seen = new Set<string>()
      for (const pair of node.lhs) {
        if (!Array.isArray(pair) || pair.length !== 2) return undefined
        const [key, value] = pair as [unknown, unknown]
        // A computed key, a key given twice (D1009) or a refused one: JSONata's to handle.
        if (!isNode(key) || key.type !== 'string' || !only(key, LITERAL_KEYS)) return undefined
        if (typeof key.value !== 'string' || seen.has(key.value) || REFUSED_KEYS.has(key.value))
          return undefined
        seen.add(key.value)
        const compiled = compileNode(value, depth + 1)
        if (!compiled) return undefined
        pairs.push([key.value, compiled])
      }
      return object(pairs)
    }
    case 'function': {
      // The parser sets `name` (undefined here) on every call.
      if (!only(node, ['type', 'name', 'value', 'position', 'arguments', 'procedure']))
        return undefined
      if (node.name !== undefined) return undefined
      const procedure = node.procedure
      if (!isNode(procedure) || procedure.type !== 'variable' || !only(procedure, LITERAL_KEYS))
        return undefined
      // With no argument these functions read the context: left to JSONata.
      if (!Array.isArray(node.arguments) || node.arguments.length !== 1) return undefined
      const argument = compileNode(node.arguments[0], depth + 1)
      if (!argument || typeof procedure.value !== 'string') return undefined
      return call(procedure.value, argument)
    }
    case 'binary': {
      if (node.value !== '&' || !only(node, ['type', 'value', 'position', 'lhs', 'rhs']))
        return undefined
      const lhs = compileNode(node.lhs, depth + 1)
      const rhs = compileNode(node.rhs, depth + 1)
      return lhs && rhs ? concat(lhs, rhs) : undefined
    }
    default:
      return undefined
  }
}

/**
 * The expression (JSONata's parsed tree, `jsonata(text).ast()`) as a synchronous function,
 * if it is made only of what this file copies exactly: object constructors with literal
 * keys, literals, paths of plain names, `&`, and `$string`, `$lowercase`, `$uppercase`,
 * `$trim` of one argument. Anything else is undefined: JSONata evaluates it. A compiled
 * function has no loop but over the path's steps, so JSONata's time limit has nothing to
 * stop, and it reads only its input.
 */
export function compileSimple(ast: unknown): SimpleExpression | undefined {
  const compiled = compileNode(ast, 0)
  if (!compiled) return undefined
  return (input) => (Array.isArray(input) ? UNHANDLED : compiled(input))
}
