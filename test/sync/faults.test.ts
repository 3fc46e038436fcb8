import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { capabilitiesOf, forgetCapabilities } from '../../src/sync/capabilities.js'
import { ScimClient } from '../../src/sync/client.js'
import { createTestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { addProvider, outboxCount, PATCH, scimJson, worker } from './support.js'

describe('faults', () => {
  it('retries 503s and non-JSON bodies, and a remote that stays down catches up from the outbox', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ fail503: 1, failHtml: 1 })
    await addProvider(t, target, { excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['akadmin'])

    // Down for longer than the client's retries: the change waits in the outbox.
    target.quirks.fail503 = 1000
    const ada = await scimJson<{ id: string }>(await t.scim('POST', '/Users', { userName: 'ada' }))
    await w.runOnce()
    expect(await outboxCount(t)).toBe(1)
    const deferred = await t.runtime.deps.db
      .selectFrom('outbox')
      .select(['attempts', 'last_error', 'available_at'])
      .executeTakeFirstOrThrow()
    expect(deferred.attempts).toBe(1)
    expect(deferred.last_error).toContain('503')
    expect(deferred.available_at > new Date().toISOString()).toBe(true)

    // Back: once the retry is due the change goes through, in order.
    target.quirks.fail503 = 0
    await t.runtime.deps.db.updateTable('outbox').set({ available_at: '2000-01-01' }).execute()
    await t.scim('PATCH', `/Users/${ada.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Ada' }],
    })
    await w.runOnce()
    expect(await outboxCount(t)).toBe(0)
    expect([...target.users.values()].find((u) => u.userName === 'ada')?.displayName).toBe('Ada')
  })

  it('times out a remote that never answers and tries again', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ hang: 1 })
    await addProvider(t, target, { excludeServiceAccounts: true })
    await worker(t).runOnce()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['akadmin'])
  })

  it('records a refused object, goes on with the next, and recreates what vanished remotely', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget({ refuseUserName: 'bad' })
    await t.scim('POST', '/Users', { userName: 'bad' })
    const good = await scimJson<{ id: string }>(
      await t.scim('POST', '/Users', { userName: 'good' }),
    )
    const pk = await addProvider(t, target, { excludeServiceAccounts: true })
    const w = worker(t)
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.userName).sort()).toEqual(['akadmin', 'good'])
    const links = (await (
      await t.admin('GET', `/providers/scim_users/?provider__id=${pk}`)
    ).json()) as {
      results: Array<{ last_error: string | null; scim_id: string | null; attempts: number }>
    }
    const failed = links.results.filter((l) => l.last_error !== null)
    expect(failed).toHaveLength(1)
    expect(failed[0]?.last_error).toContain('400: refused by policy')
    expect(failed[0]?.attempts).toBe(1)

    // Someone deleted the remote copy: the next update recreates it.
    target.users.clear()
    await t.scim('PATCH', `/Users/${good.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Good' }],
    })
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.displayName)).toEqual(['Good'])
  })

  it('asks again soon after an unreadable ServiceProviderConfig instead of pinning "no PATCH"', async () => {
    forgetCapabilities()
    const target = await startMemoryTarget({ spcFail: 100 })
    const client = new ScimClient({
      baseUrl: target.url,
      token: target.token,
      verifyCertificates: true,
      dryRun: false,
      maxAttempts: 1,
    })
    onTestFinished(() => client.close())
    const t0 = Date.now()
    expect(await capabilitiesOf(client, 'k', 'default', t0)).toMatchObject({
      known: false,
      patch: false,
      filter: false,
    })
    target.quirks.spcFail = 0
    // Still within the short cache: not asked again.
    expect((await capabilitiesOf(client, 'k', 'default', t0 + 1000)).known).toBe(false)
    // Well within authentik's hour, it asks again and now knows PATCH works.
    expect(await capabilitiesOf(client, 'k', 'default', t0 + 60_000)).toMatchObject({
      known: true,
      patch: true,
    })
    // A readable config is kept longer.
    target.quirks.spcFail = 100
    expect((await capabilitiesOf(client, 'k', 'default', t0 + 120_000)).known).toBe(true)
  })

  it('accepts a self-signed certificate only with verify_certificates false', async () => {
    forgetCapabilities()
    const dir = mkdtempSync(join(tmpdir(), 'scimd-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    const target = await startMemoryTarget()
    // A TLS front for the target: every request is passed on as is.
    const server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      async (req, res) => {
        const chunks: Buffer[] = []
        for await (const c of req) chunks.push(c as Buffer)
        const body = Buffer.concat(chunks)
        const upstream = await fetch(`${target.url.replace('/v2', '')}${req.url}`, {
          method: req.method ?? 'GET',
          headers: {
            authorization: req.headers.authorization ?? '',
            'content-type': req.headers['content-type'] ?? 'application/scim+json',
          },
          ...(body.length > 0 ? { body } : {}),
        })
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? '',
        })
        res.end(Buffer.from(await upstream.arrayBuffer()))
      },
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v2`

    const strict = await createTestApp()
    const pk = await addProvider(
      strict,
      { url, token: target.token },
      { excludeServiceAccounts: true },
    )
    await worker(strict).runOnce()
    expect(target.users.size).toBe(0)
    const status = (await (
      await strict.admin('GET', `/providers/scim/${pk}/sync/status/`)
    ).json()) as {
      last_sync_status: string
    }
    expect(status.last_sync_status).toBe('error')

    const lax = await createTestApp()
    await addProvider(
      lax,
      { url, token: target.token },
      {
        excludeServiceAccounts: true,
        verifyCertificates: false,
      },
    )
    await worker(lax).runOnce()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['akadmin'])
  })
})

describe('scope', () => {
  it('leaves out service accounts when asked, and pushes only filter_group members', async () => {
    forgetCapabilities()
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const ada = await scimJson<{ id: string }>(await t.scim('POST', '/Users', { userName: 'ada' }))
    const bob = await scimJson<{ id: string }>(await t.scim('POST', '/Users', { userName: 'bob' }))
    const g = await scimJson<{ id: string }>(
      await t.scim('POST', '/Groups', { displayName: 'pushed', members: [{ value: ada.id }] }),
    )
    await addProvider(t, target, { excludeServiceAccounts: true, filterGroup: g.id })
    const w = worker(t)
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['ada'])

    // Joining the filter group brings bob in; leaving it takes ada out (remote delete).
    await t.scim('PATCH', `/Groups/${g.id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'add', path: 'members', value: [{ value: bob.id }] },
        { op: 'remove', path: `members[value eq "${ada.id}"]` },
      ],
    })
    await w.runOnce()
    expect([...target.users.values()].map((u) => u.userName)).toEqual(['bob'])
    const remote = [...target.groups.values()].find((x) => x.displayName === 'pushed')
    const bobRemote = [...target.users.values()][0]
    expect(remote?.members).toEqual([{ value: bobRemote?.id }])
  })
})
