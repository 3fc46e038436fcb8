/**
 * Discovery tells the truth: every request here is derived from what the running app serves at
 * /Schemas, /ResourceTypes and /ServiceProviderConfig, never from a hand-kept list, and each
 * characteristic it advertises is checked against what scimd enforces and returns, as a
 * generic SCIM tool that builds its requests from the schemas would find out.
 * @see issue 25
 */
import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

interface Attribute {
  name: string
  type: string
  multiValued: boolean
  required: boolean
  caseExact: boolean
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly'
  returned: 'always' | 'never' | 'default' | 'request'
  uniqueness: 'none' | 'server' | 'global'
  canonicalValues?: string[]
  referenceTypes?: string[]
  subAttributes?: Attribute[]
}

interface ResourceType {
  name: string
  endpoint: string
  schema: string
  schemaExtensions?: Array<{ schema: string; required: boolean }>
}

interface Discovered {
  config: Json
  types: ResourceType[]
  schemas: Map<string, Attribute[]>
}

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

async function discover(t: TestApp): Promise<Discovered> {
  const config = await json(await t.scim('GET', '/ServiceProviderConfig'))
  const types = (await json(await t.scim('GET', '/ResourceTypes'))).Resources as ResourceType[]
  const list = (await json(await t.scim('GET', '/Schemas'))).Resources as Json[]
  return { config, types, schemas: new Map(list.map((s) => [s.id as string, s.attributes])) }
}

/** Every (schema, attribute) of a resource type, core first. */
function attributesOf(d: Discovered, type: ResourceType): Array<{ urn: string; attr: Attribute }> {
  const urns = [type.schema, ...(type.schemaExtensions ?? []).map((e) => e.schema)]
  return urns.flatMap((urn) => (d.schemas.get(urn) ?? []).map((attr) => ({ urn, attr })))
}

let counter = 0

/** A value of the attribute's type, unique per call, mixed case so that case matters. */
function sample(attr: Attribute, refs: { userId?: string }): unknown {
  counter++
  if (attr.canonicalValues?.length) return attr.canonicalValues[0]
  switch (attr.type) {
    case 'string':
      return `Value${counter}-${attr.name}`
    case 'boolean':
      return true
    case 'integer':
      return counter
    case 'decimal':
      return counter + 0.5
    case 'dateTime':
      return '2026-01-02T03:04:05Z'
    case 'binary':
      return 'AAEC'
    case 'reference':
      if (attr.referenceTypes?.includes('User') && refs.userId) return refs.userId
      return `https://example.com/${counter}`
    case 'complex': {
      const value: Json = {}
      // A `value` beside a `$ref` to Users is a User's id (members, manager).
      const ref = attr.subAttributes?.find((s) => s.name === '$ref')
      const isUserRef = ref?.referenceTypes?.includes('User') && ref.mutability !== 'readOnly'
      for (const sub of attr.subAttributes ?? []) {
        if (sub.mutability === 'readOnly') continue
        if (sub.name === 'primary') continue
        if (sub.name === '$ref') continue
        value[sub.name] = sub.name === 'value' && isUserRef ? refs.userId : sample(sub, refs)
      }
      return value
    }
    default:
      throw new Error(`unknown type ${attr.type}`)
  }
}

const CORE_KEYS = (type: ResourceType, urn: string) => urn === type.schema

/** Sets an attribute in a resource body: core ones at the top, extension ones under the URN. */
function put(body: Json, type: ResourceType, urn: string, name: string, value: unknown): void {
  if (CORE_KEYS(type, urn)) body[name] = value
  else {
    body[urn] ??= {}
    body[urn][name] = value
  }
}

function get(resource: Json, type: ResourceType, urn: string, name: string): unknown {
  return CORE_KEYS(type, urn) ? resource[name] : resource[urn]?.[name]
}

function pathOf(type: ResourceType, urn: string, name: string): string {
  return CORE_KEYS(type, urn) ? name : `${urn}:${name}`
}

/** The smallest valid body: every required attribute, built from the schema. */
function minimalBody(d: Discovered, type: ResourceType): Json {
  const body: Json = { schemas: [type.schema] }
  for (const { urn, attr } of attributesOf(d, type)) {
    if (attr.required && attr.mutability !== 'readOnly') {
      put(body, type, urn, attr.name, attr.multiValued ? [sample(attr, {})] : sample(attr, {}))
    }
  }
  return body
}

/** Every attribute a client may write (not readOnly), with a value from its definition. */
function fullBody(d: Discovered, type: ResourceType, refs: { userId?: string }): Json {
  const body: Json = {
    schemas: [type.schema, ...(type.schemaExtensions ?? []).map((e) => e.schema)],
  }
  for (const { urn, attr } of attributesOf(d, type)) {
    if (attr.mutability === 'readOnly') continue
    const value = sample(attr, refs)
    put(body, type, urn, attr.name, attr.multiValued ? [value] : value)
  }
  return body
}

async function create(t: TestApp, type: ResourceType, body: Json): Promise<Json> {
  const res = await t.scim('POST', type.endpoint, body)
  const created = await json(res)
  expect(res.status, JSON.stringify(created)).toBe(201)
  return created
}

async function aUser(t: TestApp, d: Discovered): Promise<string> {
  const users = d.types.find((r) => r.name === 'User') as ResourceType
  return (await create(t, users, minimalBody(d, users))).id
}

/** What is checked of a value sent and returned: sub-attributes the client wrote. */
function expectReturned(sent: unknown, got: unknown, attr: Attribute, where: string): void {
  if (attr.type !== 'complex') {
    expect(got, where).toEqual(sent)
    return
  }
  const sentList = (attr.multiValued ? sent : [sent]) as Json[]
  const gotList = (attr.multiValued ? got : [got]) as Json[]
  expect(gotList, where).toHaveLength(sentList.length)
  for (const [i, s] of sentList.entries()) {
    for (const sub of attr.subAttributes ?? []) {
      if (!(sub.name in s)) continue
      if (sub.returned === 'never' || sub.mutability === 'writeOnly') {
        expect(gotList[i]?.[sub.name], `${where}.${sub.name}`).toBeUndefined()
      } else if (sub.mutability !== 'readOnly') {
        expect(gotList[i]?.[sub.name], `${where}.${sub.name}`).toEqual(s[sub.name])
      }
    }
  }
}

describe('/Schemas tells the truth', () => {
  it('required: a body without a required attribute is 400, with only those it is 201', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    for (const type of d.types) {
      const minimal = minimalBody(d, type)
      await create(t, type, minimal)
      for (const { urn, attr } of attributesOf(d, type)) {
        if (!attr.required) continue
        const without = structuredClone(minimalBody(d, type))
        if (CORE_KEYS(type, urn)) delete without[attr.name]
        else delete without[urn][attr.name]
        const res = await t.scim('POST', type.endpoint, without)
        expect(res.status, `${type.name} without ${attr.name}`).toBe(400)
        expect(await json(res)).toMatchObject({ scimType: 'invalidValue' })
      }
    }
  })

  it('returned and mutability: what is written comes back, writeOnly and never do not', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    const userId = await aUser(t, d)
    for (const type of d.types) {
      const body = fullBody(d, type, { userId })
      const created = await create(t, type, body)
      const read = await json(await t.scim('GET', `${type.endpoint}/${created.id}`))
      for (const { urn, attr } of attributesOf(d, type)) {
        if (attr.mutability === 'readOnly') continue
        const sent = get(body, type, urn, attr.name)
        const where = `${type.name}.${attr.name}`
        for (const resource of [created, read]) {
          const got = get(resource, type, urn, attr.name)
          if (attr.returned === 'never' || attr.mutability === 'writeOnly') {
            expect(got, where).toBeUndefined()
          } else if (attr.returned === 'request') {
            expect(got, where).toBeUndefined()
          } else {
            expectReturned(sent, got, attr, where)
          }
        }
        // Asking for it by name returns it, unless it is never returned.
        const path = pathOf(type, urn, attr.name)
        const asked = await json(
          await t.scim(
            'GET',
            `${type.endpoint}/${created.id}?attributes=${encodeURIComponent(path)}`,
          ),
        )
        const got = get(asked, type, urn, attr.name)
        if (attr.returned === 'never' || attr.mutability === 'writeOnly') {
          expect(got, `${where} asked`).toBeUndefined()
        } else {
          expectReturned(sent, got, attr, `${where} asked`)
        }
      }
      // returned: always comes back even when other attributes are asked for.
      const narrowed = await json(
        await t.scim('GET', `${type.endpoint}/${created.id}?attributes=meta`),
      )
      for (const { urn, attr } of attributesOf(d, type)) {
        if (attr.returned === 'always') {
          expect(
            get(narrowed, type, urn, attr.name),
            `${type.name}.${attr.name} always`,
          ).toBeDefined()
        }
      }
    }
  })

  it('mutability: readOnly is ignored on create and refused by PATCH; immutable is refused by PATCH', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    const userId = await aUser(t, d)
    for (const type of d.types) {
      const created = await create(t, type, fullBody(d, type, { userId }))
      for (const { urn, attr } of attributesOf(d, type)) {
        const path = pathOf(type, urn, attr.name)
        const where = `${type.name}.${attr.name}`
        if (attr.mutability === 'readOnly') {
          // Sent on create: ignored (RFC 7643 §2.2: "SHALL be ignored").
          const body = minimalBody(d, type)
          const bogus = attr.multiValued ? [sample(attr, {})] : sample(attr, {})
          put(body, type, urn, attr.name, bogus)
          const res = await t.scim('POST', type.endpoint, body)
          expect(res.status, where).toBe(201)
          expect(get(await json(res), type, urn, attr.name), where).not.toEqual(bogus)
          const patch = await t.scim('PATCH', `${type.endpoint}/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path, value: bogus }],
          })
          expect(patch.status, `PATCH ${where}`).toBe(400)
          expect(await json(patch), `PATCH ${where}`).toMatchObject({ scimType: 'mutability' })
        }
        for (const sub of attr.subAttributes ?? []) {
          if (sub.mutability !== 'immutable' && sub.mutability !== 'readOnly') continue
          if (attr.mutability === 'readOnly') continue
          const current = get(created, type, urn, attr.name)
          const value = attr.multiValued ? (current as Json[])?.[0]?.value : undefined
          const subPath = attr.multiValued
            ? `${path}[value eq "${value}"].${sub.name}`
            : `${path}.${sub.name}`
          const patch = await t.scim('PATCH', `${type.endpoint}/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: subPath, value: sample(sub, {}) }],
          })
          expect(patch.status, `PATCH ${where}.${sub.name}`).toBe(400)
          expect(await json(patch), `PATCH ${where}.${sub.name}`).toMatchObject({
            scimType: 'mutability',
          })
        }
      }
    }
  })

  it('uniqueness: a second resource with a server-unique value is 409 uniqueness', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    for (const type of d.types) {
      for (const { urn, attr } of attributesOf(d, type)) {
        if (attr.uniqueness === 'none') continue
        const first = minimalBody(d, type)
        const value = sample(attr, {}) as string
        put(first, type, urn, attr.name, value)
        await create(t, type, first)
        const second = minimalBody(d, type)
        // Unique as the attribute compares: ignoring case unless caseExact.
        put(second, type, urn, attr.name, attr.caseExact ? value : value.toUpperCase())
        const res = await t.scim('POST', type.endpoint, second)
        expect(res.status, `${type.name}.${attr.name}`).toBe(409)
        expect(await json(res)).toMatchObject({ scimType: 'uniqueness' })
      }
    }
  })

  it('caseExact: a filter eq with the case changed matches exactly when caseExact is false', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    const userId = await aUser(t, d)
    for (const type of d.types) {
      const body = fullBody(d, type, { userId })
      const created = await create(t, type, body)
      const check = async (path: string, value: string, caseExact: boolean) => {
        const swapped = value.replace(/[a-z]/gi, (c) =>
          c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
        )
        for (const [compared, expected] of [
          [value, 1],
          [swapped, caseExact ? 0 : 1],
        ] as const) {
          const filter = encodeURIComponent(`${path} eq "${compared}"`)
          const res = await t.scim('GET', `${type.endpoint}?filter=${filter}&attributes=id`)
          const list = await json(res)
          expect(res.status, `${path} ${JSON.stringify(list)}`).toBe(200)
          const found = (list.Resources as Json[]).filter((r) => r.id === created.id).length
          expect(found, `${type.name} ${path} eq "${compared}" (caseExact ${caseExact})`).toBe(
            expected,
          )
        }
      }
      for (const { urn, attr } of attributesOf(d, type)) {
        if (attr.returned === 'never' || attr.mutability === 'writeOnly') continue
        const path = pathOf(type, urn, attr.name)
        const sent = get(body, type, urn, attr.name)
        if (attr.type === 'string' && !attr.multiValued && typeof sent === 'string') {
          if (attr.canonicalValues) continue
          await check(path, sent, attr.caseExact)
        }
        if (attr.type !== 'complex' || sent === undefined) continue
        const first = (attr.multiValued ? (sent as Json[])[0] : sent) as Json
        for (const sub of attr.subAttributes ?? []) {
          const value = first[sub.name]
          if (sub.type !== 'string' || typeof value !== 'string' || sub.canonicalValues) continue
          if (sub.referenceTypes) continue
          await check(`${path}.${sub.name}`, value, sub.caseExact)
        }
      }
    }
  })

  it('canonicalValues: each advertised value is accepted and returned', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    const userId = await aUser(t, d)
    for (const type of d.types) {
      for (const { urn, attr } of attributesOf(d, type)) {
        if (attr.mutability === 'readOnly') continue
        for (const sub of attr.subAttributes ?? []) {
          if (!sub.canonicalValues || sub.mutability === 'readOnly') continue
          for (const canonical of sub.canonicalValues) {
            const body = minimalBody(d, type)
            const item = sample(attr, { userId }) as Json
            item[sub.name] = canonical
            // A member of type Group must name a group.
            if (attr.name === 'members' && canonical === 'Group') {
              const groups = d.types.find((r) => r.name === 'Group') as ResourceType
              item.value = (await create(t, groups, minimalBody(d, groups))).id
            }
            put(body, type, urn, attr.name, attr.multiValued ? [item] : item)
            const res = await t.scim('POST', type.endpoint, body)
            const created = await json(res)
            const where = `${type.name}.${attr.name}.${sub.name} = ${canonical}`
            expect(res.status, `${where}: ${JSON.stringify(created)}`).toBe(201)
            const got = get(created, type, urn, attr.name) as Json
            expect((attr.multiValued ? got[0] : got)[sub.name], where).toBe(canonical)
          }
        }
      }
    }
  })
})

describe('/ServiceProviderConfig tells the truth', () => {
  it('every feature it says is supported works', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    const users = d.types.find((r) => r.name === 'User') as ResourceType
    const ids = [await aUser(t, d), await aUser(t, d), await aUser(t, d)]
    expect(d.config.patch.supported).toBe(true)
    const patch = await t.scim('PATCH', `${users.endpoint}/${ids[0]}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Patched' }],
    })
    expect(patch.status).toBe(200)

    expect(d.config.filter.supported).toBe(true)
    const filtered = await json(
      await t.scim('GET', `${users.endpoint}?filter=${encodeURIComponent(`id eq "${ids[1]}"`)}`),
    )
    expect(filtered.totalResults).toBe(1)
    // maxResults caps a page, whatever count asks for.
    const capped = await json(
      await t.scim('GET', `${users.endpoint}?count=${d.config.filter.maxResults + 1}`),
    )
    expect(capped.itemsPerPage).toBeLessThanOrEqual(d.config.filter.maxResults)

    expect(d.config.sort.supported).toBe(true)
    const sorted = await json(
      await t.scim('GET', `${users.endpoint}?sortBy=id&sortOrder=descending`),
    )
    const sortedIds = (sorted.Resources as Json[]).map((r) => r.id as string)
    expect(sortedIds).toEqual([...sortedIds].sort().reverse())

    expect(d.config.etag.supported).toBe(true)
    const read = await t.scim('GET', `${users.endpoint}/${ids[2]}`)
    const tag = read.headers.get('etag') as string
    expect(tag).toBe((await json(read)).meta.version)
    expect(
      (await t.scim('GET', `${users.endpoint}/${ids[2]}`, undefined, { 'If-None-Match': tag }))
        .status,
    ).toBe(304)
    const stale = await t.scim('DELETE', `${users.endpoint}/${ids[2]}`, undefined, {
      'If-Match': 'W/"999"',
    })
    expect(stale.status).toBe(412)

    expect(d.config.changePassword.supported).toBe(true)
    const changed = await t.scim('PATCH', `${users.endpoint}/${ids[2]}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'password', value: 'n3w-Secret!' }],
    })
    expect(changed.status).toBe(200)
    expect(await json(changed)).not.toHaveProperty('password')

    expect(d.config.bulk.supported).toBe(true)
    expect(d.config.bulk.maxOperations).toBeGreaterThan(0)
    expect(d.config.bulk.maxPayloadSize).toBeGreaterThan(0)
    const bulk = await t.scim('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'DELETE', path: `${users.endpoint}/${ids[0]}` }],
    })
    expect(bulk.status).toBe(200)
    expect((await json(bulk)).Operations[0].status).toBe('204')

    // The advertised scheme is the one that authenticates: a bearer token.
    expect(d.config.authenticationSchemes.map((s: Json) => s.type)).toEqual(['oauthbearertoken'])
    const anonymous = await t.raw('GET', `/source/scim/${t.slug}/v2${users.endpoint}`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('resource types name endpoints that exist, with the schemas /Schemas serves', async () => {
    const t = await createTestApp()
    const d = await discover(t)
    for (const type of d.types) {
      expect(d.schemas.has(type.schema), type.schema).toBe(true)
      for (const ext of type.schemaExtensions ?? []) expect(d.schemas.has(ext.schema)).toBe(true)
      expect((await t.scim('GET', type.endpoint)).status).toBe(200)
      expect((await t.scim('GET', `/ResourceTypes/${type.name}`)).status).toBe(200)
    }
  })
})
