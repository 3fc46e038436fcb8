/** POST /Bulk (RFC 7644 §3.7): reads the BulkRequest, runs it as the source, renders a BulkResponse. */
import { Hono } from 'hono'
import {
  BULK_RESPONSE_URN,
  type BulkOutcome,
  bulkPayloadTooLarge,
  parseBulkRequest,
} from '../../scim/bulk.js'
import { ScimError } from '../../scim/errors.js'
import { GROUP_RESOURCE, USER_RESOURCE } from '../../scim/schema/resource-types.js'
import { runBulk } from '../../services/bulk.js'
import type { AppEnv } from '../env.js'
import { readJsonBody, scimJson } from '../scim-response.js'

export function bulkRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/', async (c) => {
    const { config } = c.get('deps')
    const maxBytes = config.bulkMaxPayloadBytes
    const body = await readJsonBody(c, { maxBytes, tooLarge: () => bulkPayloadTooLarge(maxBytes) })
    const request = parseBulkRequest(body, config.bulkMaxOperations)
    const outcomes = await runBulk(c.get('deps'), c.get('source'), request)
    const baseUrl = c.get('baseUrl')
    return scimJson(c, {
      schemas: [BULK_RESPONSE_URN],
      Operations: outcomes.map((o) => renderOutcome(o, baseUrl)),
    })
  })
  app.on(['GET', 'PUT', 'PATCH', 'DELETE'], '/', (c) => {
    throw ScimError.methodNotAllowed(c.req.method, ['POST'])
  })
  return app
}

/** One entry of a BulkResponse's Operations (RFC 7644 §3.7.3); status is a string there. */
function renderOutcome(o: BulkOutcome, baseUrl: string): Record<string, unknown> {
  const endpoint =
    o.location?.resourceType === 'User' ? USER_RESOURCE.endpoint : GROUP_RESOURCE.endpoint
  return {
    ...(o.method !== undefined && { method: o.method }),
    ...(o.bulkId !== undefined && { bulkId: o.bulkId }),
    ...(o.location && { location: `${baseUrl}${endpoint}/${encodeURIComponent(o.location.id)}` }),
    ...(o.version !== undefined && { version: o.version }),
    status: String(o.status),
    ...(o.error && { response: o.error }),
  }
}
