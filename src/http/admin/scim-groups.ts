/** /api/v3/sources/scim_groups/: which source provisioned which group, with the SCIM document sent. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import * as connections from '../../services/connections.js'
import type { AppEnv } from '../env.js'
import { COMMON_ERRORS, jsonResponse, NO_CONTENT, NOT_FOUND, SECURITY } from './openapi.js'
import { listControls, paginate } from './pagination.js'
import { IdParams, paginated, ScimGroupListQuery, ScimSourceGroupSchema } from './schemas.js'
import { serializeGroupConnection } from './serializers.js'

const TAGS = ['sources']

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'sources_scim_groups_list',
  summary: 'List groups provisioned by SCIM sources',
  tags: TAGS,
  security: SECURITY,
  request: { query: ScimGroupListQuery },
  responses: {
    200: jsonResponse(paginated(ScimSourceGroupSchema, 'SCIMSourceGroup'), 'One page'),
    ...COMMON_ERRORS,
  },
})

const retrieve = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'sources_scim_groups_retrieve',
  summary: 'Read one provisioned group by its SCIM id',
  tags: TAGS,
  security: SECURITY,
  request: { params: IdParams },
  responses: {
    200: jsonResponse(ScimSourceGroupSchema, 'The connection'),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
})

const destroy = createRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'sources_scim_groups_destroy',
  summary: 'Deprovision a group: deletes the connection and the directory group',
  tags: TAGS,
  security: SECURITY,
  request: { params: IdParams },
  responses: { ...NO_CONTENT, ...COMMON_ERRORS, ...NOT_FOUND },
})

export function scimGroupRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<connections.GroupConnectionOrderField>(query)
    const page = await connections.listGroupConnections(c.get('deps'), {
      ...controls,
      filter: {
        sourceSlug: query.source__slug,
        groupName: query.group__name,
        groupPk: query.group__group_uuid,
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeGroupConnection)), 200)
  })

  app.openapi(retrieve, async (c) => {
    const detail = await connections.getGroupConnection(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeGroupConnection(detail), 200)
  })

  app.openapi(destroy, async (c) => {
    await connections.deleteGroupConnection(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })

  return app
}
