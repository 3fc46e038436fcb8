/** /api/v3/core/users/: directory users with their groups; local users are written here too. */
import { OpenAPIHono } from '@hono/zod-openapi'
import * as directory from '../../services/directory.js'
import * as local from '../../services/local-directory.js'
import type { AppEnv } from '../env.js'
import { modelRoutes, NOT_FOUND, SOURCE_OWNED } from './openapi.js'
import { flag, listControls, many, paginate } from './pagination.js'
import {
  PatchedUserRequestSchema,
  UserListQuery,
  UserPkParams,
  UserRequestSchema,
  UserSchema,
} from './schemas.js'
import { serializeUserDetail } from './serializers.js'

const { list, retrieve, create, update, partialUpdate, destroy } = modelRoutes({
  operationId: 'core_users',
  objectPath: '/{id}',
  query: UserListQuery,
  params: UserPkParams,
  schema: UserSchema,
  listName: 'User',
  request: UserRequestSchema,
  patched: PatchedUserRequestSchema,
  summaries: {
    list: 'List directory users',
    create: 'Create a local user',
    retrieve: 'Read a directory user with its groups',
    update: 'Change a local user (a user a source provisioned is 403)',
    partialUpdate: 'Change some fields of a local user (a user a source provisioned is 403)',
    destroy: 'Delete a local user (a user a source provisioned is 403)',
  },
  descriptions: { page: 'One page of users', one: 'The user', created: 'The new user' },
  createErrors: SOURCE_OWNED,
  writeErrors: { ...SOURCE_OWNED, ...NOT_FOUND },
})

/** The admin API's user fields as the service's input. */
function userInput(body: {
  username?: string | undefined
  name?: string | undefined
  is_active?: boolean | undefined
  last_login?: string | null | undefined
  email?: string | undefined
  attributes?: Record<string, unknown> | undefined
  path?: string | undefined
  type?: 'internal' | 'external' | 'service_account' | undefined
  groups?: string[] | undefined
}): local.UserInput {
  return {
    username: body.username,
    name: body.name,
    isActive: body.is_active,
    lastLogin: body.last_login,
    email: body.email,
    attributes: body.attributes,
    path: body.path,
    type: body.type,
    groups: body.groups,
  }
}

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

  app.openapi(create, async (c) => {
    const detail = await local.createUser(c.get('deps'), userInput(c.req.valid('json')))
    return c.json(serializeUserDetail(detail), 201)
  })

  // PUT and PATCH: the input carries only the fields sent, so one handler serves both.
  for (const route of [update, partialUpdate]) {
    app.openapi(route, async (c) => {
      const input = userInput(c.req.valid('json'))
      const detail = await local.updateUser(c.get('deps'), c.req.valid('param').id, input)
      return c.json(serializeUserDetail(detail), 200)
    })
  }

  app.openapi(destroy, async (c) => {
    await local.deleteUser(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })

  return app
}
