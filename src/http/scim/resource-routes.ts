/** The routes every SCIM resource type has (RFC 7644 §3.3–3.6), built once for Users and Groups. */
import { type Context, Hono } from 'hono'
import type { Source } from '../../core/domain.js'
import { ScimError } from '../../scim/errors.js'
import type { ListParams } from '../../scim/list.js'
import { etag, listResponseJson, type ScimResource } from '../../scim/resources.js'
import type { ResourceSchema } from '../../scim/schema/resource-types.js'
import type { Deps } from '../../services/deps.js'
import type { ListResult } from '../../services/resource-common.js'
import type { AppEnv } from '../env.js'
import { readJsonBody, scimJsonText, scimResponse } from '../scim-response.js'
import {
  asksForAttributes,
  notModified,
  type Projection,
  queryListParams,
  queryProjection,
  renderResource,
  searchRequest,
} from './shared.js'

interface WriteExtras {
  ifMatch: string | undefined
}

/** The service operations of one resource type, with the read options a projection implies. */
export interface ResourceService<V extends { record: { id: string; version: number } }, O> {
  resource: ResourceSchema
  readOptions(projection: Projection): O
  /** Read options that load nothing extra, for responses without a body. */
  bodylessReadOptions: O
  toWire(view: V, baseUrl: string): ScimResource
  /** `JSON.stringify(toWire(view, baseUrl))`, made without the object where it can be. */
  toJson(view: V, baseUrl: string): string
  create(deps: Deps, source: Source, body: unknown, opts: O): Promise<V>
  get(deps: Deps, source: Source, id: string, opts: O): Promise<V>
  replace(deps: Deps, source: Source, id: string, body: unknown, opts: O & WriteExtras): Promise<V>
  patch(deps: Deps, source: Source, id: string, body: unknown, opts: O & WriteExtras): Promise<V>
  remove(deps: Deps, source: Source, id: string, ifMatch: string | undefined): Promise<void>
  list(deps: Deps, source: Source, params: ListParams, opts: O): Promise<ListResult<V>>
  /**
   * PATCH answers 204 unless the client asked for attributes (RFC 7644 §3.5.2 allows
   * either). Entra recommends 204 for groups: returning large member lists is what makes
   * other servers slow.
   */
  patchAnswersNoContent: boolean
}

export function resourceRoutes<V extends { record: { id: string; version: number } }, O>(
  service: ResourceService<V, O>,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const { resource } = service
  const render = (c: Context<AppEnv>, view: V, projection: Projection): string =>
    renderResource(
      resource,
      projection,
      () => service.toWire(view, c.get('baseUrl')),
      () => service.toJson(view, c.get('baseUrl')),
    )
  const defaultReadOptions = service.readOptions({})
  const readOptions = (projection: Projection) =>
    asksForAttributes(projection) ? service.readOptions(projection) : defaultReadOptions
  const writeExtras = (c: Context<AppEnv>, projection: Projection) => ({
    ...readOptions(projection),
    ifMatch: c.req.header('if-match'),
  })

  const list = async (c: Context<AppEnv>, params: ListParams, projection: Projection) => {
    const opts = readOptions(projection)
    const result = await service.list(c.get('deps'), c.get('source'), params, opts)
    const resources = result.items.map((v) => render(c, v, projection))
    return scimJsonText(c, listResponseJson(resources, result.totalResults, params.startIndex))
  }

  app.get('/', (c) => list(c, queryListParams(c), queryProjection(c, resource)))

  app.post('/', async (c) => {
    const projection = queryProjection(c, resource)
    const body = await readJsonBody(c)
    const view = await service.create(c.get('deps'), c.get('source'), body, readOptions(projection))
    return scimJsonText(c, render(c, view, projection), 201, {
      Location: `${c.get('baseUrl')}${resource.endpoint}/${view.record.id}`,
      ETag: etag(view.record.version),
    })
  })

  app.get('/:id', async (c) => {
    const projection = queryProjection(c, resource)
    const opts = readOptions(projection)
    const view = await service.get(c.get('deps'), c.get('source'), c.req.param('id'), opts)
    const tag = etag(view.record.version)
    if (notModified(c, tag)) return scimResponse(c, null, 304, { ETag: tag })
    return scimJsonText(c, render(c, view, projection), 200, { ETag: tag })
  })

  app.put('/:id', async (c) => {
    const projection = queryProjection(c, resource)
    const body = await readJsonBody(c)
    const opts = writeExtras(c, projection)
    const view = await service.replace(
      c.get('deps'),
      c.get('source'),
      c.req.param('id'),
      body,
      opts,
    )
    return scimJsonText(c, render(c, view, projection), 200, { ETag: etag(view.record.version) })
  })

  app.patch('/:id', async (c) => {
    const projection = queryProjection(c, resource)
    const body = await readJsonBody(c)
    const noContent = service.patchAnswersNoContent && !asksForAttributes(projection)
    // A 204 has no body: load nothing for it (a group's members could be a million rows).
    const opts = noContent
      ? { ...service.bodylessReadOptions, ifMatch: c.req.header('if-match') }
      : writeExtras(c, projection)
    const view = await service.patch(c.get('deps'), c.get('source'), c.req.param('id'), body, opts)
    const tag = etag(view.record.version)
    if (noContent) return scimResponse(c, null, 204, { ETag: tag })
    return scimJsonText(c, render(c, view, projection), 200, { ETag: tag })
  })

  app.delete('/:id', async (c) => {
    await service.remove(
      c.get('deps'),
      c.get('source'),
      c.req.param('id'),
      c.req.header('if-match'),
    )
    return scimResponse(c, null, 204)
  })

  app.on(['PUT', 'PATCH', 'DELETE'], '/', (c) => {
    throw ScimError.methodNotAllowed(c.req.method, ['GET', 'HEAD', 'POST'])
  })
  // POST /<type>/.search (RFC 7644 §3.4.3) shares the `/:id` route: Hono's fastest router
  // (RegExpRouter) cannot have a static segment and a parameter in the same place, and
  // without it every request went through the slower TrieRouter.
  app.post('/:id', async (c) => {
    if (c.req.param('id') !== '.search') {
      throw ScimError.methodNotAllowed('POST', ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'])
    }
    const { params, projection } = searchRequest(
      await readJsonBody(c),
      resource,
      c.get('deps').config.maxResults,
    )
    return list(c, params, projection)
  })
  return app
}
