/** /api/v3/sources/scim_groups/: which source provisioned which group, with the SCIM document sent. */
import { OpenAPIHono } from '@hono/zod-openapi'
import * as connections from '../../services/connections.js'
import type { AppEnv } from '../env.js'
import { adminRoute, jsonResponse, NO_CONTENT, NOT_FOUND } from './openapi.js'
import { listControls, paginate } from './pagination.js'
import { IdParams, paginated, ScimGroupListQuery, ScimSourceGroupSchema } from './schemas.js'
import { serializeGroupConnection } from './serializers.js'

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'sources_scim_groups_list',
  summary: 'List groups provisioned by SCIM sources',
  request: { query: ScimGroupListQuery },
  ok: { 200: jsonResponse(paginated(ScimSourceGroupSchema, 'SCIMSourceGroup'), 'One page') },
})

const retrieve = adminRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'sources_scim_groups_retrieve',
  summary: 'Read one provisioned group by its SCIM id',
  request: { params: IdParams },
  ok: { 200: jsonResponse(ScimSourceGroupSchema, 'The connection') },
  errors: NOT_FOUND,
})

const destroy = adminRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'sources_scim_groups_destroy',
  summary: 'Deprovision a group: deletes the connection and the directory group',
  request: { params: IdParams },
  ok: NO_CONTENT,
  errors: NOT_FOUND,
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
