/** server_state rows: named values about the deployment, such as the secret's fingerprint. */
import type { Executor } from './database.js'

export async function findServerState(db: Executor, name: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('server_state')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirst()
  return row?.value
}

/** The insert both writers start from; they differ in what a row already there means. */
function insertServerState(db: Executor, name: string, value: string, now: string) {
  return db.insertInto('server_state').values({ name, value, updated_at: now })
}

/** Records a value unless one is there already (several instances may start together). */
export async function insertServerStateIfAbsent(
  db: Executor,
  name: string,
  value: string,
  now: string,
): Promise<void> {
  await insertServerState(db, name, value, now)
    .onConflict((oc) => oc.column('name').doNothing())
    .execute()
}

/** One sealed token key, to check that the server secret opens what the database holds. */
export async function findAnySealedKey(db: Executor): Promise<string | undefined> {
  const row = await db.selectFrom('tokens').select('key_sealed').limit(1).executeTakeFirst()
  return row?.key_sealed
}

/** Records a value, replacing the one there. */
export async function upsertServerState(
  db: Executor,
  name: string,
  value: string,
  now: string,
): Promise<void> {
  await insertServerState(db, name, value, now)
    .onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now }))
    .execute()
}
