/** Admin UI sessions: rows found by the keyed digest of a session cookie, with their token's state. */
import type { Executor } from './database.js'

export interface UiSessionInsert {
  idDigest: string
  userId: number
  tokenId: string
  tokenKeyDigest: string
  createdAt: string
  expiresAt: string
}

/** A session with what deciding whether it still holds needs: its token and user. */
export interface UiSessionState {
  userId: number
  tokenId: string
  expiresAt: string
  /** The key digest the token had at sign-in, and the one it has now. */
  signedInKeyDigest: string
  currentKeyDigest: string
  tokenIntent: string
  tokenExpiring: boolean
  tokenExpires: string | null
  userIsActive: boolean
}

export async function insertUiSession(db: Executor, row: UiSessionInsert): Promise<void> {
  await db
    .insertInto('ui_sessions')
    .values({
      id_digest: row.idDigest,
      user_id: row.userId,
      token_id: row.tokenId,
      token_key_digest: row.tokenKeyDigest,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute()
}

/** One indexed probe: the session, its token and its user (deleting either deletes the row). */
export async function findUiSession(
  db: Executor,
  idDigest: string,
): Promise<UiSessionState | undefined> {
  const row = await db
    .selectFrom('ui_sessions as s')
    .innerJoin('tokens as t', 't.id', 's.token_id')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.user_id',
      's.token_id',
      's.expires_at',
      's.token_key_digest',
      't.key_digest',
      't.intent',
      't.expiring',
      't.expires',
      'u.is_active',
    ])
    .where('s.id_digest', '=', idDigest)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    userId: row.user_id,
    tokenId: row.token_id,
    expiresAt: row.expires_at,
    signedInKeyDigest: row.token_key_digest,
    currentKeyDigest: row.key_digest,
    tokenIntent: row.intent,
    tokenExpiring: row.expiring === 1,
    tokenExpires: row.expires,
    userIsActive: row.is_active === 1,
  }
}

export async function deleteUiSession(db: Executor, idDigest: string): Promise<void> {
  await db.deleteFrom('ui_sessions').where('id_digest', '=', idDigest).execute()
}

/** Deletes sessions that expired before `now` (ISO text compares in time order). */
export async function deleteExpiredUiSessions(db: Executor, now: string): Promise<void> {
  await db.deleteFrom('ui_sessions').where('expires_at', '<=', now).execute()
}

export async function countUiSessions(db: Executor): Promise<number> {
  const { n } = await db
    .selectFrom('ui_sessions')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(n)
}
