/**
 * Property mappings as admins manage them (authentik's SCIM source and provider mappings),
 * and the mappings a source applies to what its identity provider sends.
 */

import type { Source, UsedBy } from '../core/domain.js'
import { mappingModel } from '../core/events.js'
import { FieldErrors } from '../core/field-errors.js'
import { nowIso, uuidv7 } from '../core/ids.js'
import {
  type MappingDefinition,
  MappingError,
  runMappings,
  SkipObject,
  syntaxError,
} from '../mapping/engine.js'
import { buildScimBody, type MappedObject, mappedGroup, mappedUser } from '../mapping/provider.js'
import { ScimError } from '../scim/errors.js'
import type { Executor } from '../store/database.js'
import * as directory from '../store/directory.js'
import { isUniqueViolation } from '../store/errors.js'
import * as store from '../store/property-mappings.js'
import { providersUsingMapping, updateProvider } from '../store/providers.js'
import { type ListPage, type ListQuery, listPage } from './admin-list.js'
import { type Deps, inCredentialsTransaction, inTransaction } from './deps.js'
import { parseUserPk } from './directory.js'
import { adminChange, recordEvent } from './events.js'
import { ReadCache } from './read-cache.js'

export {
  MAPPING_ORDER_FIELDS,
  type MappingFilter,
  type MappingKind,
  type MappingOrderField,
  type PropertyMapping,
} from '../store/property-mappings.js'

export type MappingListQuery = ListQuery<store.MappingFilter, store.MappingOrderField>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function listMappings(
  deps: Deps,
  kind: store.MappingKind,
  query: MappingListQuery,
): Promise<ListPage<store.PropertyMapping>> {
  return listPage(
    query,
    () => store.countMappings(deps.db, kind, query.filter),
    (page) => store.listMappings(deps.db, kind, query.filter, query.order, page),
  )
}

async function found(
  db: Executor,
  kind: store.MappingKind,
  id: string,
): Promise<store.PropertyMapping> {
  const mapping = UUID.test(id) ? await store.findMapping(db, kind, id) : undefined
  if (!mapping) throw ScimError.notFound('Property mapping not found')
  return mapping
}

export function getMapping(
  deps: Deps,
  kind: store.MappingKind,
  id: string,
): Promise<store.PropertyMapping> {
  return found(deps.db, kind, id)
}

function checkExpression(expression: string | undefined): void {
  if (expression === undefined) return
  const error = syntaxError(expression)
  if (error) throw new FieldErrors({ expression: [`Not a valid JSONata expression: ${error}`] })
}

function nameTaken(err: unknown): never {
  if (isUniqueViolation(err)) {
    throw new FieldErrors({ name: ['property mapping with this name already exists.'] })
  }
  throw err
}

export async function createMapping(
  deps: Deps,
  kind: store.MappingKind,
  input: { name: string; expression: string },
): Promise<store.PropertyMapping> {
  checkExpression(input.expression)
  const now = nowIso()
  const mapping: store.PropertyMapping = {
    id: uuidv7(),
    kind,
    name: input.name,
    managed: null,
    expression: input.expression,
    createdAt: now,
    updatedAt: now,
  }
  try {
    await inTransaction(deps, async (tx) => {
      await store.insertMapping(tx, mapping)
      const model = mappingModel(kind, mapping.id, mapping.name)
      await recordEvent(deps, tx, adminChange('model_created', model))
    })
  } catch (err) {
    nameTaken(err)
  }
  return mapping
}

function mustNotBeManaged(mapping: store.PropertyMapping): void {
  if (mapping.managed) {
    throw ScimError.forbidden(
      `Property mapping '${mapping.name}' is managed by scimd (${mapping.managed}): copy it into a new mapping to change it.`,
    )
  }
}

export async function updateMapping(
  deps: Deps,
  kind: store.MappingKind,
  id: string,
  change: { name?: string | undefined; expression?: string | undefined },
): Promise<store.PropertyMapping> {
  checkExpression(change.expression)
  try {
    // What sources run changes: instances drop what they cached of source mappings.
    await inCredentialsTransaction(deps, async (tx) => {
      const mapping = await found(tx, kind, id)
      mustNotBeManaged(mapping)
      const now = nowIso()
      const fields = {
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.expression !== undefined ? { expression: change.expression } : {}),
      }
      await store.updateMapping(tx, id, { ...fields, updatedAt: now })
      const model = mappingModel(kind, id, change.name ?? mapping.name)
      await recordEvent(deps, tx, adminChange('model_updated', model, Object.keys(fields)))
      if (kind === 'source') {
        await store.touchSources(
          tx,
          (await store.sourcesUsingMapping(tx, id)).map((use) => use.sourceId),
        )
      }
      // What a provider sends has changed: its next full sync pushes the new bodies (an
      // unchanged body is skipped there, so this costs reads, not writes).
      for (const use of await providersUsingMapping(tx, id)) {
        await updateProvider(tx, use.pk, { full_sync_requested_at: now })
      }
    })
  } catch (err) {
    nameTaken(err)
  }
  return found(deps.db, kind, id)
}

/** Deletes a mapping; the sources and providers that listed it no longer do. */
export async function deleteMapping(
  deps: Deps,
  kind: store.MappingKind,
  id: string,
): Promise<void> {
  // A source row changes: instances drop what they cached of sources (deps.ts).
  await inCredentialsTransaction(deps, async (tx) => {
    const mapping = await found(tx, kind, id)
    mustNotBeManaged(mapping)
    for (const use of await store.sourcesUsingMapping(tx, id)) {
      await store.setSourceMappings(tx, use.sourceId, {
        user: use.user.filter((m) => m !== id),
        group: use.group.filter((m) => m !== id),
      })
    }
    for (const use of await providersUsingMapping(tx, id)) {
      await updateProvider(tx, use.pk, {
        property_mappings: JSON.stringify(use.user.filter((m) => m !== id)),
        property_mappings_group: JSON.stringify(use.group.filter((m) => m !== id)),
        full_sync_requested_at: nowIso(),
      })
    }
    await store.deleteMapping(tx, id)
    await recordEvent(deps, tx, adminChange('model_deleted', mappingModel(kind, id, mapping.name)))
  })
}

/** authentik's `used_by`: the sources and providers whose mapping lists name this mapping. */
export async function mappingUsedBy(
  deps: Deps,
  kind: store.MappingKind,
  id: string,
): Promise<UsedBy[]> {
  await found(deps.db, kind, id)
  const sources = await store.sourcesUsingMapping(deps.db, id)
  const providers = await providersUsingMapping(deps.db, id)
  return [
    ...sources.map((u) => ({
      app: 'authentik_sources_scim',
      modelName: 'scimsource',
      pk: u.sourceId,
      name: u.sourceName,
      action: 'set_null' as const,
    })),
    ...providers.map((u) => ({
      app: 'authentik_providers_scim',
      modelName: 'scimprovider',
      pk: String(u.pk),
      name: u.name,
      action: 'set_null' as const,
    })),
  ]
}

/** `ids` lower-cased and deduplicated, in order, and the first that names no `kind` mapping. */
async function firstMissingMapping(
  db: Executor,
  kind: store.MappingKind,
  ids: readonly string[],
): Promise<{ unique: string[]; missing: string | undefined }> {
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))]
  const valid = unique.filter((id) => UUID.test(id))
  const existing = new Set((await store.findMappingsByIds(db, kind, valid)).map((m) => m.id))
  return { unique, missing: unique.find((id) => !existing.has(id)) }
}

/**
 * Checks a source's mapping lists: each id must name a source mapping (authentik's
 * `Invalid pk "…" - object does not exist.`). Returns them deduplicated, in the given order.
 */
export async function checkSourceMappingIds(
  db: Executor,
  field: string,
  ids: readonly string[],
): Promise<string[]> {
  const { unique, missing } = await firstMissingMapping(db, 'source', ids)
  if (missing !== undefined) {
    throw new FieldErrors({ [field]: [`Invalid pk "${missing}" - object does not exist.`] })
  }
  return unique
}

/**
 * Checks a provider's mapping lists: each id must name a provider mapping; a source mapping
 * is refused with a message that says so (it reads `data`, which a provider never has).
 */
export async function checkProviderMappingIds(
  db: Executor,
  field: string,
  ids: readonly string[],
): Promise<string[]> {
  const { unique, missing } = await firstMissingMapping(db, 'provider', ids)
  if (missing !== undefined) {
    const isSource = UUID.test(missing) && (await store.findMapping(db, 'source', missing))
    throw new FieldErrors({
      [field]: [
        isSource
          ? `Invalid pk "${missing}" - a source property mapping cannot be used by a provider.`
          : `Invalid pk "${missing}" - object does not exist.`,
      ],
    })
  }
  return unique
}

/** The definitions of a source's user or group mappings (no query when it has none). */
export async function sourceMappings(
  deps: Deps,
  source: Source,
  role: 'user' | 'group',
  /** The transaction a write holds, to read them in (no cache: its connection is taken). */
  tx?: Executor,
): Promise<MappingDefinition[]> {
  const ids = role === 'user' ? source.userPropertyMappings : source.groupPropertyMappings
  if (ids.length === 0) return []
  const load = async (db: Executor) =>
    (await store.findMappingsInOrder(db, 'source', ids)).map((m) => ({
      id: m.id,
      name: m.name,
      expression: m.expression,
      updatedAt: m.updatedAt,
    }))
  if (tx) return load(tx)
  return (await mappingDefinitions.get(deps, ids.join(','), () => load(deps.reader))) ?? []
}

/**
 * Source mappings by id list, kept while the credentials are unchanged (read-cache.ts), as
 * the sources listing them are: on PostgreSQL across other instances' writes, since every
 * change that can alter an entry changes a source row too (a source's lists; a mapping's
 * update or deletion touches the sources using it), which every instance hears of. On
 * SQLite, until the next commit. Reading them per write was a query on every create of a
 * source with mappings (a round trip on PostgreSQL).
 */
const mappingDefinitions = new ReadCache<MappingDefinition[]>(1000, (deps) =>
  deps.credentialsVersion(),
)

/**
 * A source mapping failure as the SCIM client sees it (400 invalidValue, nothing written)
 * and as an admin finds it (a warning in the log, with the source and mapping).
 */
export function mappingFailure(deps: Deps, source: Source, err: unknown): never {
  if (err instanceof SkipObject) {
    throw ScimError.invalidValue(`${err.message}: it was not written`)
  }
  if (err instanceof MappingError) {
    deps.logger.warn('property mapping failed', {
      source: source.slug,
      mapping: err.mapping,
      error: err.reason,
    })
    throw ScimError.invalidValue(err.message)
  }
  throw err
}

export interface TestInput {
  user?: number | undefined
  group?: string | undefined
  context?: Record<string, unknown> | undefined
}

/**
 * authentik's `test`: evaluates one mapping against a directory user or group and returns
 * the result as formatted JSON, or the error. A source mapping sees `data` (the context's
 * `data`, else what a source last sent for the object), `source` and `properties`; a
 * provider mapping sees `user` or `group`.
 */
export async function testMapping(
  deps: Deps,
  kind: store.MappingKind,
  id: string,
  input: TestInput,
): Promise<{ result: string; successful: boolean }> {
  const mapping = await found(deps.db, kind, id)
  const object = await testObject(deps, input)
  const definition: MappingDefinition = {
    id: mapping.id,
    name: mapping.name,
    expression: mapping.expression,
    updatedAt: mapping.updatedAt,
  }
  try {
    if (kind === 'provider') {
      if (!object) throw new FieldErrors({ non_field_errors: ['Give a user or a group.'] })
      const outcome = await buildScimBody([definition], object)
      const value = outcome.skipped ? { skipped: outcome.by } : outcome.result
      return { result: JSON.stringify(value, null, 4), successful: true }
    }
    const data = (input.context?.data as Record<string, unknown> | undefined) ?? {}
    const outcome = await runMappings([definition], {
      data,
      source: input.context?.source ?? {},
      properties: input.context?.properties ?? {},
      ...(object?.kind === 'user' ? { user: object.user } : {}),
      ...(object?.kind === 'group' ? { group: object.group } : {}),
    })
    const value = outcome.skipped ? { skipped: outcome.by } : outcome.result
    return { result: JSON.stringify(value, null, 4), successful: true }
  } catch (err) {
    if (err instanceof MappingError || err instanceof SkipObject) {
      return { result: err.message, successful: false }
    }
    throw err
  }
}

async function testObject(deps: Deps, input: TestInput): Promise<MappedObject | undefined> {
  if (input.user !== undefined) {
    const pk = parseUserPk(String(input.user))
    const user = pk === undefined ? undefined : await directory.findUserByPk(deps.db, pk)
    if (!user)
      throw new FieldErrors({ user: [`Invalid pk "${input.user}" - object does not exist.`] })
    return {
      kind: 'user',
      user: mappedUser(user),
    }
  }
  if (input.group !== undefined) {
    const group = UUID.test(input.group)
      ? await directory.findGroupById(deps.db, input.group)
      : undefined
    if (!group)
      throw new FieldErrors({ group: [`Invalid pk "${input.group}" - object does not exist.`] })
    return {
      kind: 'group',
      group: mappedGroup(group),
    }
  }
  return undefined
}
