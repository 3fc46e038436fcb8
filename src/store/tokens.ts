/** Token rows: keys only as digest and sealed copy. */
import type { Token, TokenIntent } from '../domain.js'
import type { Executor, InsertableTokenRow, TokenRow } from './database.js'

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
