/** The admin API under /api/v3: every admin route, its OpenAPI document, and 405 for wrong methods. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { ScimError } from '../../scim/errors.js'
import type { AppEnv } from '../env.js'
import { assertJsonShape, assertUtf8, refuseContentCoding } from '../scim-response.js'
import { eventRoutes } from './events.js'
import { groupRoutes } from './groups.js'
import { adminDocument, jsonResponse, registerSecurityScheme } from './openapi.js'
import { propertyMappingRoutes } from './property-mappings.js'
import { providerGroupRoutes, providerRoutes, providerUserRoutes } from './providers.js'
import { scimGroupRoutes } from './scim-groups.js'
import { scimUserRoutes } from './scim-users.js'
import { sourceRoutes } from './sources.js'
import { tokenRoutes } from './tokens.js'
import { userRoutes } from './users.js'
import { adminValidationHook } from './validation.js'

/** Where the admin API is mounted. */
export const ADMIN_PREFIX = '/api/v3'

const schemaRoute = createRoute({
  method: 'get',
  path: '/schema',
  operationId: 'schema_retrieve',
  summary: 'This OpenAPI 3 document (no token needed)',
  tags: ['schema'],
  security: [],
  responses: {
    200: jsonResponse(z.record(z.string(), z.unknown()), 'The OpenAPI document'),
  },
})

/** The methods that some admin route answers at `path` (relative to the mount point). */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  const methods = new Set<string>()
  for (const route of app.routes) {
    if (route.method === 'ALL') continue
    const pattern = route.path
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')
    if (new RegExp(`^${pattern}$`).test(path)) methods.add(route.method)
  }
  return [...methods]
}

/**
 * A body is taken as sent and in UTF-8 (RFC 8259 §8.1), with the SCIM paths' checks: a
 * compressed one is 415, one that is not UTF-8 is 400. Hono keeps the bytes read here for
 * the route.
 */
const plainUtf8Body: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.raw.body !== null) {
    refuseContentCoding(c)
    const bytes = await c.req.arrayBuffer()
    assertUtf8(bytes)
    assertJsonShape(Buffer.from(bytes).toString('utf8'))
  }
  await next()
}

/**
 * `curl -d '{…}'` labels a JSON body application/x-www-form-urlencoded unless told otherwise.
 * A body so labelled (or not labelled) that is a JSON object is taken as the JSON it is; any
 * other body keeps its type and is refused with 415 by the route.
 */
const jsonSentAsForm: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (c.req.raw.body !== null && (!type || type === 'application/x-www-form-urlencoded')) {
    const text = await c.req.text()
    if (/^\s*\{/.test(text) && isJson(text)) {
      const headers = new Headers(c.req.raw.headers)
      headers.set('content-type', 'application/json')
      c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: text })
    }
  }
  await next()
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Builds the admin API. `auth` guards every route but the OpenAPI document, which holds no
 * data and is what API clients are generated from.
 */
export function adminApi(auth: MiddlewareHandler<AppEnv>): OpenAPIHono<AppEnv> {
  const admin = new OpenAPIHono<AppEnv>({ defaultHook: adminValidationHook })
  registerSecurityScheme(admin)

  let document: ReturnType<typeof adminDocument> | undefined
  // Registered before the auth middleware, so it answers without a token. Built on first
  // use, when every route below is registered.
  admin.openapi(schemaRoute, (c) => {
    document ??= adminDocument(admin)
    return c.json(document, 200)
  })

  admin.use('*', auth)
  admin.use('*', plainUtf8Body)
  admin.use('*', jsonSentAsForm)
  admin.route('/sources/scim', sourceRoutes())
  admin.route('/sources/scim_users', scimUserRoutes())
  admin.route('/sources/scim_groups', scimGroupRoutes())
  admin.route('/core/users', userRoutes())
  admin.route('/core/groups', groupRoutes())
  admin.route('/core/tokens', tokenRoutes())
  admin.route('/propertymappings/source/scim', propertyMappingRoutes('source'))
  admin.route('/propertymappings/provider/scim', propertyMappingRoutes('provider'))
  admin.route('/providers/scim', providerRoutes())
  admin.route('/providers/scim_users', providerUserRoutes())
  admin.route('/providers/scim_groups', providerGroupRoutes())
  admin.route('/events/events', eventRoutes())

  // Reached only when no route answered: a known path with another method is 405.
  admin.all('*', (c) => {
    const relative = c.req.path.slice(ADMIN_PREFIX.length) || '/'
    const allowed = allowedMethods(admin, relative)
    if (allowed.length === 0) throw ScimError.notFound(`No endpoint at ${c.req.path}`)
    throw new ScimError(405, `Method "${c.req.method}" not allowed.`, undefined, {
      Allow: allowed.join(', '),
    })
  })
  return admin
}
