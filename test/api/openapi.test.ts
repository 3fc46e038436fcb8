import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type * as z from 'zod'
import {
  GroupSchema,
  paginated,
  ScimSourceGroupSchema,
  ScimSourceUserSchema,
  SourceSchema,
  TokenSchema,
  UserSchema,
} from '../../src/http/admin/schemas.js'
import { createTestApp } from '../support/app.js'

// biome-ignore lint/suspicious/noExplicitAny: the document is walked generically
type Json = Record<string, any>

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

async function loadDocument() {
  const t = await createTestApp()
  const res = await t.raw('GET', '/api/v3/schema/')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('application/json')
  return { t, doc: (await res.json()) as Json }
}

/** Every `$ref` in the document. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refs(item, found)
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value)
      else refs(value, found)
    }
  }
  return found
}

const hasPython =
  spawnSync('python3', ['-c', 'import openapi_spec_validator'], {
    stdio: 'ignore',
  }).status === 0

describe('GET /api/v3/schema/', () => {
  it('is a structurally valid OpenAPI 3.0 document', async () => {
    const { doc } = await loadDocument()
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/)
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })
    expect(doc.servers).toEqual([{ url: '/api/v3' }])
    const schemes = doc.components.securitySchemes
    expect(schemes.authentik).toMatchObject({ type: 'http', scheme: 'bearer' })

    const operationIds = new Set<string>()
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      expect(path, path).toMatch(/^\/.*\/$/)
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      for (const [method, operation] of Object.entries(item)) {
        expect(METHODS, `${method} ${path}`).toContain(method)
        const where = `${method.toUpperCase()} ${path}`
        expect(operation.operationId, where).toMatch(/^[a-z_]+$/)
        expect(operationIds.has(operation.operationId), where).toBe(false)
        operationIds.add(operation.operationId)
        expect(Object.keys(operation.responses).length, where).toBeGreaterThan(0)
        for (const status of Object.keys(operation.responses)) {
          expect(status, where).toMatch(/^[1-5]\d\d$/)
          expect(operation.responses[status].description, where).toBeTruthy()
        }
        const params = (operation.parameters ?? []) as Json[]
        const pathParams = params.filter((p) => p.in === 'path')
        expect(pathParams.map((p) => p.name).sort(), where).toEqual([...inPath].sort())
        for (const p of pathParams) expect(p.required, where).toBe(true)
        for (const p of params) expect(['path', 'query', 'header'], where).toContain(p.in)
        for (const requirement of operation.security ?? []) {
          for (const name of Object.keys(requirement)) expect(schemes).toHaveProperty(name)
        }
        if (operation.operationId !== 'schema_retrieve') {
          expect(operation.security, where).toEqual([{ authentik: [] }])
        }
      }
    }
    for (const ref of refs(doc)) {
      const match = /^#\/components\/schemas\/(.+)$/.exec(ref)
      expect(match, ref).not.toBeNull()
      expect(doc.components.schemas, ref).toHaveProperty(match?.[1] as string)
    }
  })

  it('declares every tag its operations use', async () => {
    const { doc } = await loadDocument()
    const declared = new Set((doc.tags as Json[]).map((tag) => tag.name))
    for (const item of Object.values(doc.paths as Json)) {
      for (const method of METHODS) {
        for (const tag of (item[method]?.tags as string[] | undefined) ?? []) {
          expect(declared, `tag ${tag} of ${item[method].operationId}`).toContain(tag)
        }
      }
    }
  })

  it('documents every admin route the app serves, and nothing it does not', async () => {
    const { t, doc } = await loadDocument()
    const served = new Set(
      t.app.routes
        .filter((r) => r.path.startsWith('/api/v3/') && r.method !== 'ALL')
        .map((r) => {
          const path = r.path.slice('/api/v3'.length).replace(/:([^/]+)/g, '{$1}')
          return `${r.method.toLowerCase()} ${path}/`
        }),
    )
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method} ${path}`),
      ),
    )
    expect([...served].sort()).toEqual([...documented].sort())
    for (const expected of [
      'get /sources/scim/',
      'post /sources/scim/',
      'get /sources/scim/{slug}/',
      'put /sources/scim/{slug}/',
      'patch /sources/scim/{slug}/',
      'delete /sources/scim/{slug}/',
      'get /sources/scim/{slug}/used_by/',
      'get /sources/scim_users/',
      'get /sources/scim_users/{id}/',
      'delete /sources/scim_users/{id}/',
      'get /sources/scim_groups/',
      'get /sources/scim_groups/{id}/',
      'delete /sources/scim_groups/{id}/',
      'get /core/users/',
      'get /core/users/{id}/',
      'get /core/groups/',
      'get /core/groups/{group_uuid}/',
      'get /core/groups/{group_uuid}/members/',
      'get /core/tokens/',
      'get /core/tokens/{identifier}/',
      'get /core/tokens/{identifier}/view_key/',
      'post /core/tokens/{identifier}/set_key/',
      'post /core/tokens/{identifier}/rotate/',
      'get /schema/',
    ]) {
      expect(documented, expected).toContain(expected)
    }
  })

  it('describes request bodies with the schemas that validate them', async () => {
    const { doc } = await loadDocument()
    const create = doc.paths['/sources/scim/'].post
    const schemaRef = create.requestBody.content['application/json'].schema.$ref
    const schema = doc.components.schemas[schemaRef.split('/').pop()]
    expect(schema.required.sort()).toEqual(['name', 'slug'])
    expect(schema.additionalProperties).toBe(false)
    expect(schema.properties.slug).toMatchObject({ maxLength: 50, pattern: '^[-a-zA-Z0-9_]+$' })
    const list = doc.paths['/sources/scim/'].get.parameters.map((p: Json) => p.name)
    expect(list.sort()).toEqual(['name', 'ordering', 'page', 'page_size', 'search', 'slug'])
  })

  it.skipIf(!hasPython)('passes openapi-spec-validator', async () => {
    const { doc } = await loadDocument()
    const file = join(mkdtempSync(join(tmpdir(), 'scimd-openapi-')), 'openapi.json')
    writeFileSync(file, JSON.stringify(doc))
    const run = spawnSync('python3', ['-m', 'openapi_spec_validator', file], { encoding: 'utf8' })
    expect(run.stdout + run.stderr).toContain('OK')
    expect(run.status).toBe(0)
  })
})

describe('responses match their documented schemas', () => {
  /** Parses with the schema and checks no field is undocumented. */
  function conforms(schema: z.ZodObject, value: unknown) {
    schema.parse(value)
    expect(Object.keys(value as Json).sort()).toEqual(Object.keys(schema.shape).sort())
  }

  it('for every list and retrieve', async () => {
    const t = await createTestApp()
    const user = (await (await t.scim('POST', '/Users', { userName: 'alice' })).json()) as Json
    const group = (await (
      await t.scim('POST', '/Groups', { displayName: 'G', members: [{ value: user.id }] })
    ).json()) as Json
    const cases: Array<[string, z.ZodObject]> = [
      ['/sources/scim/', SourceSchema],
      ['/sources/scim_users/', ScimSourceUserSchema],
      ['/sources/scim_groups/', ScimSourceGroupSchema],
      ['/core/users/', UserSchema],
      ['/core/groups/', GroupSchema],
      ['/core/tokens/', TokenSchema],
      [`/core/groups/${group.id}/members/`, UserSchema],
    ]
    for (const [path, item] of cases) {
      const res = (await (await t.admin('GET', path)).json()) as Json
      paginated(item, 'Check').parse(res)
      expect(res.results.length, path).toBeGreaterThan(0)
      for (const result of res.results) conforms(item, result)
    }
    conforms(SourceSchema, await (await t.admin('GET', '/sources/scim/test/')).json())
    conforms(
      ScimSourceUserSchema,
      await (await t.admin('GET', `/sources/scim_users/${user.id}/`)).json(),
    )
    conforms(GroupSchema, await (await t.admin('GET', `/core/groups/${group.id}/`)).json())
  })
})
