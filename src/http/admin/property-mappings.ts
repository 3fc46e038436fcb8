/** /api/v3/propertymappings/{source,provider}/scim/: SCIM property mappings, with used_by and test. */
import { OpenAPIHono, z } from '@hono/zod-openapi'
import * as mappings from '../../services/property-mappings.js'
import type { AppEnv } from '../env.js'
import { adminRoute, jsonBody, jsonResponse, modelRoutes, NOT_FOUND } from './openapi.js'
import { flag, listControls, many, paginate } from './pagination.js'
import {
  MappingPkParams,
  PatchedPropertyMappingRequestSchema,
  PropertyMappingListQuery,
  PropertyMappingRequestSchema,
  PropertyMappingSchema,
  PropertyMappingTestRequestSchema,
  PropertyMappingTestResultSchema,
  UsedBySchema,
} from './schemas.js'
import { serializeUsedBy } from './serializers.js'

/** authentik's model metadata of each kind of SCIM mapping. */
const META = {
  source: {
    component: 'ak-property-mapping-source-scim-form',
    verbose_name: 'SCIM Source Property Mapping',
    verbose_name_plural: 'SCIM Source Property Mappings',
    meta_model_name: 'authentik_sources_scim.scimsourcepropertymapping',
  },
  provider: {
    component: 'ak-property-mapping-provider-scim-form',
    verbose_name: 'SCIM Provider Mapping',
    verbose_name_plural: 'SCIM Provider Mappings',
    meta_model_name: 'authentik_providers_scim.scimmapping',
  },
} as const

function serialize(m: mappings.PropertyMapping): z.infer<typeof PropertyMappingSchema> {
  return {
    pk: m.id,
    managed: m.managed,
    name: m.name,
    expression: m.expression,
    ...META[m.kind],
  }
}

const FORBIDDEN_MANAGED = {
  403: jsonResponse(
    z.object({ detail: z.string(), code: z.string().optional() }),
    'Not an admin token, or a managed mapping (copy it to change it)',
  ),
} as const

function routesOf(kind: mappings.MappingKind) {
  const id = `propertymappings_${kind}_scim`
  const what = kind === 'source' ? 'SCIM source property mapping' : 'SCIM provider mapping'
  return {
    ...modelRoutes({
      operationId: id,
      objectPath: '/{pm_uuid}',
      query: PropertyMappingListQuery,
      params: MappingPkParams,
      schema: PropertyMappingSchema,
      listName: `SCIM${kind}PropertyMapping`,
      request: PropertyMappingRequestSchema,
      patched: PatchedPropertyMappingRequestSchema,
      summaries: {
        list: `List ${what}s`,
        create: `Create a ${what} (a JSONata expression)`,
        retrieve: `Read a ${what}`,
        update: `Change a ${what}`,
        partialUpdate: `Change some fields of a ${what}`,
        destroy: `Delete a ${what}; the sources listing it no longer do`,
      },
      descriptions: { page: 'One page', one: 'The mapping', created: 'The mapping' },
      writeErrors: { ...FORBIDDEN_MANAGED, ...NOT_FOUND },
    }),
    usedBy: adminRoute({
      method: 'get',
      path: '/{pm_uuid}/used_by',
      operationId: `${id}_used_by_list`,
      summary: 'The sources that apply this mapping',
      request: { params: MappingPkParams },
      ok: { 200: jsonResponse(z.array(UsedBySchema), 'Objects using the mapping') },
      errors: NOT_FOUND,
    }),
    test: adminRoute({
      method: 'post',
      path: '/{pm_uuid}/test',
      operationId: `${id}_test_create`,
      summary: 'Evaluate the mapping against a user or group: its result or its error',
      request: { params: MappingPkParams, body: jsonBody(PropertyMappingTestRequestSchema) },
      ok: { 200: jsonResponse(PropertyMappingTestResultSchema, 'The result, as formatted JSON') },
      errors: NOT_FOUND,
    }),
  }
}

export function propertyMappingRoutes(kind: mappings.MappingKind): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()
  const r = routesOf(kind)

  app.openapi(r.list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<mappings.MappingOrderField>(query)
    const page = await mappings.listMappings(c.get('deps'), kind, {
      ...controls,
      filter: {
        name: query.name,
        managed: many(query.managed),
        managedIsNull: flag(query.managed__isnull),
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serialize)), 200)
  })

  app.openapi(r.create, async (c) => {
    const created = await mappings.createMapping(c.get('deps'), kind, c.req.valid('json'))
    return c.json(serialize(created), 201)
  })

  app.openapi(r.retrieve, async (c) => {
    const found = await mappings.getMapping(c.get('deps'), kind, c.req.valid('param').pm_uuid)
    return c.json(serialize(found), 200)
  })

  // PUT and PATCH: the input carries only the fields sent, so one handler serves both.
  for (const route of [r.update, r.partialUpdate]) {
    app.openapi(route, async (c) => {
      const { pm_uuid } = c.req.valid('param')
      const changed = await mappings.updateMapping(
        c.get('deps'),
        kind,
        pm_uuid,
        c.req.valid('json'),
      )
      return c.json(serialize(changed), 200)
    })
  }

  app.openapi(r.destroy, async (c) => {
    await mappings.deleteMapping(c.get('deps'), kind, c.req.valid('param').pm_uuid)
    return c.body(null, 204)
  })

  app.openapi(r.usedBy, async (c) => {
    const uses = await mappings.mappingUsedBy(c.get('deps'), kind, c.req.valid('param').pm_uuid)
    return c.json(uses.map(serializeUsedBy), 200)
  })

  app.openapi(r.test, async (c) => {
    const { pm_uuid } = c.req.valid('param')
    const result = await mappings.testMapping(c.get('deps'), kind, pm_uuid, c.req.valid('json'))
    return c.json(result, 200)
  })

  return app
}
