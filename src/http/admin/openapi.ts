/** Pieces of the admin routes' OpenAPI definitions, and the document built from them. */
import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi'
import type * as z from 'zod'
import type { AppEnv } from '../env.js'
import { GenericErrorSchema, paginated, ValidationErrorSchema } from './schemas.js'

/** The security scheme of every admin route: an API token as a bearer credential. */
const SECURITY = [{ authentik: [] }]

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } }
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } }
}

/** The errors any admin route can answer. */
export const COMMON_ERRORS = {
  400: jsonResponse(ValidationErrorSchema, 'Invalid input: one list of messages per field'),
  401: jsonResponse(GenericErrorSchema, 'No token, or an invalid or expired one'),
  403: jsonResponse(GenericErrorSchema, 'The token may not use the admin API'),
} as const

export const NOT_FOUND = {
  404: jsonResponse(GenericErrorSchema, 'Not found'),
} as const

/** The 403 of a change to the directory: also answered for what a source provisioned. */
export const SOURCE_OWNED = {
  403: jsonResponse(
    GenericErrorSchema,
    'Not an admin token, or the object was provisioned by a SCIM source and changes only through it',
  ),
} as const

export const NO_CONTENT = { 204: { description: 'No content' } } as const

type Responses = RouteConfig['responses']

/** An admin route as the resource files state it: what differs from one route to the next. */
interface AdminRouteSpec<
  M extends RouteConfig['method'],
  P extends string,
  Req extends NonNullable<RouteConfig['request']>,
  Ok extends Responses,
  Errors extends Responses,
> {
  method: M
  path: P
  /** authentik's operationId; its first segment (`core`, `sources`…) is the route's tag. */
  operationId: string
  summary: string
  request?: Req
  /** The success responses, e.g. `{ 200: jsonResponse(…) }` or `NO_CONTENT`. */
  ok: Ok
  /** Errors beyond COMMON_ERRORS (NOT_FOUND…); one with the same status replaces the common one. */
  errors?: Errors
}

/**
 * An admin route: the spec plus what every admin route shares, its tag (authentik tags an
 * operation by the first segment of its id, which is the first segment of its path), the bearer
 * security and the common errors.
 */
export function adminRoute<
  M extends RouteConfig['method'],
  P extends string,
  Ok extends Responses,
  Req extends NonNullable<RouteConfig['request']> = Record<never, never>,
  Errors extends Responses = Record<never, never>,
>(spec: AdminRouteSpec<M, P, Req, Ok, Errors>) {
  const { ok, errors = {} as Errors, ...rest } = spec
  const responses = { ...ok, ...COMMON_ERRORS, ...errors } as Ok &
    Omit<typeof COMMON_ERRORS, keyof Errors> &
    Errors
  // `request` is optional in the spec but must keep its exact type: the handler's c.req.valid reads it
  const route = {
    ...rest,
    tags: [spec.operationId.split('_')[0] as string],
    security: SECURITY,
    responses,
  } as Omit<typeof rest, 'request'> & {
    request: Req
    tags: string[]
    security: typeof SECURITY
    responses: typeof responses
  }
  return createRoute(route)
}

/** Registers the bearer scheme the routes' `security` names. */
export function registerSecurityScheme(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'authentik', {
    type: 'http',
    scheme: 'bearer',
    description: 'An admin API token: `Authorization: Bearer <key>`',
  })
}

type Document = ReturnType<OpenAPIHono<AppEnv>['getOpenAPIDocument']>

/**
 * The OpenAPI 3.0 document of the admin API, from the routes registered on `app` (mounted at
 * /api/v3). Paths are spelt as authentik spells them, with a trailing slash; scimd answers
 * both spellings.
 */
export function adminDocument(app: OpenAPIHono<AppEnv>): Document {
  const document = app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: {
      title: 'scimd admin API',
      version: '3',
      description:
        'The authentik-compatible admin API of scimd: SCIM sources, what they provisioned, the directory and API tokens.',
    },
    servers: [{ url: '/api/v3' }],
    tags: [
      { name: 'sources', description: 'SCIM sources and their connection objects' },
      { name: 'core', description: 'Directory users and groups, API tokens' },
      {
        name: 'propertymappings',
        description: 'SCIM source and provider property mappings (JSONata expressions)',
      },
      { name: 'providers', description: 'Outbound SCIM providers and what they pushed' },
      { name: 'events', description: 'The event log: admin changes, provisioning, failures' },
      { name: 'schema', description: 'This document' },
    ],
  })
  const paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [
      path.endsWith('/') ? path : `${path}/`,
      item,
    ]),
  )
  return { ...document, paths }
}

/**
 * What the six routes of an admin model (list, create, retrieve, update, partial update,
 * destroy) differ in from one resource to the next; the rest is authentik's convention.
 */
interface ModelRoutesSpec<
  Query extends z.ZodObject,
  Params extends z.ZodObject,
  Schema extends z.ZodType,
  Request extends z.ZodType,
  Patched extends z.ZodType,
  Create extends Responses,
  Write extends Responses,
> {
  /** authentik's operationId prefix, e.g. `core_users`: `_list`, `_create`… follow it. */
  operationId: string
  /** The path of one object, e.g. `/{id}` (the name of the `params` field). */
  objectPath: string
  query: Query
  params: Params
  /** The object as answered, and its paginated list's component name. */
  schema: Schema
  listName: string
  /** The bodies of create and update (PUT), and of partial update (PATCH). */
  request: Request
  patched: Patched
  summaries: Record<'list' | 'create' | 'retrieve' | 'update' | 'partialUpdate' | 'destroy', string>
  /** The responses' descriptions: a page, one object, the object just created. */
  descriptions: { page: string; one: string; created: string }
  /** Errors of create, and of update, partial update and destroy (retrieve has NOT_FOUND). */
  createErrors?: Create
  writeErrors: Write
}

/** The list/create/retrieve/update/partialUpdate/destroy routes of an admin model. */
export function modelRoutes<
  Query extends z.ZodObject,
  Params extends z.ZodObject,
  Schema extends z.ZodType,
  Request extends z.ZodType,
  Patched extends z.ZodType,
  Write extends Responses,
  Create extends Responses = Record<never, never>,
>(spec: ModelRoutesSpec<Query, Params, Schema, Request, Patched, Create, Write>) {
  const { operationId: id, objectPath, params, schema, summaries, descriptions } = spec
  const one = { 200: jsonResponse(schema, descriptions.one) }
  return {
    list: adminRoute({
      method: 'get',
      path: '/',
      operationId: `${id}_list`,
      summary: summaries.list,
      request: { query: spec.query },
      ok: { 200: jsonResponse(paginated(schema, spec.listName), descriptions.page) },
    }),
    create: adminRoute({
      method: 'post',
      path: '/',
      operationId: `${id}_create`,
      summary: summaries.create,
      request: { body: jsonBody(spec.request) },
      ok: { 201: jsonResponse(schema, descriptions.created) },
      errors: spec.createErrors ?? ({} as Create),
    }),
    retrieve: adminRoute({
      method: 'get',
      path: objectPath,
      operationId: `${id}_retrieve`,
      summary: summaries.retrieve,
      request: { params },
      ok: one,
      errors: NOT_FOUND,
    }),
    update: adminRoute({
      method: 'put',
      path: objectPath,
      operationId: `${id}_update`,
      summary: summaries.update,
      request: { params, body: jsonBody(spec.request) },
      ok: one,
      errors: spec.writeErrors,
    }),
    partialUpdate: adminRoute({
      method: 'patch',
      path: objectPath,
      operationId: `${id}_partial_update`,
      summary: summaries.partialUpdate,
      request: { params, body: jsonBody(spec.patched) },
      ok: one,
      errors: spec.writeErrors,
    }),
    destroy: adminRoute({
      method: 'delete',
      path: objectPath,
      operationId: `${id}_destroy`,
      summary: summaries.destroy,
      request: { params },
      ok: NO_CONTENT,
      errors: spec.writeErrors,
    }),
  }
}
