/** Token rows: keys only as digest and sealed copy; the admin list never selects either. */
import type { Token, TokenIntent } from '../core/domain.js'
import { nullsLast, type OrderBy, type Page, searchAny, toCount } from './admin-query.js'
import type { Executor, InsertableTokenRow, TokenRow } from './database.js'

/** Ordering fields whose column may be NULL (ordered alike on both dialects). */
const NULLABLE_ORDER_FIELDS = new Set<string>(['expires', 'managed'])

export function toToken(row: TokenRow): Token {
  return {
    id: row.id,
    identifier: row.identifier,
    userId: row.user_id,
    intent: row.intent as TokenIntent,
    description: row.description,
    expires: row.expires,
    expiring: row.expiring === 1,
    managed: row.managed,
    createdAt: row.created_at,
  }
}

export async function insertToken(db: Executor, row: InsertableTokenRow): Promise<void> {
  await db.insertInto('tokens').values(row).execute()
}

export async function findTokenByDigest(
  db: Executor,
  digest: string,
): Promise<(Token & { keyDigest: string }) | undefined> {
  const row = await db
    .selectFrom('tokens')
    .selectAll()
    .where('key_digest', '=', digest)
    .executeTakeFirst()
  return row && { ...toToken(row), keyDigest: row.key_digest }
}

export async function findTokenByIdentifier(
  db: Executor,
  identifier: string,
): Promise<(Token & { keySealed: string }) | undefined> {
  const row = await db
    .selectFrom('tokens')
    .selectAll()
    .where('identifier', '=', identifier)
    .executeTakeFirst()
  return row && { ...toToken(row), keySealed: row.key_sealed }
}

export async function findTokenById(db: Executor, id: string): Promise<Token | undefined> {
  const row = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toToken(row)
}

export async function updateTokenKey(
  db: Executor,
  id: string,
  key: { digest: string; sealed: string },
): Promise<void> {
  await db
    .updateTable('tokens')
    .set({ key_digest: key.digest, key_sealed: key.sealed })
    .where('id', '=', id)
    .execute()
}

/** Changes what an admin may change on a token: description and expiry (never the key). */
export async function updateToken(
  db: Executor,
  id: string,
  change: { description?: string; expires?: string | null; expiring?: boolean },
): Promise<void> {
  const row: { description?: string; expires?: string | null; expiring?: number } = {}
  if (change.description !== undefined) row.description = change.description
  if (change.expires !== undefined) row.expires = change.expires
  if (change.expiring !== undefined) row.expiring = change.expiring ? 1 : 0
  if (Object.keys(row).length === 0) return
  await db.updateTable('tokens').set(row).where('id', '=', id).execute()
}

export async function findTokensByIds(db: Executor, ids: readonly string[]): Promise<Token[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('tokens').selectAll().where('id', 'in', ids).execute()
  return rows.map(toToken)
}

const TOKEN_ORDER_COLUMNS = {
  identifier: 't.identifier',
  intent: 't.intent',
  expires: 't.expires',
  expiring: 't.expiring',
  description: 't.description',
  managed: 't.managed',
  user__username: 'u.username',
} as const
export type TokenOrderField = keyof typeof TOKEN_ORDER_COLUMNS
export const TOKEN_ORDER_FIELDS = Object.keys(TOKEN_ORDER_COLUMNS) as TokenOrderField[]

/** authentik's token filters (exact) and `search` over identifier, intent, username, description. */
export interface TokenFilter {
  identifier?: string | undefined
  intent?: string | undefined
  description?: string | undefined
  managed?: string | undefined
  expiring?: boolean | undefined
  userUsername?: string | undefined
  search?: string | undefined
}

function filteredTokens(db: Executor, filter: TokenFilter) {
  let query = db.selectFrom('tokens as t').innerJoin('users as u', 'u.id', 't.user_id')
  if (filter.identifier !== undefined) query = query.where('t.identifier', '=', filter.identifier)
  if (filter.intent !== undefined) query = query.where('t.intent', '=', filter.intent)
  if (filter.description !== undefined)
    query = query.where('t.description', '=', filter.description)
  if (filter.managed !== undefined) query = query.where('t.managed', '=', filter.managed)
  if (filter.expiring !== undefined) query = query.where('t.expiring', '=', filter.expiring ? 1 : 0)
  if (filter.userUsername !== undefined) query = query.where('u.username', '=', filter.userUsername)
  const search = searchAny(
    ['t.identifier', 't.intent', 'u.username', 't.description'],
    filter.search,
  )
  if (search) query = query.where(search)
  return query
}

export async function countTokens(db: Executor, filter: TokenFilter): Promise<number> {
  const { n } = await filteredTokens(db, filter)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return toCount(n)
}

/** One page of tokens, default order by identifier. */
export async function listTokens(
  db: Executor,
  filter: TokenFilter,
  order: ReadonlyArray<OrderBy<TokenOrderField>>,
  page: Page,
): Promise<Token[]> {
  let query = filteredTokens(db, filter).selectAll('t')
  for (const o of order) {
    if (NULLABLE_ORDER_FIELDS.has(o.field))
      query = query.orderBy(nullsLast(TOKEN_ORDER_COLUMNS[o.field]), o.descending ? 'desc' : 'asc')
    query = query.orderBy(TOKEN_ORDER_COLUMNS[o.field], o.descending ? 'desc' : 'asc')
  }
  const rows = await query.orderBy('t.identifier').limit(page.limit).offset(page.offset).execute()
  return rows.map(toToken)
}

export async function deleteToken(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('tokens').where('id', '=', id).execute()
}
