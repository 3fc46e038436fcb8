/**
 * The migration that lets several sources hold one user keeps every existing connection,
 * email row and cascade, and can be undone (issue 28). Both databases.
 */
import { sql } from 'kysely'
import { expect, it } from 'vitest'
import { openUnmigrated } from '../support/migrations.js'

const BEFORE = '2026_11_24_1200_notify_credential_changes'

it('keeps connections and their emails, and the email rows still cascade', async () => {
  const { db, migrator: m } = await openUnmigrated()
  expect((await m.migrateTo(BEFORE)).error).toBeUndefined()
  const now = '2026-12-07T00:00:00.000Z'
  const [user] = await db
    .insertInto('users')
    .values({
      uuid: 'u-1',
      username: 'ada',
      date_joined: now,
      last_updated: now,
      password_hash: null,
      last_login: null,
    })
    .returning('id')
    .execute()
  await db
    .insertInto('sources')
    .values({
      id: 's-1',
      slug: 's',
      name: 'S',
      created_at: now,
      updated_at: now,
      service_account_id: null,
      token_id: null,
    })
    .execute()
  await sql`insert into scim_source_users (id, source_id, user_id, external_id, user_name_key,
    resource, created, last_modified, version) values ('u-1', 's-1', ${user?.id}, 'x', 'ada',
    '{}', ${now}, ${now}, 3)`.execute(db)
  await sql`insert into scim_source_user_emails values ('u-1', 's-1', 0, 'A@x', 'a@x', null, 1)`.execute(
    db,
  )

  expect((await m.migrateToLatest()).error).toBeUndefined()
  const row = await db.selectFrom('scim_source_users').selectAll().executeTakeFirstOrThrow()
  expect(row).toMatchObject({ id: 'u-1', version: 3, owns_user: 1, external_id: 'x' })
  const emails = await db.selectFrom('scim_source_user_emails').selectAll().execute()
  expect(emails).toHaveLength(1)

  // A second source may now hold the same user; the same source may not hold it twice.
  await db
    .insertInto('sources')
    .values({
      id: 's-2',
      slug: 't',
      name: 'T',
      created_at: now,
      updated_at: now,
      service_account_id: null,
      token_id: null,
    })
    .execute()
  const link = (id: string, sourceId: string) =>
    db
      .insertInto('scim_source_users')
      .values({
        id,
        source_id: sourceId,
        user_id: user?.id as number,
        external_id: null,
        user_name_key: `k-${id}`,
        resource: '{}',
        created: now,
        last_modified: now,
        owns_user: 0,
      })
      .execute()
  await link('c-2', 's-2')
  await expect(link('c-3', 's-2')).rejects.toThrow()

  await db.deleteFrom('scim_source_users').where('id', '=', 'u-1').execute()
  expect(await db.selectFrom('scim_source_user_emails').selectAll().execute()).toHaveLength(0)

  // Undone, one connection per user remains and the table-wide uniqueness is back.
  expect((await m.migrateTo(BEFORE)).error).toBeUndefined()
  expect(await db.selectFrom('scim_source_users').select('id').execute()).toEqual([{ id: 'c-2' }])
})
