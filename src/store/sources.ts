/** Source rows, and the admin list of sources (filters, search, ordering, pages). */

import type { Kysely } from 'kysely'
import type { Source, UserMatchingMode } from '../core/domain.js'
import { type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type { Database, Executor, SourceRow, UpdateableSourceRow } from './database.js'
import { hasRowLocks } from './locks.js'
import { preparedQuery } from './prepared.js'

const SOURCE_COLUMNS = [
  'id',
  'slug',
  'name',
  'enabled',
  'user_matching_mode',
  'user_path_template',
  'service_account_id',
  'token_id',
  'created_at',
  'updated_at',
  'user_property_mappings',
  'group_property_mappings',
] as const satisfies readonly (keyof SourceRow)[]

const NO_MAPPINGS: readonly string[] = Object.freeze([])

/** A JSON array of mapping ids; the usual `[]` costs no parse. */
function mappingIds(text: string): readonly string[] {
  return text === '[]' ? NO_MAPPINGS : (JSON.parse(text) as string[])
}

export function toSource(row: SourceRow): Source {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    enabled: row.enabled === 1,
    userMatchingMode: row.user_matching_mode as UserMatchingMode,
    userPathTemplate: row.user_path_template,
    serviceAccountId: row.service_account_id,
    tokenId: row.token_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    userPropertyMappings: mappingIds(row.user_property_mappings),
    groupPropertyMappings: mappingIds(row.group_property_mappings),
  }
}

export async function insertSource(
  db: Executor,
  source: { id: string; slug: string; name: string; enabled: boolean; now: string } & Partial<
    Pick<Source, 'userMatchingMode' | 'userPathTemplate'>
  >,
): Promise<void> {
  await db
    .insertInto('sources')
    .values({
      id: source.id,
      slug: source.slug,
      name: source.name,
      enabled: source.enabled ? 1 : 0,
      ...(source.userMatchingMode ? { user_matching_mode: source.userMatchingMode } : {}),
      ...(source.userPathTemplate ? { user_path_template: source.userPathTemplate } : {}),
      service_account_id: null,
      token_id: null,
      created_at: source.now,
      updated_at: source.now,
    })
    .execute()
}

export async function updateSource(
  db: Executor,
  id: string,
  row: UpdateableSourceRow,
): Promise<void> {
  await db.updateTable('sources').set(row).where('id', '=', id).execute()
}

/**
 * The source with this slug. `forUpdate` locks its row until the transaction ends
 * (PostgreSQL): a concurrent create in this source waits on its foreign key, then fails,
 * instead of committing a user that the deletion has already passed over.
 */
export async function findSourceBySlug(
  db: Executor,
  slug: string,
  { forUpdate = false } = {},
): Promise<Source | undefined> {
  let query = db.selectFrom('sources').selectAll().where('slug', '=', slug)
  if (forUpdate && hasRowLocks(db)) query = query.forUpdate()
  const row = await query.executeTakeFirst()
  return row && toSource(row)
}

export async function findSourceById(db: Executor, id: string): Promise<Source | undefined> {
  const row = await db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toSource(row)
}

/** Fields the admin list orders by, and their columns. */
const SOURCE_ORDER_COLUMNS = {
  name: 's.name',
  slug: 's.slug',
  enabled: 's.enabled',
  pk: 's.id',
} as const
export type SourceOrderField = keyof typeof SOURCE_ORDER_COLUMNS
export const SOURCE_ORDER_FIELDS = Object.keys(SOURCE_ORDER_COLUMNS) as SourceOrderField[]

/** authentik's filters `name` and `slug` (exact), and `search` over name, slug and the token. */
export interface SourceFilter {
  name?: string | undefined
  slug?: string | undefined
  search?: string | undefined
}

function filteredSources(db: Executor, filter: SourceFilter) {
  let query = db
    .selectFrom('sources as s')
    .leftJoin('tokens as t', 't.id', 's.token_id')
    .leftJoin('users as u', 'u.id', 't.user_id')
  if (filter.name !== undefined) query = query.where('s.name', '=', filter.name)
  if (filter.slug !== undefined) query = query.where('s.slug', '=', filter.slug)
  const search = searchAny(['s.name', 's.slug', 't.identifier', 'u.username'], filter.search)
  if (search) query = query.where(search)
  return query
}

export async function countSources(db: Executor, filter: SourceFilter = {}): Promise<number> {
  const { n } = await filteredSources(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** Sources in the given order (default name, then slug), one page of them when `page` is given. */
export async function listSources(
  db: Executor,
  filter: SourceFilter = {},
  order: ReadonlyArray<OrderBy<SourceOrderField>> = [],
  page?: Page,
): Promise<Source[]> {
  let query = filteredSources(db, filter).selectAll('s')
  const orders = order.length > 0 ? order : [{ field: 'name' as const, descending: false }]
  for (const o of orders) {
    query = query.orderBy(SOURCE_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  query = query.orderBy('s.slug')
  if (page) query = query.limit(page.limit).offset(page.offset)
  return (await query.execute()).map(toSource)
}

export async function deleteSource(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('sources').where('id', '=', id).execute()
}

/**
 * The source with this slug whose own token has this key digest, with what verification
 * needs of the token: one indexed query per SCIM request.
 */
const sourceByTokenDigest = preparedQuery((db, slug: string, digest: string) =>
  db
    .selectFrom('sources')
    .innerJoin('tokens', 'tokens.id', 'sources.token_id')
    // Columns by name, never `*`: PostgreSQL keeps this statement prepared (prepared.ts), and
    // a prepared `*` fails once a migration adds a column to the table.
    .select(SOURCE_COLUMNS.map((c) => `sources.${c}` as const))
    .select(['tokens.key_digest', 'tokens.expires', 'tokens.expiring'])
    .where('sources.slug', '=', slug)
    .where('tokens.key_digest', '=', digest)
    .compile(),
)

export async function findSourceByTokenDigest(
  db: Kysely<Database>,
  slug: string,
  digest: string,
): Promise<
  { source: Source; keyDigest: string; expires: string | null; expiring: boolean } | undefined
> {
  const [row] = await sourceByTokenDigest(db, slug, digest)
  if (!row) return undefined
  const { key_digest, expires, expiring, ...source } = row
  return { source: toSource(source), keyDigest: key_digest, expires, expiring: expiring === 1 }
}
