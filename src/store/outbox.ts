/**
 * The outbox: every directory change a provider must push, written in the same transaction as
 * the change (one row per provider), claimed and deleted by the sync worker (src/sync/).
 */
import { type RawBuilder, type SelectQueryBuilder, sql } from 'kysely'
import type { Database, DatabaseHandle, Executor, OutboxRow } from './database.js'
import { hasRowLocks } from './locks.js'
import { preparedListQuery, preparedQuery } from './prepared.js'

/**
 * A change to the directory, as the worker needs to know of it. It names the object only: the
 * worker reads the object's state when it pushes, so repeated changes coalesce and a change
 * whose object is gone becomes a delete.
 */
export type DirectoryChange =
  /** A user was created, changed or (before the row goes) deleted. */
  | { kind: 'user'; userPk: number }
  /** A group's own attributes were created, changed or (before the row goes) deleted. */
  | { kind: 'group'; groupId: string }
  /** These users joined or left the group: pushed as that difference. */
  | { kind: 'member'; groupId: string; userPks: readonly number[] }
  /** The group's whole member list was replaced: reconciled against the remote. */
  | { kind: 'members'; groupId: string }
  /** A source and all it provisioned is about to be deleted. */
  | { kind: 'source'; sourceId: string }

export type OutboxKind = 'user' | 'group' | 'member' | 'members'

const COLUMNS = [
  'provider_id',
  'kind',
  'object_id',
  'member_id',
  'created_at',
  'available_at',
] as const

/** `value` (a parameter, or a column given by sql.ref) as text: the outbox keys every object by a string. */
const text = (value: unknown) => sql<string>`cast(${value} as text)`

/**
 * The select list of outbox rows: one per provider `p` (and per row the query joins to it),
 * with the kind, object and member the caller names. Every insert into the outbox selects it.
 */
function outboxRow(
  kind: RawBuilder<unknown>,
  objectId: RawBuilder<unknown>,
  memberId: RawBuilder<unknown>,
  now: string,
) {
  const at = text(now)
  return [
    sql.ref('p.id').as('provider_id'),
    kind.as('kind'),
    objectId.as('object_id'),
    memberId.as('member_id'),
    at.as('created_at'),
    at.as('available_at'),
  ]
}

const NO_MEMBER = sql<null>`null`

/** `insert into outbox (…) select …`: the rows the select (ending in outboxRow) yields. */
function insertOutbox(db: Executor, rows: SelectQueryBuilder<Database, never, unknown>) {
  return db.insertInto('outbox').columns(COLUMNS).expression(rows)
}

/** One row per provider for a user, by pk; nothing when there is no provider (a cheap select). */
const userRows = preparedQuery((db, userPk: number, now: string) =>
  insertOutbox(
    db,
    db
      .selectFrom('providers as p')
      .innerJoin('users as u', (join) => join.on('u.id', '=', userPk))
      .select(outboxRow(sql.lit('user'), sql.ref('u.uuid'), NO_MEMBER, now)),
  ).compile(),
)

const groupRows = preparedQuery((db, kind: string, groupId: string, now: string) =>
  insertOutbox(
    db,
    db.selectFrom('providers as p').select(outboxRow(text(kind), text(groupId), NO_MEMBER, now)),
  ).compile(),
)

const memberRow = preparedQuery((db, groupId: string, userPk: string, now: string) =>
  insertOutbox(
    db,
    db
      .selectFrom('providers as p')
      .select(outboxRow(sql.lit('member'), text(groupId), text(userPk), now)),
  ).compile(),
)

/** The insert of several memberships of one group (apart, so its plan can be checked). */
export function insertMemberRows(
  db: Executor,
  groupId: string,
  now: string,
  userPks: readonly number[],
) {
  return insertOutbox(
    db,
    // A cross join keeps providers the outer loop on SQLite: with the users outside, a
    // target with no provider (a scimd that only receives) looked up every member's row for
    // nothing, 7% of a 1,000-member PATCH's statements.
    db
      .selectFrom('providers as p')
      .crossJoin('users as u')
      .where('u.id', 'in', userPks)
      .select(outboxRow(sql.lit('member'), text(groupId), text(sql.ref('u.id')), now)),
  )
}

const memberRows = preparedListQuery((db, [groupId, now]: [string, string], userPks: number[]) =>
  insertMemberRows(db, groupId, now, userPks).compile(),
)

/**
 * Records a directory change for every provider, in the caller's transaction: the one way
 * changes reach the outbox (services call it beside each write). Costs one small insert;
 * with no provider it inserts nothing, and a provider created later starts with a full sync.
 */
export async function enqueueChange(
  tx: Executor,
  change: DirectoryChange,
  now: string = new Date().toISOString(),
): Promise<void> {
  switch (change.kind) {
    case 'user':
      await userRows(tx, change.userPk, now)
      return
    case 'group':
    case 'members':
      await groupRows(tx, change.kind, change.groupId, now)
      return
    case 'member': {
      if (change.userPks.length === 1) {
        await memberRow(tx, change.groupId, String(change.userPks[0]), now)
        return
      }
      await memberRows(tx, [change.groupId, now], change.userPks)
      return
    }
    case 'source': {
      await insertOutbox(
        tx,
        tx
          .selectFrom('providers as p')
          .innerJoin('scim_source_users as s', (join) =>
            join.on('s.source_id', '=', change.sourceId),
          )
          .innerJoin('users as u', 'u.id', 's.user_id')
          .select(outboxRow(sql.lit('user'), sql.ref('u.uuid'), NO_MEMBER, now)),
      ).execute()
      await insertOutbox(
        tx,
        tx
          .selectFrom('providers as p')
          .innerJoin('scim_source_groups as s', (join) =>
            join.on('s.source_id', '=', change.sourceId),
          )
          .select(outboxRow(sql.lit('group'), sql.ref('s.group_id'), NO_MEMBER, now)),
      ).execute()
      return
    }
  }
}

export interface OutboxEntry {
  id: number
  providerId: number
  kind: OutboxKind
  objectId: string
  memberId: string | null
  createdAt: string
  attempts: number
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: Number(row.id),
    providerId: Number(row.provider_id),
    kind: row.kind as OutboxKind,
    objectId: row.object_id,
    memberId: row.member_id,
    createdAt: row.created_at,
    attempts: row.attempts,
  }
}

/**
 * The oldest due changes of a provider, in order. On PostgreSQL the rows are locked (`for
 * update skip locked`) until the transaction ends, so two workers never claim the same row
 * even if a lease expired under one of them; SQLite has a single writer.
 */
export async function claimOutbox(
  tx: Executor,
  providerId: number,
  now: string,
  limit: number,
): Promise<OutboxEntry[]> {
  let query = tx
    .selectFrom('outbox')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where('available_at', '<=', now)
    .orderBy('id')
    .limit(limit)
  if (hasRowLocks(tx)) query = query.forUpdate().skipLocked()
  return (await query.execute()).map(toEntry)
}

export async function deleteOutboxEntries(db: Executor, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db
      .deleteFrom('outbox')
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
  }
}

/** Puts changes back for later (a remote that is down or throttling), counting the attempt. */
export async function deferOutboxEntries(
  db: Executor,
  ids: readonly number[],
  availableAt: string,
  error: string,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db
      .updateTable('outbox')
      .set((eb) => ({
        available_at: availableAt,
        attempts: eb('attempts', '+', 1),
        last_error: error,
      }))
      .where('id', 'in', ids.slice(i, i + 500))
      .execute()
  }
}

/** How many changes wait for a provider, and since when the oldest. */
export async function outboxDepth(
  db: Executor,
  providerId: number,
): Promise<{ count: number; oldest: string | null }> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.min('created_at').as('oldest'),
    ])
    .where('provider_id', '=', providerId)
    .executeTakeFirstOrThrow()
  return { count: Number(row.n), oldest: (row.oldest as string | null) ?? null }
}

/** Drops a provider's pending changes older than `before` (a full sync covers them). */
export async function deleteOutboxBefore(
  db: Executor,
  providerId: number,
  beforeId: number,
): Promise<void> {
  await db
    .deleteFrom('outbox')
    .where('provider_id', '=', providerId)
    .where('id', '<=', beforeId)
    .execute()
}

export async function maxOutboxId(db: Executor, providerId: number): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.max('id').as('m'))
    .where('provider_id', '=', providerId)
    .executeTakeFirst()
  return Number(row?.m ?? 0)
}

/**
 * Claims a provider's due changes and hands them to `work`; if it succeeds they are deleted,
 * if it throws they are put back until `retryAt(attempts)` with the error. On PostgreSQL
 * the rows stay locked (`for update skip locked`) in one transaction until then; SQLite's
 * single writer needs no lock. Returns how many were claimed.
 */
export async function withClaimedOutbox(
  db: DatabaseHandle,
  providerId: number,
  limit: number,
  work: (entries: OutboxEntry[]) => Promise<void>,
  retryAt: (attempts: number) => string,
): Promise<number> {
  const run = async (tx: Executor): Promise<number> => {
    const entries = await claimOutbox(tx, providerId, new Date().toISOString(), limit)
    if (entries.length === 0) return 0
    const ids = entries.map((e) => e.id)
    try {
      await work(entries)
    } catch (err) {
      const attempts = Math.max(...entries.map((e) => e.attempts)) + 1
      await deferOutboxEntries(
        tx,
        ids,
        retryAt(attempts),
        err instanceof Error ? err.message : String(err),
      )
      throw err
    }
    await deleteOutboxEntries(tx, ids)
    return entries.length
  }
  if (!hasRowLocks(db)) return run(db)
  // The deferral must commit although work failed: the error leaves the transaction after it.
  let failure: unknown
  const claimed = await db.transaction().execute(async (tx) => {
    try {
      return await run(tx)
    } catch (err) {
      failure = err
      return 0
    }
  })
  if (failure !== undefined) throw failure
  return claimed
}

/** Every provider's pending changes and the oldest one's time, for the metrics. */
export async function outboxDepths(
  db: Executor,
): Promise<Array<{ providerId: number; count: number; oldest: string | null }>> {
  const rows = await db
    .selectFrom('providers as p')
    .leftJoin('outbox as o', 'o.provider_id', 'p.id')
    .select((eb) => [
      'p.id',
      eb.fn.count<number | string>('o.id').as('n'),
      eb.fn.min('o.created_at').as('oldest'),
    ])
    .groupBy('p.id')
    .execute()
  return rows.map((r) => ({
    providerId: Number(r.id),
    count: Number(r.n),
    oldest: (r.oldest as string | null) ?? null,
  }))
}
