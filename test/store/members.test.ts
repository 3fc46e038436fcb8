/**
 * A user's groups where the data is unusual (a direct group that is not one of the source's,
 * nested in one that is), read both ways scimd reads them: listGroupsOfUsers (a page of
 * users) and findScimUserWithGroups (one user and their groups in one query).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { UserGroupRef } from '../../src/core/domain.js'
import { connect, type Store } from '../../src/store/connect.js'
import { listGroupsOfUsers } from '../../src/store/members.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import {
  findScimUserWithGroups,
  findScimUserWithGroupsByUserName,
} from '../../src/store/scim-resources/users.js'

let store: Store
const NOW = '2026-01-01T00:00:00.000Z'

beforeEach(async () => {
  store = connect({ kind: 'sqlite', path: ':memory:' })
  await migrateToLatest(store.db)
  await store.db
    .insertInto('sources')
    .values({ id: 's1', slug: 's1', name: 'S1', created_at: NOW, updated_at: NOW })
    .execute()
  await store.db
    .insertInto('users')
    .values({ id: 7, uuid: 'u7', username: 'ann', date_joined: NOW, last_updated: NOW })
    .execute()
  await store.db
    .insertInto('scim_source_users')
    .values({
      id: 'ann-id',
      source_id: 's1',
      user_id: 7,
      user_name_key: 'ann',
      resource: '{}',
      created: NOW,
      last_modified: NOW,
    })
    .execute()
  for (const id of ['core', 'scim-parent', 'scim-direct', 'scim-b']) {
    await store.db
      .insertInto('groups')
      .values({ id, name: id, created_at: NOW, last_updated: NOW })
      .execute()
  }
  for (const id of ['scim-parent', 'scim-direct', 'scim-b']) {
    await store.db
      .insertInto('scim_source_groups')
      .values({
        id,
        source_id: 's1',
        group_id: id,
        display_name_key: id,
        resource: '{}',
        created: NOW,
        last_modified: NOW,
      })
      .execute()
  }
})

afterEach(async () => {
  await store.close()
})

const readers: [string, () => Promise<UserGroupRef[] | undefined>][] = [
  ['listGroupsOfUsers', async () => (await listGroupsOfUsers(store.db, 's1', [7])).get(7)],
  [
    'findScimUserWithGroups',
    async () => (await findScimUserWithGroups(store.db, 's1', 'ann-id'))?.groups,
  ],
  [
    'findScimUserWithGroupsByUserName',
    async () => (await findScimUserWithGroupsByUserName(store.db, 's1', 'ANN'))?.groups,
  ],
]

describe.each(readers)('%s', (_name, groupsOfAnn) => {
  it('returns the direct groups of the source by id, without the walk when nothing is nested', async () => {
    await store.db
      .insertInto('group_members')
      .values([
        { group_id: 'scim-direct', user_id: 7 },
        { group_id: 'core', user_id: 7 },
        { group_id: 'scim-b', user_id: 7 },
      ])
      .execute()
    expect(await groupsOfAnn()).toEqual([
      { value: 'scim-b', display: 'scim-b', type: 'direct' },
      { value: 'scim-direct', display: 'scim-direct', type: 'direct' },
    ])
  })

  it('finds a group of the source reached through a group outside it', async () => {
    await store.db.insertInto('group_members').values({ group_id: 'core', user_id: 7 }).execute()
    await store.db
      .insertInto('group_parents')
      .values({ group_id: 'core', parent_id: 'scim-parent' })
      .execute()
    expect(await groupsOfAnn()).toEqual([
      { value: 'scim-parent', display: 'scim-parent', type: 'indirect' },
    ])
  })

  it('returns no groups for a user in none', async () => {
    expect(await groupsOfAnn()).toEqual([])
  })
})

describe('findScimUserWithGroups', () => {
  it('finds the user by id or userName within the source only', async () => {
    expect(await findScimUserWithGroups(store.db, 's2', 'ann-id')).toBeUndefined()
    expect(await findScimUserWithGroups(store.db, 's1', 'nobody')).toBeUndefined()
    expect(await findScimUserWithGroupsByUserName(store.db, 's2', 'ann')).toBeUndefined()
    const found = await findScimUserWithGroupsByUserName(store.db, 's1', 'Ann')
    expect(found?.record).toMatchObject({ id: 'ann-id', userId: 7, sourceId: 's1' })
  })
})
