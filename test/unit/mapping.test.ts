/**
 * The mapping engine (issue 28): JSONata compiled once per mapping version, authentik's
 * deep merge in name order, SkipObject, limits, and the provider's body function.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { up } from '../../db/migrations/2026_12_07_1900_create_property_mappings.js'
import {
  compiledCount,
  deepMerge,
  evaluateMapping,
  type MappingDefinition,
  MappingError,
  plainJson,
  runMappings,
  SkipObject,
} from '../../src/mapping/engine.js'
import { buildScimBody, defaultScimBody, type MappedUser } from '../../src/mapping/provider.js'

let n = 0
function mapping(name: string, expression: string, updatedAt = 't0'): MappingDefinition {
  n += 1
  return { id: `m-${n}`, name, expression, updatedAt }
}

/** The managed mappings the migration seeds, read from it with a recording stand-in. */
async function managedExpressions(): Promise<Map<string, string>> {
  const rows = new Map<string, string>()
  const recorder: unknown = new Proxy(
    {},
    {
      get: (_target, prop) => {
        if (prop === 'insertInto')
          return () => ({
            values: (values: { managed: string; expression: string }[]) => {
              for (const v of values) rows.set(v.managed, v.expression)
              return { execute: async () => undefined }
            },
          })
        if (prop === 'getExecutor') return () => ({ adapter: {} })
        // Schema calls: a chain that ends in execute().
        const chain: unknown = new Proxy(() => chain, {
          get: (_t, p) => (p === 'execute' ? async () => undefined : chain),
          apply: () => chain,
        })
        return chain
      },
    },
  )
  await up(recorder as never)
  return rows
}

const USERS: MappedUser[] = [
  {
    pk: 1,
    uuid: 'u-1',
    username: 'ada',
    name: 'Ada King Lovelace',
    email: 'ada@example.com',
    is_active: true,
    type: 'internal',
    path: 'users',
    attributes: {},
  },
  {
    pk: 2,
    uuid: 'u-2',
    username: 'solo',
    name: ' Plato ',
    email: '',
    is_active: false,
    type: 'internal',
    path: 'users',
    attributes: {},
  },
  {
    pk: 3,
    uuid: 'u-3',
    username: 'anon',
    name: '',
    email: 'a@b.c',
    is_active: true,
    type: 'external',
    path: 'users',
    attributes: {},
  },
]

describe('plainJson', () => {
  it('gives what a JSON round trip gives, for JSON and for what JSONata may return', () => {
    const odd = fc.oneof(
      fc.constant(undefined),
      fc.constant(() => 1),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
      fc.date({ noInvalidDate: true }),
      fc.constant(Object.assign(Object.create(null), { a: 1 })),
      fc.constant(JSON.parse('{"__proto__": {"x": 1}}')),
    )
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), odd, tie('arr'), tie('obj')),
      arr: fc.array(tie('any'), { maxLength: 4 }),
      obj: fc.dictionary(fc.string(), tie('any'), { maxKeys: 4 }),
    })).any
    fc.assert(
      fc.property(value, (v) => {
        const text = JSON.stringify(v)
        expect(plainJson(v)).toStrictEqual(text === undefined ? undefined : JSON.parse(text))
      }),
    )
  })
})

describe('mapping engine', () => {
  it('merges as authentik: objects deep, lists without duplicates, the rest replaced', () => {
    const merged = deepMerge({ a: { b: 1, c: [1, 2] }, d: 'x', keep: true }, {
      a: { c: [2, 3], e: 2 },
      d: 'y',
      __proto__: { polluted: true },
    } as never)
    expect(merged).toEqual({ a: { b: 1, c: [1, 2, 3], e: 2 }, d: 'y', keep: true })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('runs in name order, ignores results that are not objects, drops nulls', async () => {
    const outcome = await runMappings(
      [
        mapping('z last', '{ "v": "z", "gone": null }'),
        mapping('a first', '{ "v": "a", "gone": "here", "list": [1] }'),
        mapping('m not an object', '"a string"'),
      ],
      {},
      { base: true },
    )
    expect(outcome).toEqual({ skipped: false, result: { base: true, v: 'z', list: [1] } })
  })

  it('compiles a mapping once per version', async () => {
    const m = mapping('once', '{ "x": data.x }')
    const before = compiledCount()
    for (let i = 0; i < 20; i++) await evaluateMapping(m, { data: { x: i } })
    expect(compiledCount()).toBe(before + 1)
    await evaluateMapping({ ...m, updatedAt: 't1' }, { data: { x: 1 } })
    expect(compiledCount()).toBe(before + 2)
  })

  it('says skip with $skipObject(), and names a failing mapping', async () => {
    await expect(evaluateMapping(mapping('skipper', '$skipObject()'), {})).rejects.toBeInstanceOf(
      SkipObject,
    )
    const outcome = await runMappings([mapping('skipper', '$skipObject()')], {})
    expect(outcome).toEqual({ skipped: true, by: 'skipper' })
    const err = (await evaluateMapping(mapping('bad', '$nope()'), {}).catch(
      (e) => e,
    )) as MappingError
    expect(err).toBeInstanceOf(MappingError)
    expect(err.mapping).toBe('bad')
  })

  it('reaches nothing outside its input: no process, require or globals', async () => {
    for (const expression of ['$process', '$require', 'process.env', '$globalThis']) {
      const result = await evaluateMapping(mapping('probe', expression), {}).catch((e) => e)
      expect(result === undefined || result instanceof MappingError, expression).toBe(true)
    }
  })

  it('stops runaway expressions: recursion, huge ranges, endless loops', async () => {
    for (const expression of [
      '($f := function($n) { $f($n + 1) }; $f(0))',
      '$count([1..100000000])',
      '($f := function($n) { $n > 1e12 ? $n : $f($n + 1) }; $f(0))',
    ]) {
      const err = await evaluateMapping(mapping('runaway', expression), {}).catch((e) => e)
      expect(err, expression).toBeInstanceOf(MappingError)
    }
  })
})

describe('buildScimBody (provider mappings)', () => {
  it('with no mappings sends exactly what the managed default mapping builds', async () => {
    const managed = await managedExpressions()
    const expression = managed.get('goauthentik.io/providers/scim/user') as string
    const userDefault = mapping('authentik default SCIM Mapping: User', expression)
    for (const user of USERS) {
      const built = await buildScimBody([], { kind: 'user', user })
      const evaluated = await buildScimBody([userDefault], { kind: 'user', user })
      expect(evaluated, user.username).toEqual(built)
    }
    const groupExpression = managed.get('goauthentik.io/providers/scim/group') as string
    const group = { pk: 'g-1', name: 'Sales', is_superuser: false, attributes: {} }
    expect(await buildScimBody([mapping('g', groupExpression)], { kind: 'group', group })).toEqual({
      skipped: false,
      result: defaultScimBody({ kind: 'group', group }),
    })
  })

  it('merges a custom mapping onto the default one in name order', async () => {
    const managed = await managedExpressions()
    const outcome = await buildScimBody(
      [
        mapping(
          'authentik default SCIM Mapping: User',
          managed.get('goauthentik.io/providers/scim/user') as string,
        ),
        mapping('department', '{ "title": $uppercase(user.username), "active": false }'),
      ],
      { kind: 'user', user: USERS[0] as MappedUser },
    )
    expect(outcome.skipped).toBe(false)
    if (!outcome.skipped) {
      expect(outcome.result).toMatchObject({ userName: 'ada', title: 'ADA', active: false })
      expect(outcome.result.name).toEqual({
        formatted: 'Ada King Lovelace',
        givenName: 'Ada',
        familyName: 'King Lovelace',
      })
    }
  })
})
