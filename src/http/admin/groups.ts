/** /api/v3/core/groups/: directory groups and their members one page at a time; local groups are written here. */
import { OpenAPIHono } from '@hono/zod-openapi'
import * as directory from '../../services/directory.js'
import * as local from '../../services/local-directory.js'
import type { AppEnv } from '../env.js'
import {
  adminRoute,
  jsonBody,
  jsonResponse,
  modelRoutes,
  NO_CONTENT,
  NOT_FOUND,
  SOURCE_OWNED,
} from './openapi.js'
import { flag, listControls, many, paginate } from './pagination.js'
import {
  GroupListQuery,
  GroupPkParams,
  GroupRequestSchema,
  GroupSchema,
  MemberListQuery,
  PatchedGroupRequestSchema,
  paginated,
  UserAccountSchema,
  UserSchema,
} from './schemas.js'
import { serializeGroup, serializeUserDetail } from './serializers.js'

const { list, retrieve, create, update, partialUpdate, destroy } = modelRoutes({
  operationId: 'core_groups',
  objectPath: '/{group_uuid}',
  query: GroupListQuery,
  params: GroupPkParams,
  schema: GroupSchema,
  listName: 'Group',
  request: GroupRequestSchema,
  patched: PatchedGroupRequestSchema,
  summaries: {
    list: 'List directory groups',
    create: 'Create a local group',
    retrieve: 'Read a directory group',
    update: 'Change a local group (a group a source provisioned is 403)',
    partialUpdate: 'Change some fields of a local group (a group a source provisioned is 403)',
    destroy: 'Delete a local group (a group a source provisioned is 403)',
  },
  descriptions: { page: 'One page of groups', one: 'The group', created: 'The new group' },
  createErrors: SOURCE_OWNED,
  writeErrors: { ...SOURCE_OWNED, ...NOT_FOUND },
})

const members = adminRoute({
  method: 'get',
  path: '/{group_uuid}/members',
  operationId: 'core_groups_members_list',
  summary: 'List the direct members of a group, one page at a time (scimd)',
  request: { params: GroupPkParams, query: MemberListQuery },
  ok: { 200: jsonResponse(paginated(UserSchema, 'User'), 'One page of members') },
  errors: NOT_FOUND,
})

function memberAction(action: 'add_user' | 'remove_user') {
  return adminRoute({
    method: 'post',
    path: `/{group_uuid}/${action}`,
    operationId: `core_groups_${action}_create`,
    summary:
      action === 'add_user'
        ? 'Add a user to a local group (any user, also one a source provisioned)'
        : 'Remove a user from a local group',
    request: { params: GroupPkParams, body: jsonBody(UserAccountSchema) },
    ok: NO_CONTENT,
    errors: { ...SOURCE_OWNED, ...NOT_FOUND },
  })
}

/** The admin API's group fields as the service's input. */
function groupInput(body: {
  name?: string | undefined
  is_superuser?: boolean | undefined
  attributes?: Record<string, unknown> | undefined
  parents?: string[] | undefined
  users?: number[] | undefined
}): local.GroupInput {
  return {
    name: body.name,
    isSuperuser: body.is_superuser,
    attributes: body.attributes,
    parents: body.parents,
    users: body.users,
  }
}

/** Group pks in a `members_by_pk` filter; one the database cannot hold matches no user. */
function memberPks(values: string[] | undefined): number[] | undefined {
  return values?.map((v) => directory.parseUserPk(v) ?? 0)
}

export function groupRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<directory.GroupOrderField>(query)
    const page = await directory.listGroups(c.get('deps'), {
      ...controls,
      filter: {
        name: query.name,
        isSuperuser: flag(query.is_superuser),
        membersByPk: memberPks(many(query.members_by_pk)),
        membersByUsername: many(query.members_by_username),
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeGroup)), 200)
  })

  app.openapi(retrieve, async (c) => {
    const detail = await directory.getGroup(c.get('deps'), c.req.valid('param').group_uuid)
    return c.json(serializeGroup(detail), 200)
  })

  app.openapi(create, async (c) => {
    const detail = await local.createGroup(c.get('deps'), groupInput(c.req.valid('json')))
    return c.json(serializeGroup(detail), 201)
  })

  // PUT and PATCH: the input carries only the fields sent, so one handler serves both.
  for (const route of [update, partialUpdate]) {
    app.openapi(route, async (c) => {
      const input = groupInput(c.req.valid('json'))
      const detail = await local.updateGroup(c.get('deps'), c.req.valid('param').group_uuid, input)
      return c.json(serializeGroup(detail), 200)
    })
  }

  app.openapi(destroy, async (c) => {
    await local.deleteGroup(c.get('deps'), c.req.valid('param').group_uuid)
    return c.body(null, 204)
  })

  for (const action of ['add_user', 'remove_user'] as const) {
    app.openapi(memberAction(action), async (c) => {
      const { pk } = c.req.valid('json')
      const change = action === 'add_user' ? 'add' : 'remove'
      await local.changeGroupMember(c.get('deps'), c.req.valid('param').group_uuid, pk, change)
      return c.body(null, 204)
    })
  }

  app.openapi(members, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<directory.UserOrderField>(query)
    const page = await directory.listGroupMembers(c.get('deps'), c.req.valid('param').group_uuid, {
      ...controls,
      filter: { search: query.search },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeUserDetail)), 200)
  })

  return app
}
