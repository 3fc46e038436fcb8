/**
 * Two scimd apps: Entra provisions A's source (the recorded sequence), A's provider pushes to
 * B's source over HTTP. After every change, B holds what A's directory holds.
 */
import { describe, expect, it } from 'vitest'
import { forgetCapabilities } from '../../src/sync/capabilities.js'
import { replay } from '../clients/support/replay.js'
import { createTestApp, type TestApp } from '../support/app.js'
import { serveScimd } from '../support/targets/scimd-target.js'
import { addProvider, outboxCount, worker } from './support.js'

interface Shape {
  users: string[]
  groups: string[]
}

/** A's directory as its provider should push it (everything but service accounts). */
async function directoryOf(a: TestApp): Promise<Shape> {
  const db = a.runtime.deps.db
  const users = await db
    .selectFrom('users')
    .select(['username', 'is_active', 'email', 'name'])
    .where('type', 'not in', ['service_account', 'internal_service_account'])
    .execute()
  const groups = await db.selectFrom('groups').select(['id', 'name']).execute()
  const members = await db
    .selectFrom('group_members as gm')
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .select(['gm.group_id', 'u.username'])
    .execute()
  return {
    users: users
      .map((u) => `${u.username}|${u.is_active === 1}|${u.email}|${u.name || u.username}`)
      .sort(),
    groups: groups
      .map(
        (g) =>
          `${g.name}:${members
            .filter((m) => m.group_id === g.id)
            .map((m) => m.username)
            .sort()
            .join(',')}`,
      )
      .sort(),
  }
}

/** What B's source holds, read through B's own SCIM API. */
async function remoteOf(b: TestApp): Promise<Shape> {
  const users = (await (await b.scim('GET', '/Users?count=1000')).json()) as {
    Resources: Array<{
      id: string
      userName: string
      active: boolean
      displayName?: string
      emails?: Array<{ value: string; primary?: boolean }>
    }>
  }
  const byId = new Map(users.Resources.map((u) => [u.id, u.userName]))
  const groups = (await (await b.scim('GET', '/Groups?count=1000')).json()) as {
    Resources: Array<{ displayName: string; members?: Array<{ value: string }> }>
  }
  return {
    users: users.Resources.map(
      (u) =>
        `${u.userName}|${u.active}|${u.emails?.find((e) => e.primary)?.value ?? ''}|${u.displayName ?? ''}`,
    ).sort(),
    groups: groups.Resources.map(
      (g) =>
        `${g.displayName}:${(g.members ?? [])
          .map((m) => byId.get(m.value) ?? `?${m.value}`)
          .sort()
          .join(',')}`,
    ).sort(),
  }
}

describe('end to end: Entra → scimd A → scimd B', () => {
  it('every user, group and membership change of the Entra sequence arrives in B', async () => {
    forgetCapabilities()
    const a = await createTestApp({ slug: 'entra' })
    const b = await createTestApp({ slug: 'from-a' })
    const url = await serveScimd(b)
    await addProvider(a, { url, token: b.key }, { excludeServiceAccounts: true })
    const w = worker(a)
    await w.runOnce()
    let checked = 0
    const result = await replay(a, 'entra', {}, async (_i, step) => {
      if (step.method === 'GET') return
      await w.runOnce()
      expect(await outboxCount(a)).toBe(0)
      expect(await remoteOf(b), step.name).toEqual(await directoryOf(a))
      checked++
    })
    expect(result.problems).toEqual([])
    expect(checked).toBeGreaterThan(15)
    const status = (await (await a.admin('GET', '/providers/scim/1/sync/status/')).json()) as {
      users: { failed: number }
      groups: { failed: number }
    }
    expect(status).toMatchObject({ users: { failed: 0 }, groups: { failed: 0 } })
  }, 120_000)
})
