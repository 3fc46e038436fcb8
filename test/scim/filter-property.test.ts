/**
 * A second opinion on filters (issue 4): random users, groups and filters; the resources a
 * filter selects in SQL must be exactly those an in-memory evaluation selects. The
 * in-memory side is scim2-parse-filter's Tester (its attribute walk: case-insensitive
 * names, URN paths, any-of over arrays) with its comparisons corrected to scimd's rules:
 * caseExact from the schema, `ne` as the complement of `eq`, absent/empty values, boolean
 * coercion of "True"/"False", dateTimes as instants, code point ordering. Runs on SQLite,
 * and on PostgreSQL when DATABASE_URL is set.
 */
import fc from 'fast-check'
import { type Filter, Tester } from 'scim2-parse-filter'
import { describe, expect, it } from 'vitest'
import { parseFilter } from '../../src/scim/filter/parse.js'
import { compareCodePoints, parseDateTime } from '../../src/scim/filter/semantics.js'
import {
  type AttributeDefinition,
  ENTERPRISE_USER_URN,
  findAttribute,
  GROUP_RESOURCE,
  type ResourceSchema,
  resolveAttributePath,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'
import { createTestApp, isPostgres, type TestApp } from '../support/app.js'

type Json = Record<string, unknown>
type Comparison = Extract<Filter, { op: 'pr' }> | Extract<Filter, { compValue: unknown }>

const foldAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) {
    return value.toLowerCase() === 'true'
  }
  return undefined
}

/** scim2-parse-filter's Tester with scimd's comparison rules. */
class Oracle extends Tester {
  readonly resource: ResourceSchema

  constructor(resource: ResourceSchema) {
    super()
    this.resource = resource
  }

  resolve(path: string) {
    const resolved =
      resolveAttributePath(this.resource, path) ??
      (path.toLowerCase().startsWith('urn:')
        ? undefined
        : resolveAttributePath(this.resource, `${ENTERPRISE_USER_URN}:${path}`))
    if (!resolved) throw new Error(`oracle: unknown ${path}`)
    const base = resolved.isExtension ? [resolved.schema.id] : []
    return { ...resolved, base }
  }

  /** Keys compared with full Unicode lower-casing: the `*_key` columns. */
  isKeyed(path: string): boolean {
    const name = this.resolve(path).canonicalPath
    return (
      (this.resource.name === 'User' && name === 'userName') ||
      (this.resource.name === 'Group' && name === 'displayName')
    )
  }

  override test(r: Json, f: Filter): boolean {
    switch (f.op) {
      case 'and':
        return f.filters.every((c) => this.test(r, c))
      case 'or':
        return f.filters.some((c) => this.test(r, c))
      case 'not':
        return !this.test(r, f.filter)
      case '[]': {
        const { attribute, base } = this.resolve(f.attrPath)
        return this.attrTest([...base, attribute.name], r, (v: unknown) => {
          const elements = Array.isArray(v) ? v : [v]
          return elements.some(
            (e) =>
              e !== null &&
              typeof e === 'object' &&
              this.element(e as Json, f.valFilter, attribute),
          )
        })
      }
      default:
        return this.comparison(r, f)
    }
  }

  comparison(r: Json, f: Comparison): boolean {
    if (f.op === 'ne' && f.compValue !== null) return !this.comparison(r, { ...f, op: 'eq' })
    if (f.op !== 'pr' && f.compValue === null) {
      const present = this.comparison(r, { op: 'pr', attrPath: f.attrPath })
      return f.op === 'eq' ? !present : present
    }
    const { attribute, subAttribute, base } = this.resolve(f.attrPath)
    const keyed = this.isKeyed(f.attrPath)
    if (attribute.type === 'complex' && !subAttribute) {
      if (f.op === 'pr') {
        return this.attrTest([...base, attribute.name], r, (v: unknown) =>
          Array.isArray(v) ? v.length > 0 : v !== null && typeof v === 'object',
        )
      }
      const value = findAttribute(attribute.subAttributes ?? [], 'value') as AttributeDefinition
      return this.attrTest([...base, attribute.name, 'value'], r, (v: unknown) =>
        compare(v, value, f, false),
      )
    }
    const definition = subAttribute ?? attribute
    const path = [...base, attribute.name, ...(subAttribute ? [subAttribute.name] : [])]
    return this.attrTest(path, r, (v: unknown) => compare(v, definition, f, keyed))
  }

  element(e: Json, f: Filter, attribute: AttributeDefinition): boolean {
    switch (f.op) {
      case 'and':
        return f.filters.every((c) => this.element(e, c, attribute))
      case 'or':
        return f.filters.some((c) => this.element(e, c, attribute))
      case 'not':
        return !this.element(e, f.filter, attribute)
      case '[]':
        throw new Error('oracle: nested value filter')
      default: {
        const definition = findAttribute(attribute.subAttributes ?? [], f.attrPath)
        if (!definition) throw new Error(`oracle: unknown ${f.attrPath}`)
        if (f.op === 'ne' && f.compValue !== null) {
          return !this.element(e, { ...f, op: 'eq' }, attribute)
        }
        if (f.op !== 'pr' && f.compValue === null) {
          const present = this.element(e, { op: 'pr', attrPath: f.attrPath }, attribute)
          return f.op === 'eq' ? !present : present
        }
        return this.attrTest([definition.name], e, (v: unknown) => compare(v, definition, f, false))
      }
    }
  }
}

function compare(
  actual: unknown,
  definition: AttributeDefinition,
  f: Comparison,
  keyed: boolean,
): boolean {
  if (f.op === 'pr') {
    return actual !== undefined && actual !== null && actual !== ''
  }
  if (actual === undefined || actual === null) return false
  const value = f.compValue
  if (definition.type === 'boolean') {
    const wanted = toBoolean(value)
    return wanted !== undefined && actual === wanted
  }
  if (typeof value === 'boolean' || value === null || typeof actual !== 'string') return false
  const raw = String(value)
  const op = f.op
  const ordering = op === 'gt' || op === 'ge' || op === 'lt' || op === 'le'
  let a = actual
  let v = raw
  if (definition.type === 'dateTime' && (op === 'eq' || ordering)) {
    a = parseDateTime(actual) as string
    v = parseDateTime(raw) as string
  } else if (keyed && !definition.caseExact) {
    a = actual.toLowerCase()
    v = raw.toLowerCase()
  } else if (!definition.caseExact && definition.type !== 'dateTime') {
    a = foldAscii(actual)
    v = foldAscii(raw)
  }
  switch (op) {
    case 'eq':
      return a === v
    case 'gt':
      return compareCodePoints(a, v) > 0
    case 'ge':
      return compareCodePoints(a, v) >= 0
    case 'lt':
      return compareCodePoints(a, v) < 0
    case 'le':
      return compareCodePoints(a, v) <= 0
    case 'co':
      return a.includes(v)
    case 'sw':
      return a.startsWith(v)
    case 'ew':
      return a.endsWith(v)
    default:
      throw new Error(`oracle: ${op}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters chosen to exercise case folding (ASCII, non-ASCII, İ, ß), LIKE wildcards and escapes. */
const CHARS = ['a', 'A', 'b', 'B', 'é', 'É', 'ß', 'İ', 'i', '%', '_', '\\', '"', '1', ' ', '-']
const text = (max = 4) =>
  fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: max }).map((c) => c.join(''))
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const TYPES = ['work', 'home', 'Work', 'other']

const userArb = fc.record({
  userName: text(5).filter((s) => s.trim() !== ''),
  displayName: maybe(text()),
  title: maybe(fc.oneof(text(), fc.constant(''))),
  nickName: maybe(text()),
  externalId: maybe(text()),
  active: maybe(fc.boolean()),
  name: maybe(fc.record({ givenName: maybe(text()), familyName: maybe(text()) })),
  emails: maybe(
    fc.array(
      fc.record({
        value: text(),
        type: maybe(fc.constantFrom(...TYPES)),
        primary: maybe(fc.boolean()),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  phoneNumbers: maybe(
    fc.array(fc.record({ value: text(), type: maybe(fc.constantFrom(...TYPES)) }), {
      minLength: 1,
      maxLength: 2,
    }),
  ),
  addresses: maybe(
    fc.array(
      fc.record({
        locality: maybe(text()),
        country: maybe(text(2)),
        type: maybe(fc.constantFrom(...TYPES)),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  ),
  enterprise: maybe(
    fc.record({ employeeNumber: maybe(text()), department: maybe(text()), manager: maybe(text()) }),
  ),
  groups: fc.array(fc.nat(2), { maxLength: 2 }),
})
type UserSpec = typeof userArb extends fc.Arbitrary<infer T> ? T : never

/** Drops undefined members, which JSON would drop too. */
function clean<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

function userBody(u: UserSpec): Json {
  const body: Json = clean({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: u.userName,
    displayName: u.displayName,
    title: u.title,
    nickName: u.nickName,
    externalId: u.externalId,
    active: u.active,
    name: u.name,
    emails: u.emails,
    phoneNumbers: u.phoneNumbers,
    addresses: u.addresses,
  })
  if (u.enterprise) {
    const { manager, ...rest } = u.enterprise
    body[ENTERPRISE_USER_URN] = clean({
      ...rest,
      ...(manager ? { manager: { value: manager } } : {}),
    })
  }
  return body
}

/** Values worth comparing: pieces of the data, case-swapped, plus random ones. */
function valuePool(users: UserSpec[]): string[] {
  const pool = new Set<string>(['', 'a', 'A', 'work', 'WORK', '%', '_', 'é', 'É'])
  const add = (s: unknown) => {
    if (typeof s !== 'string') return
    pool.add(s)
    pool.add(s.toUpperCase())
    pool.add(s.slice(0, 2))
    pool.add(s.slice(-2))
  }
  for (const u of users) {
    for (const v of [u.userName, u.displayName, u.title, u.externalId, u.name?.familyName]) add(v)
    for (const e of u.emails ?? []) add(e.value)
    for (const p of u.phoneNumbers ?? []) add(p.value)
    for (const a of u.addresses ?? []) add(a.locality)
    add(u.enterprise?.employeeNumber)
    add(u.enterprise?.manager)
  }
  return [...pool]
}

const STRING_PATHS = [
  'userName',
  'displayName',
  'title',
  'nickName',
  'externalId',
  'name.givenName',
  'name.familyName',
  'emails',
  'emails.value',
  'emails.type',
  'phoneNumbers.value',
  'phoneNumbers.type',
  'addresses.locality',
  'addresses.country',
  'groups.display',
  'groups.type',
  `${ENTERPRISE_USER_URN}:employeeNumber`,
  `${ENTERPRISE_USER_URN}:department`,
  `${ENTERPRISE_USER_URN}:manager.value`,
  'manager',
  'meta.resourceType',
]
const PRESENCE_PATHS = [
  ...STRING_PATHS,
  'name',
  'emails',
  'phoneNumbers',
  'addresses',
  'active',
  'groups',
  'emails.primary',
]
const OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']
const ELEMENT_SUBS: Record<string, string[]> = {
  emails: ['value', 'type'],
  phoneNumbers: ['value', 'type'],
  addresses: ['locality', 'country', 'type'],
  groups: ['display', 'type'],
}

function quote(value: string | boolean | null, unquoted: boolean): string {
  if (
    typeof value === 'string' &&
    unquoted &&
    /^[a-z]+$/i.test(value) &&
    !/^(true|false|null)$/i.test(value)
  ) {
    return value
  }
  return JSON.stringify(value)
}

function filterArb(pool: string[], groupIds: string[]): fc.Arbitrary<string> {
  const name = (path: string) => fc.mixedCase(fc.constant(path))
  const op = fc.constantFrom(...OPS).chain((o) => fc.mixedCase(fc.constant(o)))
  const value = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...pool, 'User', 'user') },
    { weight: 1, arbitrary: fc.constant(null) },
  )
  const comparison = fc
    .tuple(fc.constantFrom(...STRING_PATHS).chain(name), op, value, fc.boolean())
    .map(
      ([p, o, v, u]) =>
        `${p} ${v === null ? (o.toLowerCase() === 'ne' ? 'ne' : 'eq') : o} ${quote(v, u)}`,
    )
  const presence = fc
    .constantFrom(...PRESENCE_PATHS)
    .chain(name)
    .map((p) => `${p} pr`)
  const booleans = fc
    .tuple(
      fc.constantFrom('active', 'emails.primary'),
      fc.constantFrom('eq', 'ne'),
      fc.constantFrom<string | boolean>(true, false, 'True', 'false', 'x'),
    )
    .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`)
  const groupValue =
    groupIds.length > 0
      ? fc
          .tuple(fc.constantFrom(...groupIds), fc.constantFrom('eq', 'ne'))
          .map(([id, o]) => `groups.value ${o} "${id}"`)
      : presence
  const elementLeaf = (attr: string) =>
    fc
      .tuple(fc.constantFrom(...(ELEMENT_SUBS[attr] as string[])), op, fc.constantFrom(...pool))
      .map(([s, o, v]) => `${s} ${o} ${JSON.stringify(v)}`)
  const valuePath = fc.constantFrom(...Object.keys(ELEMENT_SUBS)).chain((attr) =>
    fc
      .tuple(
        elementLeaf(attr),
        fc.option(elementLeaf(attr)),
        fc.constantFrom('and', 'or'),
        fc.boolean(),
      )
      .map(([a, b, join, negate]) => {
        const inner = b ? `${a} ${join} ${b}` : a
        return `${attr}[${negate ? `not (${inner})` : inner}]`
      }),
  )
  const leaf = fc.oneof(
    { weight: 6, arbitrary: comparison },
    { weight: 2, arbitrary: presence },
    { weight: 2, arbitrary: booleans },
    { weight: 1, arbitrary: groupValue },
    { weight: 2, arbitrary: valuePath },
  )
  const { node } = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 4, arbitrary: leaf },
      {
        weight: 1,
        arbitrary: fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(${a} and ${b})`),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(${a} or ${b})`),
      },
      { weight: 1, arbitrary: tie('node').map((a) => `not (${a})`) },
    ),
  }))
  return node
}

const groupFilterArb = (pool: string[], userIds: string[]) => {
  const member = fc.constantFrom(...userIds)
  const leaf = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('displayName', 'externalId', 'members.display', 'members.type'),
        fc.constantFrom(...OPS),
        fc.constantFrom(...pool, 'User', 'group'),
      )
      .map(([p, o, v]) => `${p} ${o} ${JSON.stringify(v)}`),
    fc.tuple(member, fc.constantFrom('eq', 'ne')).map(([id, o]) => `members.value ${o} "${id}"`),
    fc
      .tuple(member, fc.constantFrom('User', 'user', 'Group'))
      .map(([id, type]) => `members[value eq "${id}" and type eq "${type}"]`),
    fc.constantFrom('members pr', 'externalId pr', 'not (members pr)'),
  )
  return fc.oneof(
    leaf,
    fc.tuple(leaf, leaf).map(([a, b]) => `${a} or ${b}`),
    fc.tuple(leaf, leaf).map(([a, b]) => `not (${a}) and ${b}`),
  )
}

// ---------------------------------------------------------------------------------------------

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

async function seed(t: TestApp, users: UserSpec[]) {
  const wire: Json[] = []
  const groupNames = ['Alpha', 'beta_%', 'ÉQUIPE']
  const groups: string[] = []
  for (const displayName of groupNames) {
    const res = await t.scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName,
    })
    groups.push(String((await json(res)).id))
  }
  // Nesting: beta_% is a member of Alpha, so beta's users have Alpha as an indirect group.
  await t.scim('PATCH', `/Groups/${groups[0]}`, {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'add', path: 'members', value: [{ value: groups[1], type: 'Group' }] }],
  })
  const ids: string[] = []
  for (const u of users) {
    const res = await t.scim('POST', '/Users', userBody(u))
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201)
    const id = String((await json(res)).id)
    ids.push(id)
    for (const g of new Set(u.groups)) {
      await t.scim('PATCH', `/Groups/${groups[g]}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
      })
    }
  }
  for (const id of ids) wire.push(await json(await t.scim('GET', `/Users/${id}`)))
  const groupWire: Json[] = []
  for (const id of groups) groupWire.push(await json(await t.scim('GET', `/Groups/${id}`)))
  return { users: wire, groups: groupWire, groupIds: groups, userIds: ids }
}

async function selected(t: TestApp, endpoint: string, filter: string): Promise<string[]> {
  const res = await t.scim('GET', `${endpoint}?count=1000&filter=${encodeURIComponent(filter)}`)
  const body = await json(res)
  if (res.status !== 200) throw new Error(`${filter}: ${res.status} ${JSON.stringify(body)}`)
  return ((body.Resources ?? []) as Json[]).map((r) => String(r.id)).sort()
}

describe(`filters agree with an in-memory evaluation (${isPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('selects the same users and groups for random data and random filters', async () => {
    const users = new Oracle(USER_RESOURCE)
    const groups = new Oracle(GROUP_RESOURCE)
    let checked = 0
    await fc.assert(
      fc.asyncProperty(
        fc
          .uniqueArray(userArb, {
            minLength: 3,
            maxLength: 8,
            selector: (u) => u.userName.toLowerCase(),
          })
          .chain((specs) => {
            const pool = valuePool(specs)
            return fc.record({
              specs: fc.constant(specs),
              // Filters are drawn after seeding (they name the created ids); a seed drives them.
              seed: fc.integer(),
              pool: fc.constant(pool),
            })
          }),
        async ({ specs, seed: rngSeed, pool }) => {
          const t = await createTestApp()
          const data = await seed(t, specs)
          const userFilters = fc.sample(filterArb(pool, data.groupIds), {
            numRuns: 25,
            seed: rngSeed,
          })
          for (const text of userFilters) {
            const parsed = parseFilter(text)
            const expected = data.users
              .filter((u) => users.test(u, parsed))
              .map((u) => String(u.id))
              .sort()
            expect(await selected(t, '/Users', text), text).toEqual(expected)
            checked++
          }
          const groupFilters = fc.sample(groupFilterArb(pool, data.userIds), {
            numRuns: 8,
            seed: rngSeed,
          })
          for (const text of groupFilters) {
            const parsed = parseFilter(text)
            const expected = data.groups
              .filter((g) => groups.test(g, parsed))
              .map((g) => String(g.id))
              .sort()
            expect(await selected(t, '/Groups', text), text).toEqual(expected)
            checked++
          }
        },
      ),
      { numRuns: isPostgres ? 12 : 25 },
    )
    expect(checked).toBeGreaterThan(300)
  })
})
