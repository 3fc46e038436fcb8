/** /api/v3/events/events/: the event log in authentik's shape (read-only: list and retrieve). */
import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { AuditEvent } from '../../core/events.js'
import * as events from '../../services/events.js'
import type { AppEnv } from '../env.js'
import { adminRoute, jsonResponse, NOT_FOUND } from './openapi.js'
import { listControls, paginate } from './pagination.js'
import { IdParams, listQuery, paginated, text } from './schemas.js'

export const EventSchema = z
  .object({
    pk: z.string().openapi({ format: 'uuid' }),
    user: z
      .object({ pk: z.number().int(), username: z.string() })
      .catchall(z.unknown())
      .openapi({ description: 'Who acted ({} when nobody signed in, e.g. a failed login)' }),
    action: z.string().openapi({ example: 'model_created' }),
    app: z.string(),
    context: z.record(z.string(), z.unknown()),
    client_ip: z.string().nullable(),
    created: z.string().openapi({ format: 'date-time' }),
    expires: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Event')

export const EventListQuery = listQuery(events.EVENT_ORDER_FIELDS, {
  action: text()
    .optional()
    .openapi({ description: 'Events whose action contains this (ignoring case).' }),
  username: text().optional(),
  client_ip: text().optional(),
  context_model_app: text().optional(),
  context_model_name: text().optional(),
  context_model_pk: text().optional(),
  context__source: text()
    .optional()
    .openapi({ description: "A source's pk, or the slug a source has now (scimd)." }),
})

const list = adminRoute({
  method: 'get',
  path: '/',
  operationId: 'events_events_list',
  summary: 'List events, newest first',
  request: { query: EventListQuery },
  ok: { 200: jsonResponse(paginated(EventSchema, 'Event'), 'One page of events') },
})

const retrieve = adminRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'events_events_retrieve',
  summary: 'Read an event',
  request: { params: IdParams },
  ok: { 200: jsonResponse(EventSchema, 'The event') },
  errors: NOT_FOUND,
})

/** An event as authentik serializes it: `user` is `{}` when no user is known. */
export function serializeEvent(event: AuditEvent): z.infer<typeof EventSchema> {
  return {
    pk: event.id,
    user: (event.user ?? {}) as z.infer<typeof EventSchema>['user'],
    action: event.action,
    app: event.app,
    context: event.context,
    client_ip: event.clientIp,
    created: event.created,
    expires: event.expires,
  }
}

export function eventRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<events.EventOrderField>(query)
    const page = await events.listEvents(c.get('deps'), {
      ...controls,
      filter: {
        action: query.action,
        username: query.username,
        clientIp: query.client_ip,
        source: query.context__source,
        modelApp: query.context_model_app,
        modelName: query.context_model_name,
        modelPk: query.context_model_pk,
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeEvent)), 200)
  })

  app.openapi(retrieve, async (c) => {
    const event = await events.getEvent(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeEvent(event), 200)
  })

  return app
}
