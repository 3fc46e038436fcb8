/**
 * Simple mappings compiled to JavaScript (src/mapping/simple.ts) give exactly JSONata's
 * result: random documents and random expressions of the supported shapes, evaluated both
 * ways (issue 28: one simple mapping's cost on POST /Users).
 */
import fc from 'fast-check'
import jsonata from 'jsonata'
import { describe, expect, it } from 'vitest'
import {
  evaluateJsonata,
  evaluateMapping,
  isCompiledToJavaScript,
  type MappingDefinition,
  runMappings,
} from '../../src/mapping/engine.js'
import { compileSimple, UNHANDLED } from '../../src/mapping/simple.js'

/**
 * A value with everything a comparison must see: key order, undefined apart from null and
 * from a missing key, -0 apart from 0, arrays apart from objects, prototypes ignored (both
 * sides build objects without one).
 */
function shape(value: unknown): unknown {
  if (value === undefined) return ['undefined']
  if (Array.isArray(value)) return ['array', ...value.map(shape)]
  if (typeof value === 'object' && value !== null) {
    return ['object', ...Object.keys(value).map((k) => [k, shape((value as never)[k])])]
  }
  if (Object.is(value, -0)) return ['-0']
  return [typeof value, value]
}

/** Keys the documents and the paths share, so that paths often hit (and the odd ones). */
const KEYS = [
  'a',
  'b',
  'name',
  '0',
  '12',
  'constructor',
  'toString',
  '__proto__',
  'sequence',
  '_jsonata_lambda',
]
const key = fc.constantFrom(...KEYS)

const text = fc.string({
  unit: fc.constantFrom('a', 'Z', 'ß', 'İ', ' ', '\t', '\n', '\r', '"', '.', '1', 'é'),
  maxLength: 6,
})
const leaf = fc.oneof(
  text,
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.1 + 0.2, 1e21, -0, 123456789012345680000),
  fc.boolean(),
  fc.constant(null),
)

/** An object as JSON.parse builds one: `__proto__` is an own key like any other. */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

const { document } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(objectOf),
  document: fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map(objectOf),
}))

const name = key.map((k) => `\`${k}\``)
const literal = fc.oneof(
  text.map((t) => JSON.stringify(t)),
  fc.constantFrom('1', '1.5', '-2', '0', '1e3', 'true', 'false', 'null'),
)

/** Expressions of the shapes simple.ts compiles, and a few it leaves to JSONata. */
const { expression } = fc.letrec((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small' },
    tie('path'),
    literal,
    tie('object'),
    tie('call'),
    tie('concat'),
    tie('other'),
  ),
  path: fc.array(name, { minLength: 1, maxLength: 4 }).map((steps) => steps.join('.')),
  object: fc
    .array(fc.tuple(key, tie('expression')), { maxLength: 4 })
    .map((pairs) => `{${pairs.map(([k, e]) => `${JSON.stringify(k)}: ${e}`).join(', ')}}`),
  call: fc
    .tuple(fc.constantFrom('string', 'lowercase', 'uppercase', 'trim'), tie('expression'))
    .map(([f, e]) => `$${f}(${e})`),
  concat: fc.tuple(tie('expression'), tie('expression')).map(([l, r]) => `(${l}) & (${r})`),
  // Not compiled: a filter, a wildcard, a sum, a computed key, a function on the context.
  other: fc.oneof(
    tie('path').map((p) => `${p}[0]`),
    tie('path').map((p) => `${p}.*`),
    tie('path').map((p) => `${p} + 1`),
    tie('path').map((p) => `{${p}: 1}`),
    fc.constant('$string()'),
  ),
}))

/** JSONata's own result, or the error code it threw. */
async function viaJsonata(text: string, input: Record<string, unknown>) {
  try {
    return { ok: true as const, value: await jsonata(text).evaluate(input) }
  } catch (err) {
    return { ok: false as const, code: (err as { code?: string }).code }
  }
}

describe('simple mappings compiled to JavaScript', () => {
  it('give JSONata’s result wherever they give one (random documents and expressions)', async () => {
    let compiled = 0
    let handled = 0
    await fc.assert(
      fc.asyncProperty(expression as fc.Arbitrary<string>, document, async (text, doc) => {
        const input = doc as Record<string, unknown>
        let ast: unknown
        try {
          ast = jsonata(text).ast()
        } catch {
          return // the generator can write what does not parse: nothing to compare
        }
        const simple = compileSimple(ast)
        if (!simple) return
        compiled++
        const mine = simple(input)
        if (mine === UNHANDLED) return
        handled++
        const theirs = await viaJsonata(text, input)
        expect(theirs.ok ? shape(theirs.value) : theirs.code).toEqual(shape(mine))
      }),
      { numRuns: 3000 },
    )
    // The property is not vacuous: most runs compare the two.
    expect(compiled).toBeGreaterThan(1000)
    expect(handled).toBeGreaterThan(800)
  })

  it('keep object keys in JSONata’s order, integer-like keys first', async () => {
    const text = '{ "b": 1, "10": 2, "a": data.x, "2": data.missing, "c": null }'
    const simple = compileSimple(jsonata(text).ast())
    const input = { data: { x: [1, { y: 2 }] } }
    const mine = simple?.(input)
    expect(Object.keys(mine as object)).toEqual(['10', 'b', 'a', 'c'])
    expect(shape(mine)).toEqual(shape(await jsonata(text).evaluate(input)))
  })

  it('turn numbers into text as JSONata does (15 significant digits)', async () => {
    const text = '{ "s": $string(data.x), "c": data.x & "", "b": $string(data.b) }'
    const simple = compileSimple(jsonata(text).ast())
    for (const x of [0.1 + 0.2, 1e21, -0, 1.5, 123456789012345680000, 2 ** 53 + 2, 1 / 3]) {
      const input = { data: { x, b: false } }
      const mine = simple?.(input)
      expect(mine).not.toBe(UNHANDLED)
      expect(shape(mine)).toEqual(shape(await jsonata(text).evaluate(input)))
    }
  })

  it('return a path’s array at the last step as JSONata does, and leave one met before to it', async () => {
    const last = compileSimple(jsonata('data.emails').ast())
    const input = { data: { emails: [{ value: 'a@x' }], empty: [], one: ['x'] } }
    expect(last?.(input)).toEqual([{ value: 'a@x' }])
    expect(compileSimple(jsonata('data.empty').ast())?.(input)).toEqual([])
    expect(compileSimple(jsonata('data.one').ast())?.(input)).toEqual(['x'])
    // JSONata flattens `emails.value` into a sequence: not copied, so not answered here.
    expect(compileSimple(jsonata('data.emails.value').ast())?.(input)).toBe(UNHANDLED)
    expect(await jsonata('data.emails.value').evaluate(input)).toBe('a@x')
  })

  it('leave to JSONata what it refuses: a non-string to $lowercase, a key given twice, a “function”', async () => {
    const lower = compileSimple(jsonata('$lowercase(data.n)').ast())
    expect(lower?.({ data: { n: 3 } })).toBe(UNHANDLED)
    await expect(jsonata('$lowercase(data.n)').evaluate({ data: { n: 3 } })).rejects.toMatchObject({
      code: 'T0410',
    })
    const flagged = { data: { w: { _jsonata_lambda: true, x: 1 } } }
    expect(compileSimple(jsonata('data.w.x').ast())?.(flagged)).toBe(UNHANDLED)
    expect(await jsonata('data.w.x').evaluate(flagged)).toBeUndefined()
    expect(compileSimple(jsonata('{ "a": 1, "a": 2 }').ast())).toBeUndefined()
    expect(compileSimple(jsonata('{ "__proto__": 1 }').ast())).toBeUndefined()
    expect(compileSimple(jsonata('$skipObject()').ast())).toBeUndefined()
    expect(compileSimple(jsonata('data.emails[primary = true].value').ast())).toBeUndefined()
  })
})

describe('the engine with compiled mappings', () => {
  let n = 0
  const mapping = (expression: string): MappingDefinition => {
    n += 1
    return { id: `simple-${n}`, name: `m${n}`, expression, updatedAt: 't' }
  }

  it('runs the bench’s mapping and the usual shapes as JavaScript', () => {
    for (const text of [
      '{ "attributes": { "family": data.name.familyName } }',
      '{ "username": $lowercase(data.userName), "name": data.name.givenName & " " & data.name.familyName }',
      '{ "attributes": { "department": data.`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.department } }',
    ]) {
      expect(isCompiledToJavaScript(mapping(text))).toBe(true)
    }
    expect(isCompiledToJavaScript(mapping('$skipObject()'))).toBe(false)
  })

  it('gives the same plain JSON by either road, and falls back where JavaScript cannot', async () => {
    const input = {
      data: { userName: 'Ada', name: { familyName: 'King' }, emails: [{ value: 'a@x' }] },
    }
    for (const text of [
      '{ "attributes": { "family": data.name.familyName, "gone": data.name.nothing } }',
      '{ "mail": data.emails.value }',
      '{ "n": $string(data.name) }',
      '$lowercase(data.userName)',
    ]) {
      const m = mapping(text)
      expect(await evaluateMapping(m, input)).toEqual(await evaluateJsonata(m, input))
    }
    const outcome = await runMappings(
      [mapping('{ "attributes": { "mail": data.emails.value } }')],
      input,
    )
    expect(outcome).toEqual({ skipped: false, result: { attributes: { mail: 'a@x' } } })
  })

  it('still fails a mapping JSONata refuses, through the fallback', async () => {
    await expect(
      evaluateMapping(mapping('{ "u": $uppercase(data.n) }'), { data: { n: 1 } }),
    ).rejects.toMatchObject({ name: 'MappingError' })
  })
})
