/** /api/v3/core/groups/: directory groups, and their members one page at a time (read-only). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import * as directory from '../../services/directory.js'
import type { AppEnv } from '../env.js'
import { COMMON_ERRORS, jsonResponse, NOT_FOUND, SECURITY } from './openapi.js'
import { flag, listControls, many, paginate } from './pagination.js'
import {
  GroupListQuery,
  GroupPkParams,
  GroupSchema,
  MemberListQuery,
  paginated,
  UserSchema,
} from './schemas.js'
import { serializeGroup, serializeUserDetail } from './serializers.js'

const TAGS = ['core']

const list = createRoute({
  method: 'get',
  path: '/',
  operationId: 'core_groups_list',
  summary: 'List directory groups',
  tags: TAGS,
  security: SECURITY,
  request: { query: GroupListQuery },
  responses: {
    200: jsonResponse(paginated(GroupSchema, 'Group'), 'One page of groups'),
    ...COMMON_ERRORS,
  },
})

const retrieve = createRoute({
  method: 'get',
  path: '/{group_uuid}',
  operationId: 'core_groups_retrieve',
  summary: 'Read a directory group',
  tags: TAGS,
  security: SECURITY,
  request: { params: GroupPkParams },
  responses: { 200: jsonResponse(GroupSchema, 'The group'), ...COMMON_ERRORS, ...NOT_FOUND },
})

const members = createRoute({
  method: 'get',
  path: '/{group_uuid}/members',
  operationId: 'core_groups_members_list',
  summary: 'List the direct members of a group, one page at a time (scimd)',
  tags: TAGS,
  security: SECURITY,
  request: { params: GroupPkParams, query: MemberListQuery },
  responses: {
    200: jsonResponse(paginated(UserSchema, 'User'), 'One page of members'),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
})

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
