/** /api/v3/providers/scim/, scim_users/ and scim_groups/: outbound SCIM providers, authentik's shapes. */
import { OpenAPIHono, z } from '@hono/zod-openapi'
import * as providers from '../../services/providers.js'
import type { AppEnv } from '../env.js'
import { ValidationError } from '../render-error.js'
import {
  adminRoute,
  jsonBody,
  jsonResponse,
  modelRoutes,
  NO_CONTENT,
  NOT_FOUND,
} from './openapi.js'
import { listControls, paginate } from './pagination.js'
import {
  boolParam,
  flag,
  integerText,
  listQuery,
  MESSAGES,
  object,
  PartialGroupSchema,
  PartialUserSchema,
  paginated,
  readOnly,
  text,
  UsedBySchema,
} from './schemas.js'
import { serializePartialGroup, serializePartialUser } from './serializers.js'

/** Provider property mapping uuids (the service checks each names a provider mapping). */
function mappingIds(what: string) {
  return z.array(text(), { error: MESSAGES.list }).openapi({
    description: `Provider property mapping uuids for ${what}, run in name order and merged onto the default body`,
  })
}

const url = text().trim().min(1, { error: MESSAGES.blank }).openapi({
  description: 'Base URL of the remote SCIM API, usually ending in /v2',
  example: 'https://app.example.com/scim/v2',
})

const ProviderSchema = z
  .object({
    pk: z.number().int(),
    name: z.string(),
    property_mappings: z.array(z.string()),
    property_mappings_group: z.array(z.string()),
    component: z.string(),
    assigned_backchannel_application_slug: z.string(),
    assigned_backchannel_application_name: z.string(),
    verbose_name: z.string(),
    verbose_name_plural: z.string(),
    meta_model_name: z.string(),
    url: z.string(),
    verify_certificates: z.boolean(),
    compatibility_mode: z.enum(providers.COMPATIBILITY_MODES),
    exclude_users_service_account: z.boolean(),
    filter_group: z.string().nullable().openapi({ format: 'uuid' }),
    dry_run: z.boolean(),
  })
  .openapi('SCIMProvider', { description: 'The token is write-only: never returned.' })

const requestShape = {
  name: text().trim().min(1, { error: MESSAGES.blank }),
  url,
  token: text().min(1, { error: MESSAGES.blank }).openapi({
    description: 'Bearer token for the remote (write-only, sealed at rest)',
    writeOnly: true,
  }),
  verify_certificates: flag().optional(),
  compatibility_mode: z
    .enum(providers.COMPATIBILITY_MODES, {
      error: (issue) =>
        issue.input === undefined
          ? 'This field is required.'
          : `"${String(issue.input)}" is not a valid choice.`,
    })
    .optional(),
  exclude_users_service_account: flag().optional(),
  filter_group: text()
    .nullable()
    .optional()
    .openapi({ format: 'uuid', description: 'Only members of this directory group are pushed' }),
  dry_run: flag().optional(),
  property_mappings: mappingIds('users').optional(),
  property_mappings_group: mappingIds('groups').optional(),
  pk: readOnly(),
  component: readOnly(),
  assigned_backchannel_application_slug: readOnly(),
  assigned_backchannel_application_name: readOnly(),
  verbose_name: readOnly(),
  verbose_name_plural: readOnly(),
  meta_model_name: readOnly(),
}

const ProviderRequestSchema = object(requestShape).openapi('SCIMProviderRequest')
const PatchedProviderRequestSchema = ProviderRequestSchema.partial().openapi(
  'PatchedSCIMProviderRequest',
)

const ProviderListQuery = listQuery(providers.PROVIDER_ORDER_FIELDS, {
  name: text().optional(),
  url: text().optional(),
  exclude_users_service_account: boolParam(),
  filter_group: text().optional(),
})

const IdParams = z.object({
  id: text().openapi({ param: { name: 'id', in: 'path' }, example: '1' }),
})

const SyncStatusSchema = z
  .object({
    is_running: z.boolean(),
    last_sync_status: z.string().nullable(),
    last_successful_sync: z.string().nullable(),
    last_sync_message: z.string().nullable(),
    last_full_sync_started: z.string().nullable(),
    last_full_sync_finished: z.string().nullable(),
    full_sync_pending: z.boolean(),
    outbox: z.object({ count: z.number().int(), oldest: z.string().nullable() }),
    users: z.object({ linked: z.number().int(), failed: z.number().int() }),
    groups: z.object({ linked: z.number().int(), failed: z.number().int() }),
    last_errors: z.array(
      z.object({
        model: z.enum(['user', 'group']),
        object_id: z.string(),
        error: z.string().nullable(),
        attempts: z.number().int(),
        at: z.string(),
      }),
    ),
  })
  .openapi('SyncStatus')

const SYNC_MODELS = {
  'authentik.core.models.User': 'user',
  'authentik.core.models.Group': 'group',
  user: 'user',
  group: 'group',
} as const

const SyncObjectRequestSchema = object({
  sync_object_model: z.enum(Object.keys(SYNC_MODELS) as [keyof typeof SYNC_MODELS], {
    error: 'Expected "authentik.core.models.User" or "authentik.core.models.Group".',
  }),
  sync_object_id: text().min(1, { error: MESSAGES.blank }),
  override_dry_run: flag().optional(),
}).openapi('SyncObjectRequest')

const SyncObjectResultSchema = z
  .object({ messages: z.array(z.record(z.string(), z.unknown())) })
  .openapi('SyncObjectResult')

/** What a provider's user link and group link share around their directory object. */
const linkId = { id: z.string().openapi({ format: 'uuid' }), scim_id: z.string().nullable() }
const linkState = {
  provider: z.number().int(),
  attributes: z.record(z.string(), z.unknown()),
  last_error: z.string().nullable(),
  last_request: z.record(z.string(), z.unknown()).nullable(),
  attempts: z.number().int(),
  last_update: z.string(),
}

const ProviderUserSchema = z
  .object({
    ...linkId,
    user: z.number().int().nullable(),
    user_obj: PartialUserSchema.nullable(),
    ...linkState,
  })
  .openapi('SCIMProviderUser')

const ProviderGroupSchema = z
  .object({
    ...linkId,
    group: z.string().openapi({ format: 'uuid' }),
    group_obj: PartialGroupSchema.nullable(),
    ...linkState,
  })
  .openapi('SCIMProviderGroup')

const ObjectListQuery = listQuery([], {
  provider__id: integerText().optional(),
  user__id: integerText().optional(),
  group__group_uuid: text().optional(),
})

function serializeProvider(p: providers.Provider): z.infer<typeof ProviderSchema> {
  return {
    pk: p.pk,
    name: p.name,
    property_mappings: [...p.propertyMappings],
    property_mappings_group: [...p.propertyMappingsGroup],
    component: 'ak-provider-scim-form',
    assigned_backchannel_application_slug: '',
    assigned_backchannel_application_name: '',
    verbose_name: 'SCIM Provider',
    verbose_name_plural: 'SCIM Providers',
    meta_model_name: 'authentik_providers_scim.scimprovider',
    url: p.url,
    verify_certificates: p.verifyCertificates,
    compatibility_mode: p.compatibilityMode,
    exclude_users_service_account: p.excludeUsersServiceAccount,
    filter_group: p.filterGroup,
    dry_run: p.dryRun,
  }
}

type ProviderRequest = Partial<z.infer<typeof ProviderRequestSchema>>

function toInput(input: ProviderRequest): providers.ProviderChange {
  const change: providers.ProviderChange = {}
  if (input.name !== undefined) change.name = input.name
  if (input.url !== undefined) change.url = input.url
  if (input.token !== undefined) change.token = input.token
  if (input.verify_certificates !== undefined) change.verifyCertificates = input.verify_certificates
  if (input.compatibility_mode !== undefined) change.compatibilityMode = input.compatibility_mode
  if (input.exclude_users_service_account !== undefined)
    change.excludeUsersServiceAccount = input.exclude_users_service_account
  if (input.filter_group !== undefined) change.filterGroup = input.filter_group
  if (input.dry_run !== undefined) change.dryRun = input.dry_run
  if (input.property_mappings !== undefined) change.propertyMappings = input.property_mappings
  if (input.property_mappings_group !== undefined)
    change.propertyMappingsGroup = input.property_mappings_group
  return change
}

/** A service's field error becomes authentik's `{field: [message]}`. */
async function fieldErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof providers.ProviderFieldError) {
      throw new ValidationError({ [err.field]: [err.detail] })
    }
    throw err
  }
}

const routes = {
  ...modelRoutes({
    operationId: 'providers_scim',
    objectPath: '/{id}',
    query: ProviderListQuery,
    params: IdParams,
    schema: ProviderSchema,
    listName: 'SCIMProvider',
    request: ProviderRequestSchema,
    patched: PatchedProviderRequestSchema,
    summaries: {
      list: 'List SCIM providers',
      create: 'Create a SCIM provider (a full sync starts at once)',
      retrieve: 'Read a SCIM provider',
      update: 'Replace a SCIM provider (a changed target or scope starts a full sync)',
      partialUpdate: 'Change some fields of a SCIM provider',
      destroy: 'Delete a SCIM provider (remote objects are left as they are)',
    },
    descriptions: {
      page: 'One page of providers',
      one: 'The provider',
      created: 'The new provider',
    },
    writeErrors: NOT_FOUND,
  }),
  usedBy: adminRoute({
    method: 'get',
    path: '/{id}/used_by',
    operationId: 'providers_scim_used_by_list',
    summary: 'What deleting the provider deletes too (nothing but its own links)',
    request: { params: IdParams },
    ok: { 200: jsonResponse(z.array(UsedBySchema), 'Objects deleted with the provider') },
    errors: NOT_FOUND,
  }),
  status: adminRoute({
    method: 'get',
    path: '/{id}/sync/status',
    operationId: 'providers_scim_sync_status_retrieve',
    summary: 'Sync status: running, last result, outbox depth, counts and the last errors',
    request: { params: IdParams },
    ok: { 200: jsonResponse(SyncStatusSchema, 'The sync status') },
    errors: NOT_FOUND,
  }),
  syncObject: adminRoute({
    method: 'post',
    path: '/{id}/sync/object',
    operationId: 'providers_scim_sync_object_create',
    summary: 'Push one user or group now and return its log',
    request: { params: IdParams, body: jsonBody(SyncObjectRequestSchema) },
    ok: { 200: jsonResponse(SyncObjectResultSchema, 'What the push did') },
    errors: NOT_FOUND,
  }),
  syncFull: adminRoute({
    method: 'post',
    path: '/{id}/sync/full',
    operationId: 'providers_scim_sync_full_create',
    summary: 'Start a full sync now (scimd; authentik starts one on save)',
    request: { params: IdParams },
    ok: { 202: jsonResponse(SyncStatusSchema, 'Requested; the status') },
    errors: NOT_FOUND,
  }),
}

function serializeStatus(s: providers.SyncStatus): z.infer<typeof SyncStatusSchema> {
  return {
    is_running: s.isRunning,
    last_sync_status: s.lastSyncStatus,
    last_successful_sync: s.lastSuccessfulSync,
    last_sync_message: s.lastSyncMessage,
    last_full_sync_started: s.lastFullSyncStartedAt,
    last_full_sync_finished: s.lastFullSyncFinishedAt,
    full_sync_pending: s.fullSyncPending,
    outbox: s.outbox,
    users: s.users,
    groups: s.groups,
    last_errors: s.lastErrors.map((e) => ({
      model: e.kind,
      object_id: e.objectId,
      error: e.lastError,
      attempts: e.attempts,
      at: e.updatedAt,
    })),
  }
}

export function providerRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(routes.list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<providers.ProviderOrderField>(query)
    const flagText = query.exclude_users_service_account
    const page = await providers.listProviders(c.get('deps'), {
      ...controls,
      filter: {
        name: query.name,
        url: query.url,
        excludeUsersServiceAccount:
          flagText === undefined ? undefined : ['true', 'True', '1'].includes(flagText),
        filterGroup: query.filter_group,
        search: query.search,
      },
    })
    return c.json(paginate(controls, page.count, page.items.map(serializeProvider)), 200)
  })

  app.openapi(routes.create, async (c) => {
    const input = c.req.valid('json')
    const created = await fieldErrors(() =>
      providers.createProvider(c.get('deps'), {
        ...toInput(input),
        name: input.name,
        url: input.url,
        token: input.token,
      }),
    )
    return c.json(serializeProvider(created), 201)
  })

  app.openapi(routes.retrieve, async (c) => {
    const p = await providers.getProvider(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeProvider(p), 200)
  })

  // PUT and PATCH: the input carries only the fields sent, so one handler serves both.
  for (const route of [routes.update, routes.partialUpdate]) {
    app.openapi(route, async (c) => {
      const { id } = c.req.valid('param')
      const p = await fieldErrors(() =>
        providers.updateProvider(c.get('deps'), id, toInput(c.req.valid('json'))),
      )
      return c.json(serializeProvider(p), 200)
    })
  }

  app.openapi(routes.destroy, async (c) => {
    await providers.deleteProvider(c.get('deps'), c.req.valid('param').id)
    return c.body(null, 204)
  })

  app.openapi(routes.usedBy, async (c) => {
    // Deleting a provider deletes only its own links and pending changes.
    await providers.getProvider(c.get('deps'), c.req.valid('param').id)
    return c.json([], 200)
  })

  app.openapi(routes.status, async (c) => {
    const s = await providers.syncStatus(c.get('deps'), c.req.valid('param').id)
    return c.json(serializeStatus(s), 200)
  })

  app.openapi(routes.syncObject, async (c) => {
    const { id } = c.req.valid('param')
    const input = c.req.valid('json')
    const messages = await fieldErrors(() =>
      providers.syncObject(
        c.get('deps'),
        id,
        SYNC_MODELS[input.sync_object_model],
        input.sync_object_id,
        input.override_dry_run ?? false,
      ),
    )
    return c.json({ messages }, 200)
  })

  app.openapi(routes.syncFull, async (c) => {
    const { id } = c.req.valid('param')
    await providers.requestFullSync(c.get('deps'), id)
    return c.json(serializeStatus(await providers.syncStatus(c.get('deps'), id)), 202)
  })

  return app
}

function objectRoutes(kind: 'user' | 'group'): OpenAPIHono<AppEnv> {
  const name = kind === 'user' ? 'scim_users' : 'scim_groups'
  const schema = kind === 'user' ? ProviderUserSchema : ProviderGroupSchema
  const ObjectIdParams = z.object({
    id: text().openapi({ param: { name: 'id', in: 'path' } }),
  })
  const list = adminRoute({
    method: 'get',
    path: '/',
    operationId: `providers_${name}_list`,
    summary: `Which remote id each directory ${kind} has on each provider`,
    request: { query: ObjectListQuery },
    ok: {
      200: jsonResponse(
        paginated(schema, kind === 'user' ? 'SCIMProviderUser' : 'SCIMProviderGroup'),
        'One page of links',
      ),
    },
  })
  const retrieve = adminRoute({
    method: 'get',
    path: '/{id}',
    operationId: `providers_${name}_retrieve`,
    summary: `Read one ${kind} link`,
    request: { params: ObjectIdParams },
    ok: { 200: jsonResponse(schema, 'The link') },
    errors: NOT_FOUND,
  })
  const destroy = adminRoute({
    method: 'delete',
    path: '/{id}',
    operationId: `providers_${name}_destroy`,
    summary: `Unlink a ${kind} from its remote copy (the remote object stays)`,
    request: { params: ObjectIdParams },
    ok: NO_CONTENT,
    errors: NOT_FOUND,
  })

  const app = new OpenAPIHono<AppEnv>()
  const common = (link: providers.ProviderUserDetail['link']) => ({
    id: link.id,
    scim_id: link.remoteId,
    provider: link.providerId,
    attributes: link.lastBody ?? {},
    last_error: link.lastError,
    last_request: link.lastRequest,
    attempts: link.attempts,
    last_update: link.updatedAt,
  })
  const render = async (
    deps: AppEnv['Variables']['deps'],
    link: providers.ProviderUserDetail['link'],
  ) => {
    if (kind === 'user') {
      const user = await providers.findUserForLink(deps, link.objectId)
      return {
        ...common(link),
        user: user?.pk ?? null,
        user_obj: user ? serializePartialUser(user) : null,
      }
    }
    const group = await providers.findGroupForLink(deps, link.objectId)
    return {
      ...common(link),
      group: link.objectId,
      group_obj: group ? serializePartialGroup(group) : null,
    }
  }

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<never>(query)
    const deps = c.get('deps')
    let objectId: string | undefined
    if (kind === 'user' && query.user__id !== undefined) {
      objectId = (await providers.findUserByPkText(deps, query.user__id))?.uuid ?? '-'
    }
    if (kind === 'group' && query.group__group_uuid !== undefined)
      objectId = query.group__group_uuid
    const args = {
      providerId: query.provider__id === undefined ? undefined : Number(query.provider__id),
      objectId,
      page: controls.page,
      pageSize: controls.pageSize,
    }
    const page =
      kind === 'user'
        ? await providers.listProviderUsers(deps, args)
        : await providers.listProviderGroups(deps, args)
    const results = []
    for (const item of page.items) results.push(await render(deps, item.link))
    // biome-ignore lint/suspicious/noExplicitAny: the list's item type is the route's schema
    return c.json(paginate(controls, page.count, results) as any, 200)
  })

  app.openapi(retrieve, async (c) => {
    const deps = c.get('deps')
    const link = await providers.getProviderObject(deps, kind, c.req.valid('param').id)
    // biome-ignore lint/suspicious/noExplicitAny: see list
    return c.json((await render(deps, link)) as any, 200)
  })

  app.openapi(destroy, async (c) => {
    await providers.deleteProviderObject(c.get('deps'), kind, c.req.valid('param').id)
    return c.body(null, 204)
  })
  return app
}

export const providerUserRoutes = () => objectRoutes('user')
export const providerGroupRoutes = () => objectRoutes('group')
