/** /api/v3/core/tokens/: API tokens without their keys, view_key, set_key, rotate and revoke. */
import { OpenAPIHono } from '@hono/zod-openapi'
import { ScimError } from '../../scim/errors.js'
import * as tokens from '../../services/tokens.js'
import type { AppEnv } from '../env.js'
import { ValidationError } from '../render-error.js'
import { adminRoute, jsonBody, jsonResponse, NO_CONTENT, NOT_FOUND } from './openapi.js'
import { flag, listControls, paginate } from './pagination.js'
import {
  IdentifierParams,
  paginated,
  SetKeySchema,
  TokenListQuery,
  TokenPatchSchema,
  TokenSchema,
  TokenViewSchema,
} from './schemas.js'
import { serializeToken } from './serializers.js'

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'core_tokens_list',
  summary: 'List API tokens (never their keys)',
  request: { query: TokenListQuery },
  ok: { 200: jsonResponse(paginated(TokenSchema, 'Token'), 'One page of tokens') },
})

const retrieve = adminRoute({
  method: 'get',
  path: '/{identifier}',
  operationId: 'core_tokens_retrieve',
  summary: 'Read a token (never its key)',
  request: { params: IdentifierParams },
  ok: { 200: jsonResponse(TokenSchema, 'The token') },
  errors: NOT_FOUND,
})

const partialUpdate = adminRoute({
  method: 'patch',
  path: '/{identifier}',
  operationId: 'core_tokens_partial_update',
  summary: "Change a token's description or expiry",
  request: { params: IdentifierParams, body: jsonBody(TokenPatchSchema) },
  ok: { 200: jsonResponse(TokenSchema, 'The token') },
  errors: NOT_FOUND,
})

const viewKey = adminRoute({
  method: 'get',
  path: '/{identifier}/view_key',
  operationId: 'core_tokens_view_key_retrieve',
  summary: "Read a token's key (logged as secret_view)",
  request: { params: IdentifierParams },
  ok: { 200: jsonResponse(TokenViewSchema, 'The key') },
  errors: NOT_FOUND,
})

const setKey = adminRoute({
  method: 'post',
  path: '/{identifier}/set_key',
  operationId: 'core_tokens_set_key_create',
  summary: "Set a token's key; the old key stops working at once",
  request: { params: IdentifierParams, body: jsonBody(SetKeySchema) },
  ok: NO_CONTENT,
  errors: NOT_FOUND,
})

const rotate = adminRoute({
  method: 'post',
  path: '/{identifier}/rotate',
  operationId: 'core_tokens_rotate_create',
  summary: 'Issue a new random key; the old key stops working at once (scimd)',
  request: { params: IdentifierParams },
  ok: { 200: jsonResponse(TokenViewSchema, 'The new key') },
  errors: NOT_FOUND,
})

const destroy = adminRoute({
  method: 'delete',
  path: '/{identifier}',
  operationId: 'core_tokens_destroy',
  summary:
    "Revoke an admin API token; its key stops working at once. A source's token and the " +
    "caller's own token are refused (400)",
  request: { params: IdentifierParams },
  ok: NO_CONTENT,
  errors: NOT_FOUND,
})

/** A response carrying a key is kept by no cache, shared or private (RFC 9111 §5.2.2.5). */
const SECRET_HEADERS = { 'Cache-Control': 'no-store' }

export function tokenRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<tokens.TokenOrderField>(query)
    const page = await tokens.listTokens(c.get('deps'), {
      ...controls,
      filter: {
        identifier: query.identifier,
        intent: query.intent,
        description: query.description,
        managed: query.managed,
        expiring: flag(query.expiring),
        userUsername: query.user__username,
        search: query.search,
      },
    })
    return c.json(
      paginate(
        controls,
        page.count,
        page.items.map((d) => serializeToken(d.token, d.user)),
      ),
      200,
    )
  })

  app.openapi(retrieve, async (c) => {
    const detail = await tokens.getToken(c.get('deps'), c.req.valid('param').identifier)
    return c.json(serializeToken(detail.token, detail.user), 200)
  })

  app.openapi(partialUpdate, async (c) => {
    const input = c.req.valid('json')
    const detail = await tokens.updateToken(c.get('deps'), c.req.valid('param').identifier, {
      description: input.description,
      expires:
        input.expires === undefined || input.expires === null
          ? input.expires
          : new Date(input.expires).toISOString(),
      expiring: input.expiring,
    })
    c.get('deps').logger.info('token_updated', {
      identifier: detail.token.identifier,
      expires: detail.token.expires,
      by: c.get('adminUser').username,
    })
    return c.json(serializeToken(detail.token, detail.user), 200)
  })

  app.openapi(destroy, async (c) => {
    const { identifier } = c.req.valid('param')
    await tokens.revokeToken(c.get('deps'), identifier, { callerTokenId: c.get('adminToken').id })
    c.get('deps').logger.info('token_revoked', { identifier, by: c.get('adminUser').username })
    return c.body(null, 204)
  })

  app.openapi(viewKey, async (c) => {
    const { identifier } = c.req.valid('param')
    const key = await tokens.viewKey(c.get('deps'), identifier)
    c.get('deps').logger.info('secret_view', { identifier, by: c.get('adminUser').username })
    return c.json({ key }, 200, SECRET_HEADERS)
  })

  app.openapi(setKey, async (c) => {
    const { identifier } = c.req.valid('param')
    try {
      await tokens.setKey(c.get('deps'), identifier, c.req.valid('json').key)
    } catch (err) {
      if (err instanceof ScimError && err.scimType === 'uniqueness') {
        throw new ValidationError({ key: ['This key is already in use.'] })
      }
      throw err
    }
    c.get('deps').logger.info('token_key_set', { identifier, by: c.get('adminUser').username })
    return c.body(null, 204)
  })

  app.openapi(rotate, async (c) => {
    const { identifier } = c.req.valid('param')
    const key = await tokens.rotateKey(c.get('deps'), identifier)
    c.get('deps').logger.info('token_rotated', { identifier, by: c.get('adminUser').username })
    return c.json({ key }, 200, SECRET_HEADERS)
  })

  return app
}
