/** /api/v3/sources/scim/: SCIM sources, authentik-compatible. */

import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { UserMatchingMode } from '../../core/domain.js'
import { ScimError } from '../../scim/errors.js'
import * as sources from '../../services/sources.js'
import type { AppEnv } from '../env.js'
import { externalOrigin } from '../origin.js'
import { ValidationError } from '../render-error.js'
import { adminRoute, jsonResponse, modelRoutes, NOT_FOUND } from './openapi.js'
import { listControls, paginate } from './pagination.js'
import {
  PatchedSourceRequestSchema,
  SlugParams,
  SourceListQuery,
  SourceRequestSchema,
  SourceSchema,
  UsedBySchema,
} from './schemas.js'
import { serializeSource, serializeUsedBy } from './serializers.js'

/** A taken slug is a field error, as authentik reports it, not a bare 409. */
async function slugMustBeFree<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof ScimError && err.scimType === 'uniqueness') {
      throw new ValidationError({ slug: ['SCIM Source with this slug already exists.'] })
    }
    throw err
  }
}

function toChange(input: {
  name?: string | undefined
  slug?: string | undefined
  enabled?: boolean | undefined
  user_path_template?: string | undefined
  user_matching_mode?: UserMatchingMode | undefined
  user_property_mappings?: string[] | undefined
  group_property_mappings?: string[] | undefined
}): sources.SourceChange {
  return {
    userPropertyMappings: input.user_property_mappings,
    groupPropertyMappings: input.group_property_mappings,
    name: input.name,
    slug: input.slug,
    enabled: input.enabled,
    userPathTemplate: input.user_path_template,
    userMatchingMode: input.user_matching_mode,
  }
}

const { list, create, retrieve, update, partialUpdate, destroy } = modelRoutes({
  operationId: 'sources_scim',
  objectPath: '/{slug}',
  query: SourceListQuery,
  params: SlugParams,
  schema: SourceSchema,
  listName: 'SCIMSource',
  request: SourceRequestSchema,
  patched: PatchedSourceRequestSchema,
  summaries: {
    list: 'List SCIM sources',
    create: 'Create a SCIM source with its service account and token',
    retrieve: 'Read a SCIM source',
    update: 'Replace a SCIM source (a new slug changes root_url and keeps all data)',
    partialUpdate: 'Change some fields of a SCIM source',
    destroy:
      'Delete a SCIM source with its token, its service account and the users and groups it provisioned',
  },
  descriptions: { page: 'One page of sources', one: 'The source', created: 'The new source' },
  writeErrors: NOT_FOUND,
})

/** How many provisioned users (and groups) `used_by` lists at most. */
const USED_BY_LIMIT = 1000

const usedBy = adminRoute({
  method: 'get',
  path: '/{slug}/used_by',
  operationId: 'sources_scim_used_by_list',
  summary: `What deleting the source deletes too (at most ${USED_BY_LIMIT} users and ${USED_BY_LIMIT} groups listed)`,
  request: { params: SlugParams },
  ok: { 200: jsonResponse(z.array(UsedBySchema), 'Objects deleted with the source') },
  errors: NOT_FOUND,
})

export function sourceRoutes(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>()

  app.openapi(list, async (c) => {
    const query = c.req.valid('query')
    const controls = listControls<sources.SourceOrderField>(query)
    const page = await sources.listSources(c.get('deps'), {
      ...controls,
      filter: { name: query.name, slug: query.slug, search: query.search },
    })
    const base = externalOrigin(c)
    return c.json(
      paginate(
        controls,
        page.count,
        page.items.map((d) => serializeSource(d, base)),
      ),
      200,
    )
  })

  app.openapi(create, async (c) => {
    const input = c.req.valid('json')
    const created = await slugMustBeFree(() =>
      sources.createSource(c.get('deps'), {
        name: input.name,
        slug: input.slug,
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.user_path_template ? { userPathTemplate: input.user_path_template } : {}),
        ...(input.user_matching_mode ? { userMatchingMode: input.user_matching_mode } : {}),
        ...(input.user_property_mappings
          ? { userPropertyMappings: input.user_property_mappings }
          : {}),
        ...(input.group_property_mappings
          ? { groupPropertyMappings: input.group_property_mappings }
          : {}),
      }),
    )
    audit(c, 'source_created', { slug: created.source.slug })
    return c.json(serializeSource(created, externalOrigin(c)), 201)
  })

  app.openapi(retrieve, async (c) => {
    const detail = await sources.getSource(c.get('deps'), c.req.valid('param').slug)
    return c.json(serializeSource(detail, externalOrigin(c)), 200)
  })

  // PUT and PATCH: the change carries only the fields sent, so one handler serves both.
  for (const route of [update, partialUpdate]) {
    app.openapi(route, async (c) => {
      const { slug } = c.req.valid('param')
      const input = c.req.valid('json')
      const detail = await slugMustBeFree(() =>
        sources.updateSource(c.get('deps'), slug, toChange(input)),
      )
      audit(c, 'source_updated', {
        slug,
        ...(detail.source.slug !== slug ? { newSlug: detail.source.slug } : {}),
        enabled: detail.source.enabled,
      })
      return c.json(serializeSource(detail, externalOrigin(c)), 200)
    })
  }

  app.openapi(destroy, async (c) => {
    await sources.deleteSource(c.get('deps'), c.req.valid('param').slug)
    audit(c, 'source_deleted', { slug: c.req.valid('param').slug })
    return c.body(null, 204)
  })

  app.openapi(usedBy, async (c) => {
    const entries = await sources.sourceUsedBy(
      c.get('deps'),
      c.req.valid('param').slug,
      USED_BY_LIMIT,
    )
    return c.json(entries.map(serializeUsedBy), 200)
  })

  return app
}

/** One info line per change to a source, naming who made it (never a key). */
function audit(c: Context<AppEnv>, msg: string, fields: Record<string, unknown>): void {
  c.get('deps').logger.info(msg, {
    ...fields,
    by: c.get('adminUser').username,
    requestId: c.get('requestId'),
  })
}
