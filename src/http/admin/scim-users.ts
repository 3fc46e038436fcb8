/** /api/v3/sources/scim_users/: which source provisioned which user, with the SCIM document sent. */
import { OpenAPIHono } from '@hono/zod-openapi'
import * as connections from '../../services/connections.js'
import { parseUserPk } from '../../services/directory.js'
import type { AppEnv } from '../env.js'
import { adminRoute, jsonResponse, NO_CONTENT, NOT_FOUND } from './openapi.js'
import { listControls, paginate } from './pagination.js'
import { IdParams, paginated, ScimSourceUserSchema, ScimUserListQuery } from './schemas.js'
import { serializeUserConnection } from './serializers.js'

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'sources_scim_users_list',
  summary: 'List users provisioned by SCIM sources',
  request: { query: ScimUserListQuery },
  ok: { 200: jsonResponse(paginated(ScimSourceUserSchema, 'SCIMSourceUser'), 'One page') },
})

const retrieve = adminRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'sources_scim_users_retrieve',
  summary: 'Read one provisioned user by its SCIM id',
  request: { params: IdParams },
  ok: { 200: jsonResponse(ScimSourceUserSchema, 'The connection') },
  errors: NOT_FOUND,
})

const destroy = adminRoute({
  method: 'delete',
  path: '/{id}',
  operationId: 'sources_scim_users_destroy',
  summary: 'Deprovision a user: deletes the connection and the directory user',
  request: { params: IdParams },
  ok: NO_CONTENT,
  errors: NOT_FOUND,
})

export function scimUserRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<connections.UserConnectionOrderField>(query)
    const page = await connections.listUserConnections(c.get('deps'), {
      ...controls,
      filter: {
        sourceSlug: query.source__slug,
        userUsername: query.user__username,
        // A pk the database cannot hold matches no user.
        userPk: query.user__id === undefined ? undefined : (parseUserPk(query.user__id) ?? 0),
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeUserConnection)), 200)
  })

  app.openapi(retrieve, async (c) => {
    const detail = await connections.getUserConnection(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeUserConnection(detail), 200)
  })

  app.openapi(destroy, async (c) => {
    await connections.deleteUserConnection(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })

  return app
}
