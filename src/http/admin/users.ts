/** /api/v3/core/users/: directory users with their groups (read-only). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import * as directory from '../../services/directory.js'
import type { AppEnv } from '../env.js'
import { COMMON_ERRORS, jsonResponse, NOT_FOUND, SECURITY } from './openapi.js'
import { flag, listControls, many, paginate } from './pagination.js'
import { paginated, UserListQuery, UserPkParams, UserSchema } from './schemas.js'
import { serializeUserDetail } from './serializers.js'

const TAGS = ['core']

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'core_users_list',
  summary: 'List directory users',
  tags: TAGS,
  security: SECURITY,
  request: { query: UserListQuery },
  responses: {
    200: jsonResponse(paginated(UserSchema, 'User'), 'One page of users'),
    ...COMMON_ERRORS,
  },
})

const retrieve = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'core_users_retrieve',
  summary: 'Read a directory user with its groups',
  tags: TAGS,
  security: SECURITY,
  request: { params: UserPkParams },
  responses: { 200: jsonResponse(UserSchema, 'The user'), ...COMMON_ERRORS, ...NOT_FOUND },
})

export function userRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<directory.UserOrderField>(query)
    const page = await directory.listUsers(c.get('deps'), {
      ...controls,
      filter: {
        username: query.username,
        name: query.name,
        email: query.email,
        uuid: query.uuid,
        path: query.path,
        pathStartswith: query.path_startswith,
        isActive: flag(query.is_active),
        isSuperuser: flag(query.is_superuser),
        types: many(query.type),
        groupsByPk: many(query.groups_by_pk),
        groupsByName: many(query.groups_by_name),
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeUserDetail)), 200)
  })

  app.openapi(retrieve, async (c) => {
    const detail = await directory.getUser(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeUserDetail(detail), 200)
  })

  return app
}
