/**
 * Queries at a source's root across Users and Groups: `POST /.search` (RFC 7644 §3.4.3) and
 * `GET /` with query parameters (RFC 7644 §3.4.2.1). The per-type `/.search` routes live in
 * resource-routes.ts.
 */
import { type Context, Hono } from 'hono'
import type { ListParams } from '../../scim/list.js'
import { isRequested } from '../../scim/projection.js'
import {
  listResponseJson,
  scimGroupJson,
  scimUserJson,
  toScimGroup,
  toScimUser,
} from '../../scim/resources.js'
import { GROUP_RESOURCE, USER_RESOURCE } from '../../scim/schema/resource-types.js'
import { searchResources } from '../../services/search.js'
import type { AppEnv } from '../env.js'
import { readJsonBody, scimJsonText } from '../scim-response.js'
import {
  type Projection,
  queryListParams,
  queryProjection,
  renderResource,
  searchRequest,
} from './shared.js'

export function searchRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  const search = async (
    c: Context<AppEnv>,
    params: ListParams,
    users: Projection,
    groups: Projection,
  ) => {
    const result = await searchResources(c.get('deps'), c.get('source'), params, {
      withGroups: isRequested(USER_RESOURCE, users, 'groups'),
      withMembers: isRequested(GROUP_RESOURCE, groups, 'members'),
    })
    const baseUrl = c.get('baseUrl')
    const resources = result.items.map((item) =>
      item.resourceType === 'User'
        ? renderResource(
            USER_RESOURCE,
            users,
            () => toScimUser(item.record, baseUrl, item.groups),
            () => scimUserJson(item.record, baseUrl, item.groups),
          )
        : renderResource(
            GROUP_RESOURCE,
            groups,
            () => toScimGroup(item.record, baseUrl, item.members),
            () => scimGroupJson(item.record, baseUrl, item.members),
          ),
    )
    return scimJsonText(c, listResponseJson(resources, result.totalResults, params.startIndex))
  }

  app.post('/.search', async (c) => {
    const body = await readJsonBody(c)
    const maxResults = c.get('deps').config.maxResults
    // Each type reads the projection against its own schema; the list parameters are shared.
    const users = searchRequest(body, USER_RESOURCE, maxResults)
    const groups = searchRequest(body, GROUP_RESOURCE, maxResults)
    return search(c, users.params, users.projection, groups.projection)
  })

  app.get('/', (c) =>
    search(
      c,
      queryListParams(c),
      queryProjection(c, USER_RESOURCE),
      queryProjection(c, GROUP_RESOURCE),
    ),
  )

  return app
}
