/** What the User and Group services share: externalId as a column, If-Match, list results. */
import type { ScimDocument, ScimGroupRecord, ScimUserRecord } from '../core/domain.js'
import { ScimError } from '../scim/errors.js'
import type { ListParams } from '../scim/list.js'
import { etag } from '../scim/resources.js'
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
