/**
 * A deleted user's pk is never handed out again, on SQLite (AUTOINCREMENT, migration
 * 2026_12_07_1600) and on PostgreSQL (identity column).
 * @see issue 24
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Migrator, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { migrations } from '../../db/migrations/index.js'
import { connect } from '../../src/store/connect.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { createTestApp, isPostgres } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'

describe('user pks', () => {
  it('are not reused after the newest user is deleted, by a user or a service account', async () => {
    const t = await createTestApp()
    const pkOf = async (username: string) => {
      const res = await t.admin('GET', `/core/users/?username=${encodeURIComponent(username)}`)
      const body = (await res.json()) as { results: Array<{ pk: number }> }
      return body.results[0]?.pk as number
    }
    const created = (await (
      await t.scim('POST', '/Users', { schemas: [USER], userName: 'newest' })
    ).json()) as { id: string }
    const deletedPk = await pkOf('newest')
    expect(deletedPk).toBeGreaterThan(0)
    expect((await t.scim('DELETE', `/Users/${created.id}`)).status).toBe(204)

    // The next service account (a new source) and the next provisioned user get new pks.
    await t.createSource('after-delete')
    const source = (await (await t.admin('GET', '/sources/scim/after-delete/')).json()) as {
      token_obj: { user_obj: { pk: number } }
    }
    const account = source.token_obj.user_obj.pk
    await t.scim('POST', '/Users', { schemas: [USER], userName: 'next' })
    const next = await pkOf('next')
    expect(account).toBeGreaterThan(deletedPk)
    expect(next).toBeGreaterThan(account)
  })
})

describe('provider and outbox pks (migration 2026_12_09_1200)', () => {
  it('are not reused: a new provider after the newest was deleted, a change after the outbox drained', async () => {
    const t = await createTestApp()
    const provider = async (name: string) => {
      const res = await t.admin('POST', '/providers/scim/', {
        name,
        url: 'https://scim.example.com/v2',
        token: 'remote-secret-token-value-123',
      })
      expect(res.status).toBe(201)
      return ((await res.json()) as { pk: number }).pk
    }
    const first = await provider('first')
    const newest = await provider('newest')
    expect((await t.admin('DELETE', `/providers/scim/${newest}/`)).status).toBe(204)
    expect(await provider('after')).toBeGreaterThan(newest)

    // Each SCIM write queues a change per provider; the outbox then drains to nothing.
    const db = t.runtime.deps.db
    const maxId = async () =>
      Number((await sql<{ n: number }>`select max(id) as n from outbox`.execute(db)).rows[0]?.n)
    await t.scim('POST', '/Users', { schemas: [USER], userName: 'queued' })
    const queued = await maxId()
    expect(queued).toBeGreaterThan(0)
    await sql`delete from outbox`.execute(db)
    await t.scim('POST', '/Users', { schemas: [USER], userName: 'later' })
    expect(await maxId()).toBeGreaterThan(queued)
    expect(first).toBeGreaterThan(0)
  })
})

describe.skipIf(isPostgres)('the SQLite users rebuild (migration 2026_12_07_1600)', () => {
  it('keeps every user, membership and token of an existing database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimd-pks-'))
    try {
      const store = connect({ kind: 'sqlite', path: join(dir, 'scimd.db') })
      const migrator = new Migrator({
        db: store.db,
        provider: { getMigrations: async () => migrations },
      })
      await migrator.migrateTo('2026_11_24_1200_notify_credential_changes')
      const now = new Date().toISOString()
      for (const [id, username] of [
        [1, 'a'],
        [2, 'b'],
        [3, 'gone'],
      ] as const) {
        await store.db
          .insertInto('users')
          .values({
            id,
            uuid: `uuid-${id}`,
            username,
            date_joined: now,
            last_updated: now,
          })
          .execute()
      }
      await store.db
        .insertInto('groups')
        .values({ id: 'g1', name: 'G', created_at: now, last_updated: now } as never)
        .execute()
      await store.db.insertInto('group_members').values({ group_id: 'g1', user_id: 2 }).execute()
      await store.db.deleteFrom('users').where('id', '=', 3).execute()

      await migrateToLatest(store.db)

      const users = await store.db.selectFrom('users').select(['id', 'username']).execute()
      expect(users).toEqual([
        { id: 1, username: 'a' },
        { id: 2, username: 'b' },
      ])
      const members = await store.db.selectFrom('group_members').selectAll().execute()
      expect(members).toMatchObject([{ group_id: 'g1', user_id: 2 }])
      const { rows } = await sql<{ sql: string }>`
        select sql from sqlite_master where name = 'users'`.execute(store.db)
      expect(rows[0]?.sql).toMatch(/autoincrement/i)
      const indexes = await sql<{ name: string }>`
        select name from sqlite_master where tbl_name = 'users' and type = 'index'
        and sql is not null`.execute(store.db)
      expect(indexes.rows.map((r) => r.name)).toContain('users_username_idx')
      // Foreign keys are on again, and still cascade from users.
      await store.db.deleteFrom('users').where('id', '=', 2).execute()
      expect(await store.db.selectFrom('group_members').selectAll().execute()).toEqual([])
      // From now on, the highest pk is remembered.
      const { id: before } = await store.db
        .insertInto('users')
        .values({ uuid: 'uuid-x', username: 'x', date_joined: now, last_updated: now })
        .returning('id')
        .executeTakeFirstOrThrow()
      await store.db.deleteFrom('users').where('id', '=', before).execute()
      const { id: after } = await store.db
        .insertInto('users')
        .values({ uuid: 'uuid-y', username: 'y', date_joined: now, last_updated: now })
        .returning('id')
        .executeTakeFirstOrThrow()
      expect(after).toBeGreaterThan(before)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
