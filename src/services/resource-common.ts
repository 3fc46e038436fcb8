/** What the User and Group services share: externalId as a column, If-Match, list results. */
import type { ScimDocument, ScimGroupRecord, ScimUserRecord, Source } from '../core/domain.js'
import { ScimError } from '../scim/errors.js'
import type { Filter } from '../scim/filter/ast.js'
import type { ListParams } from '../scim/list.js'
import { etag, scimBaseUrl } from '../scim/resources.js'
import type { ResourceSchema } from '../scim/schema/resource-types.js'
import type { Executor } from '../store/database.js'
import {
  compileResourceQuery,
  type ResourceQuery,
  type SourceScope,
} from '../store/query/resource-query.js'
import type { PageQuery } from '../store/scim-resources/pages.js'
import type { Deps } from './deps.js'
import { ReadCache } from './read-cache.js'

export interface ListResult<T> {
  items: T[]
  totalResults: number
}

/** Splits externalId (stored in its own indexed column) from the rest of the document. */
export function splitExternalId(document: ScimDocument): {
  externalId: string | null
  rest: ScimDocument
} {
  const { externalId, ...rest } = document
  return { externalId: typeof externalId === 'string' ? externalId : null, rest }
}

/**
 * A user or group as a write left it: `current` with its new externalId and document (the
 * stored document, externalId split off), one version on, stamped `now`. Both are named
 * here because a record read from the database keeps its document on the prototype
 * (stored-document.ts), where a spread copy would lose it.
 */
export function writtenRecord<R extends ScimUserRecord | ScimGroupRecord>(
  current: R,
  written: { externalId: string | null; document: ScimDocument },
  now: string,
): R {
  return {
    ...current,
    externalId: written.externalId,
    document: written.document,
    lastModified: now,
    version: current.version + 1,
  }
}

/** The document with externalId put back, as PATCH sees the resource. */
export function withExternalId(record: {
  externalId: string | null
  document: ScimDocument
}): ScimDocument {
  return record.externalId === null
    ? record.document
    : { ...record.document, externalId: record.externalId }
}

/** RFC 7644 §3.14: a write with If-Match proceeds only if a tag matches the current version. */
export function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined) return
  const tags = ifMatch.split(',').map((t) => t.trim())
  if (tags.includes('*') || tags.includes(etag(version))) return
  // Accept the strong form of our weak tag too, as some clients strip the W/ prefix.
  if (tags.includes(`"${version}"`)) return
  throw ScimError.preconditionFailed()
}

/**
 * Totals of list queries, by resource type, source and filter text, while the database is
 * unchanged (read-cache.ts): a client paging through a source (Okta's import, a
 * reconciliation job) counts every match again on every page, and on a deep page the count
 * cost more than the page.
 */
const totals = new ReadCache<number>(1000, (deps) => deps.readVersion())

/** `countAll` of pageWithTotal, answered from the cache of totals when it can be. */
export function cachedCount(
  deps: Deps,
  key: { resourceType: string; sourceId: string; filter: string | undefined },
  countAll: () => Promise<number>,
): () => Promise<number> {
  const cacheKey = `${key.resourceType}\n${key.sourceId}\n${key.filter ?? ''}`
  return async () => (await totals.get(deps, cacheKey, countAll)) ?? 0
}

/**
 * One page of a list and its exact total (RFC 7644 §3.4.2.4). The total costs a count over
 * every match, except when the first page already holds them all, as it does for every
 * identity provider's existence check (zero or one match).
 */
export async function pageWithTotal<R>(
  params: Pick<ListParams, 'startIndex' | 'count'>,
  fetchPage: (offset: number, limit: number) => Promise<R[]>,
  countAll: () => Promise<number>,
): Promise<{ records: R[]; totalResults: number }> {
  if (params.count === 0) return { records: [], totalResults: await countAll() }
  const records = await fetchPage(params.startIndex - 1, params.count)
  if (params.startIndex === 1 && records.length < params.count) {
    return { records, totalResults: records.length }
  }
  return { records, totalResults: await countAll() }
}

/**
 * Where a source's resources are, for the filter compiler. `meta.location` and `$ref` are
 * built from SCIMD_BASE_URL, the only base URL a service knows.
 */
export function sourceScope(deps: Deps, source: Source): SourceScope {
  const origin = deps.config.baseUrl
  return {
    dialect: deps.dialect,
    sourceId: source.id,
    baseUrl: origin === undefined ? undefined : scimBaseUrl(origin, source.slug),
  }
}

/**
 * Keyset continuation of list pages in the default order (by id), per read connection: the
 * id a page ended at, by the startIndex of the page after it and the query, and the database
 * state (deps.readVersion) it was read in. The next page starts after that id instead of
 * skipping startIndex−1 index entries with OFFSET, so a client walking the list page by
 * page (Okta's import, an export) pays the same on the last page as on the first. Used only
 * in the state it was read in, so the page is exactly the OFFSET page; where the state is
 * unknown (PostgreSQL, in-memory SQLite) nothing is kept.
 */
const continuations = new WeakMap<Deps['reader'], Map<string, { version: number; id: string }>>()
/** Past this many continuations per connection the map starts over. */
const MAX_CONTINUATIONS = 10_000

/** The continuations of deps' read connection; none where its state has no version. */
function continuationsOf(
  deps: Deps,
): { map: Map<string, { version: number; id: string }> } | undefined {
  if (deps.readVersion() === undefined) return undefined
  let map = continuations.get(deps.reader)
  if (!map) {
    map = new Map()
    continuations.set(deps.reader, map)
  }
  return { map }
}

/** The store's page and count of one resource type (users or groups). */
export interface RecordPages<R> {
  list(db: Executor, sourceId: string, page: PageQuery): Promise<R[]>
  count(db: Executor, sourceId: string, where: ResourceQuery['where']): Promise<number>
}

/** One page of a source's users or groups, filtered and sorted in SQL, and the total. */
export function listRecords<R extends { id: string }>(
  deps: Deps,
  source: Source,
  resource: ResourceSchema,
  params: ListParams,
  filter: Filter | undefined,
  pages: RecordPages<R>,
): Promise<{ records: R[]; totalResults: number }> {
  const request = { filter, sortBy: params.sortBy, sortOrder: params.sortOrder }
  const { where, sort, narrowed } = compileResourceQuery(
    request,
    sourceScope(deps, source),
    resource,
  )
  const list = (offset: number, limit: number, after?: string) =>
    pages.list(deps.reader, source.id, { where, offset, limit, sort, narrowed, after })
  // A sort key orders by more than the id: no keyset continuation then.
  const continued = sort === undefined ? continuationsOf(deps) : undefined
  const query = `${resource.name}\n${source.id}\n${params.filter ?? ''}\n`
  return pageWithTotal(
    params,
    async (offset, limit) => {
      if (!continued) return list(offset, limit)
      // The version only grows. Read before and after a page, the same value means the page
      // was read in that state (a read can open a snapshot of a newer one, other requests'
      // reads too while this one awaits).
      const from = continued.map.get(query + params.startIndex)
      let version = deps.readVersion()
      let records =
        from !== undefined && from.version === version ? await list(0, limit, from.id) : undefined
      if (records === undefined || deps.readVersion() !== version) {
        version = deps.readVersion()
        records = await list(offset, limit)
      }
      const last = records.at(-1)
      if (last !== undefined && records.length === limit && deps.readVersion() === version) {
        if (continued.map.size >= MAX_CONTINUATIONS) continued.map.clear()
        continued.map.set(query + (params.startIndex + limit), {
          version: version as number,
          id: last.id,
        })
      }
      return records
    },
    cachedCount(
      deps,
      { resourceType: resource.name, sourceId: source.id, filter: params.filter },
      () => pages.count(deps.reader, source.id, where),
    ),
  )
}
