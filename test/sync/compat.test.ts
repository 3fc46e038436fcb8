import { describe, expect, it } from 'vitest'
import { forgetCapabilities } from '../../src/sync/capabilities.js'
import { createTestApp, type TestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, PATCH, scimJson, worker } from './support.js'

async function users(t: TestApp, n: number, prefix = 'u'): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await t.scim('POST', '/Users', {
      userName: `${prefix}${i}`,
      name: { givenName: 'Given', familyName: `Family${i}` },
      emails: [{ value: `${prefix}${i}@example.com`, primary: true }],
    })
    ids.push((await scimJson<{ id: string }>(res)).id)
  }
  return ids
}

describe('aws mode against an AWS-like target', () => {
  it('creates a 250-member group in chunks of at most 100, and never PUTs a group', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ aws: true })
    const ids = await users(t, 250)
    await scimJson(
      await t.scim('POST', '/Groups', {
        displayName: 'all',
        members: ids.map((value) => ({ value })),
      }),
    )
    await addProvider(t, target, { mode: 'aws', excludeServiceAccounts: true })
    await worker(t).runOnce()
    const group = [...target.groups.values()].find((g) => g.displayName === 'all')
    expect(group?.members).toHaveLength(250)
    const patches = target.requests.filter(
      (r) => r.method === 'PATCH' && r.path === `/v2/Groups/${group?.id}`,
    )
    expect(patches.length).toBe(3)
    for (const p of patches) expect(p.status).toBe(204)
    expect(target.requests.some((r) => r.method === 'PUT' && r.path.includes('/Groups/'))).toBe(
      false,
    )
    expect(target.requests.every((r) => r.status < 400 || r.path.endsWith('/Users'))).toBe(true)
  })

  it('reads members through the groups.value filter and removes members AWS hides on GET /Groups', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ aws: true })
    const ids = await users(t, 120)
    const g = await scimJson<{ id: string }>(
      await t.scim('POST', '/Groups', {
        displayName: 'eng',
        members: ids.map((value) => ({ value })),
      }),
    )
    const pk = await addProvider(t, target, { mode: 'aws', excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    // 110 members leave with one PUT of the member list (a replace in the directory).
    await t.scim('PUT', `/Groups/${g.id}`, {
      displayName: 'eng',
      members: ids.slice(0, 10).map((value) => ({ value })),
    })
    target.requests.length = 0
    await w.runOnce()
    const remote = [...target.groups.values()].find((x) => x.displayName === 'eng')
    expect(remote?.members).toHaveLength(10)
    expect(target.requests.some((r) => r.query.includes('cursor='))).toBe(true)
    const patches = target.requests.filter((r) => r.method === 'PATCH')
    expect(patches.length).toBe(2)
    for (const p of patches) {
      const ops = (p.body as { Operations: Array<{ op: string; path: string; value?: unknown[] }> })
        .Operations
      for (const op of ops) {
        expect(op.path).toBe('members')
        expect(op.op).not.toBe('replace')
        expect(op.value?.length).toBeGreaterThan(0)
      }
    }
    expect(pk).toBeGreaterThan(0)
  })

  it('sends one primary email and both name parts; updates users by PATCH with paths', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ aws: true })
    const res = await t.scim('POST', '/Users', {
      userName: 'mono',
      displayName: 'Mono',
      emails: [
        { value: 'a@example.com', primary: true },
        { value: 'b@example.com', type: 'home' },
      ],
    })
    const id = (await scimJson<{ id: string }>(res)).id
    await addProvider(t, target, { mode: 'aws', excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    const remote = [...target.users.values()].find((u) => u.userName === 'mono')
    expect(remote).toMatchObject({
      name: { givenName: 'Mono', familyName: 'Mono' },
      emails: [{ value: 'a@example.com', primary: true }],
    })
    await t.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    })
    target.requests.length = 0
    await w.runOnce()
    const writes = target.writes()
    expect(writes).toHaveLength(1)
    expect(writes[0]?.body).toEqual({
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    })
    expect(remote?.active).toBe(false)
  })
})

describe('slack mode against a Slack-like target', () => {
  it('links an existing user on 409 with a quoted filter although filters are not advertised', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ slack: true })
    target.users.set('S1', { id: 'S1', userName: 'ada', active: true })
    await users(t, 0)
    await t.scim('POST', '/Users', { userName: 'ada', displayName: 'Ada' })
    await addProvider(t, target, { mode: 'slack', excludeServiceAccounts: true })
    await worker(t).runOnce()
    expect([...target.users.values()].filter((u) => u.userName === 'ada')).toHaveLength(1)
    expect(target.users.get('S1')?.displayName).toBe('Ada')
    const lookup = target.requests.find((r) => r.method === 'GET' && r.path === '/v2/Users')
    expect(decodeURIComponent(lookup?.query ?? '')).toContain('filter=userName eq "ada"')
  })

  it('without slack mode, the same 409 is recorded on the user (the remote says it cannot filter)', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ slack: true })
    target.users.set('S1', { id: 'S1', userName: 'ada', active: true })
    await t.scim('POST', '/Users', { userName: 'ada' })
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    await worker(t).runOnce()
    const status = (await (await t.admin('GET', `/providers/scim/${pk}/sync/status/`)).json()) as {
      last_sync_status: string
      users: { failed: number }
      last_errors: Array<{ error: string }>
    }
    expect(status.last_sync_status).toBe('warning')
    expect(status.users.failed).toBe(1)
    expect(status.last_errors[0]?.error).toContain('409')
  })

  it('waits out 429 Retry-After and gets every write through', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ slack: true, throttle429: 2 })
    await users(t, 3)
    await addProvider(t, target, { mode: 'slack', excludeServiceAccounts: true })
    await worker(t).runOnce()
    expect(target.requests.filter((r) => r.status === 429)).toHaveLength(2)
    expect([...target.users.values()].map((u) => u.userName).sort()).toEqual([
      'akadmin',
      'u0',
      'u1',
      'u2',
    ])
  })
})
