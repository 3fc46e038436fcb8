/** Discovery endpoints (RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas; read-only. */
import { Hono } from 'hono'
import { ScimError } from '../../scim/errors.js'
import {
  listResponse,
  resourceType,
  resourceTypes,
  schemaResource,
  schemaResources,
  serviceProviderConfig,
} from '../../scim/schema/discovery.js'
import type { AppEnv } from '../env.js'
import { scimJson } from '../scim-response.js'

export function discoveryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/ServiceProviderConfig', (c) => {
    const { config } = c.get('deps')
    return scimJson(
      c,
      serviceProviderConfig(c.get('baseUrl'), {
        maxResults: config.maxResults,
        maxOperations: config.bulkMaxOperations,
        maxPayloadSize: config.bulkMaxPayloadBytes,
      }),
    )
  })
  app.get('/ResourceTypes', (c) => scimJson(c, listResponse(resourceTypes(c.get('baseUrl')))))
  app.get('/ResourceTypes/:id', (c) => {
    const found = resourceType(c.get('baseUrl'), c.req.param('id'))
    if (!found) throw ScimError.notFound(`ResourceType ${c.req.param('id')} not found`)
    return scimJson(c, found)
  })
  app.get('/Schemas', (c) => scimJson(c, listResponse(schemaResources(c.get('baseUrl')))))
  app.get('/Schemas/:id', (c) => {
    const found = schemaResource(c.get('baseUrl'), c.req.param('id'))
    if (!found) throw ScimError.notFound(`Schema ${c.req.param('id')} not found`)
    return scimJson(c, found)
  })
  // Discovery is read-only: Okta's SPEC test expects 405 for writes.
  for (const path of [
    '/ServiceProviderConfig',
    '/ResourceTypes',
    '/ResourceTypes/:id',
    '/Schemas',
    '/Schemas/:id',
  ]) {
    app.on(['POST', 'PUT', 'PATCH', 'DELETE'], path, (c) => {
      throw ScimError.methodNotAllowed(c.req.method, ['GET', 'HEAD'])
    })
  }
  // RFC 7644 §3.11: /Me (a source's token stands for no user) answers 501.
  app.all('/Me', () => {
    throw new ScimError(501, '/Me is not supported')
  })
  return app
}
