/**
 * Provider property mappings in the sync (issue 28 item 1): the default body plus the
 * provider's mappings in name order, deep-merged; a skip; a failure that marks the object
 * failed and lets the sync go on; a changed mapping changes the next pushed body.
 */
import { describe, expect, it } from 'vitest'
import { compiledCount } from '../../src/mapping/engine.js'
import { forgetCapabilities } from '../../src/sync/capabilities.js'
import { createTestApp, type TestApp } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { serveScimd } from '../support/targets/scimd-target.js'
import { PATCH, scimJson, worker } from './support.js'

type Json = Record<string, unknown>

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PROVIDER_MAPPINGS = '/propertymappings/provider/scim/'

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json
}

async function mapping(t: TestApp, name: string, expression: string, path = PROVIDER_MAPPINGS) {
  const res = await t.admin('POST', path, { name, expression })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await json(res)).pk as string
}

async function provider(
  t: TestApp,
  target: { url: string; token: string },
  fields: Json = {},
): Promise<number> {
  const res = await t.admin('POST', '/providers/scim/', {
    name: `to ${target.url}`,
    url: target.url,
    token: target.token,
    exclude_users_service_account: true,
    ...fields,
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await json(res)).pk as number
}

/** A user on A whose source mapping keeps the enterprise department in its attributes. */
async function withDepartments(t: TestApp): Promise<void> {
  const pk = await mapping(
    t,
    'department in',
    `{ "attributes": { "department": data.\`${ENTERPRISE}\`.department } }`,
    '/propertymappings/source/scim/',
  )
  const res = await t.admin('PATCH', `/sources/scim/${t.slug}/`, { user_property_mappings: [pk] })
  expect(res.status).toBe(200)
}

async function remoteUser(b: TestApp, userName: string): Promise<Json | undefined> {
  const filter = encodeURIComponent(`userName eq "${userName}"`)
  const list = await json(await b.scim('GET', `/Users?filter=${filter}`))
  return (list.Resources as Json[])[0]
}

describe('a provider’s property mappings', () => {
  it('pushes the default body with its mappings merged in name order into a second scimd', async () => {
    forgetCapabilities()
    const a = await createTestApp({ slug: 'idp' })
    const b = await createTestApp({ slug: 'from-a' })
    const url = await serveScimd(b)
    await withDepartments(a)
    // "b: display" runs after "a: enterprise": both results land, deep-merged onto the default.
    const display = await mapping(
      a,
      'b: display',
      '{ "displayName": user.name & " (" & user.attributes.department & ")" }',
    )
    const enterprise = await mapping(
      a,
      'a: enterprise',
      `{
        "schemas": ["${ENTERPRISE}"],
        "${ENTERPRISE}": { "department": user.attributes.department }
      }`,
    )
    const pk = await provider(
      a,
      { url, token: b.key },
      { property_mappings: [display, enterprise] },
    )
    const shown = await json(await a.admin('GET', `/providers/scim/${pk}/`))
    expect(shown.property_mappings).toEqual([display, enterprise])
    const usedBy = (await json(
      await a.admin('GET', `${PROVIDER_MAPPINGS}${display}/used_by/`),
    )) as unknown as Json[]
    expect(usedBy).toEqual([
      expect.objectContaining({
        app: 'authentik_providers_scim',
        model_name: 'scimprovider',
        pk: String(pk),
      }),
    ])

    const ada = await scimJson<{ id: string }>(
      await a.scim('POST', '/Users', {
        userName: 'ada',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@example.com', primary: true }],
        [ENTERPRISE]: { department: 'Research' },
      }),
    )
    const before = compiledCount()
    const w = worker(a)
    await w.runOnce()
    // Compiled once per mapping version, not per object (a's directory holds several users).
    expect(compiledCount() - before).toBeLessThanOrEqual(2)
    const remote = (await remoteUser(b, 'ada')) as Json
    expect(remote).toMatchObject({
      userName: 'ada',
      externalId: expect.any(String),
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace (Research)',
      emails: [expect.objectContaining({ value: 'ada@example.com', primary: true })],
      [ENTERPRISE]: { department: 'Research' },
    })
    expect(remote.schemas).toContain(ENTERPRISE)

    // A change at the source goes through the mappings: one PATCH into B.
    await a.scim('PATCH', `/Users/${ada.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Sales' }],
    })
    await w.runOnce()
    expect(await remoteUser(b, 'ada')).toMatchObject({
      displayName: 'Ada Lovelace (Sales)',
      [ENTERPRISE]: { department: 'Sales' },
    })

    // A changed mapping changes the next pushed body (its new version compiles once).
    const changed = await a.admin('PATCH', `${PROVIDER_MAPPINGS}${display}/`, {
      expression: '{ "displayName": $uppercase(user.username) & "/" & user.attributes.department }',
    })
    expect(changed.status).toBe(200)
    await w.runOnce()
    expect(await remoteUser(b, 'ada')).toMatchObject({ displayName: 'ADA/Sales' })
    const status = await json(await a.admin('GET', `/providers/scim/${pk}/sync/status/`))
    expect(status).toMatchObject({ users: { failed: 0 }, last_errors: [] })
  }, 60_000)

  it('refuses ids that are not provider mappings, naming them', async () => {
    const t = await createTestApp()
    const target = { url: 'https://remote.example/v2', token: 'remote-token-0123456789' }
    const missing = '0193a5c8-0000-7000-8000-000000000000'
    const res = await t.admin('POST', '/providers/scim/', {
      name: 'x',
      ...target,
      property_mappings: [missing],
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      property_mappings: [`Invalid pk "${missing}" - object does not exist.`],
    })
    const source = await mapping(t, 'src', '{}', '/propertymappings/source/scim/')
    const pk = await provider(t, target)
    const refused = await t.admin('PATCH', `/providers/scim/${pk}/`, {
      property_mappings_group: [source],
    })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({
      property_mappings_group: [
        `Invalid pk "${source}" - a source property mapping cannot be used by a provider.`,
      ],
    })
    const notAList = await t.admin('PATCH', `/providers/scim/${pk}/`, { property_mappings: 'x' })
    expect(notAList.status).toBe(400)
    // Nothing was written by the refused changes.
    expect(await json(await t.admin('GET', `/providers/scim/${pk}/`))).toMatchObject({
      property_mappings: [],
      property_mappings_group: [],
    })
    // Deleting a mapping takes it off the providers that list it.
    const own = await mapping(t, 'own', '{}')
    await t.admin('PATCH', `/providers/scim/${pk}/`, { property_mappings_group: [own] })
    expect(await json(await t.admin('GET', `/providers/scim/${pk}/`))).toMatchObject({
      property_mappings_group: [own],
    })
    expect((await t.admin('DELETE', `${PROVIDER_MAPPINGS}${own}/`)).status).toBe(204)
    expect(await json(await t.admin('GET', `/providers/scim/${pk}/`))).toMatchObject({
      property_mappings_group: [],
    })
  })

  it('skips what $skipObject() skips, and deletes nothing it pushed before', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const bob = await scimJson<{ id: string }>(await t.scim('POST', '/Users', { userName: 'bob' }))
    const pk = await provider(t, target)
    const w = worker(t)
    await w.runOnce()
    const remoteBob = [...target.users.values()].find((u) => u.userName === 'bob')
    expect(remoteBob).toBeDefined()

    const skip = await mapping(
      t,
      'skip some',
      '$contains(user.username, "skip") or user.username = "bob" ? $skipObject() : {}',
    )
    const groupSkip = await mapping(
      t,
      'skip groups',
      'group.name = "hidden" ? $skipObject() : { "displayName": "G-" & group.name }',
    )
    expect(
      (
        await t.admin('PATCH', `/providers/scim/${pk}/`, {
          property_mappings: [skip],
          property_mappings_group: [groupSkip],
        })
      ).status,
    ).toBe(200)
    const skipped = await scimJson<{ id: string }>(
      await t.scim('POST', '/Users', { userName: 'skipme' }),
    )
    const carol = await scimJson<{ id: string }>(
      await t.scim('POST', '/Users', { userName: 'carol' }),
    )
    await t.scim('POST', '/Groups', {
      displayName: 'eng',
      members: [{ value: skipped.id }, { value: carol.id }, { value: bob.id }],
    })
    await t.scim('POST', '/Groups', { displayName: 'hidden', members: [{ value: carol.id }] })
    target.requests.length = 0
    await t.scim('PATCH', `/Users/${bob.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Robert' }],
    })
    await w.runOnce()
    const names = [...target.users.values()].map((u) => u.userName)
    expect(names).toContain('carol')
    expect(names).not.toContain('skipme')
    // bob was pushed before the skip: neither changed nor deleted.
    expect(target.users.get(remoteBob?.id as string)).toMatchObject({ userName: 'bob' })
    expect(target.users.get(remoteBob?.id as string)?.displayName).not.toBe('Robert')
    expect(
      target
        .writes()
        .filter((r) => r.path === `/v2/Users/${remoteBob?.id}`)
        .map((r) => r.method),
    ).toEqual([])
    const groups = [...target.groups.values()].filter((g) => g.displayName !== 'G-authentik Admins')
    expect(groups.map((g) => g.displayName)).toEqual(['G-eng'])
    const carolRemote = [...target.users.values()].find((u) => u.userName === 'carol')
    // Members: carol and bob (bob's link stays); never the skipped user.
    expect(new Set(groups[0]?.members.map((m) => m.value))).toEqual(
      new Set([carolRemote?.id, remoteBob?.id]),
    )
    const status = await json(await t.admin('GET', `/providers/scim/${pk}/sync/status/`))
    expect(status).toMatchObject({ users: { failed: 0 }, groups: { failed: 0 } })
  })

  it('marks an object whose mapping fails as failed, and goes on with the others', async () => {
    const t = await createTestApp()
    const target = await startMemoryTarget()
    const failing = await mapping(
      t,
      'fails for some',
      'user.username = "broken" ? $error("no department for " & user.username) : { "title": "x" }',
    )
    const pk = await provider(t, target, { property_mappings: [failing] })
    const broken = await scimJson<{ id: string }>(
      await t.scim('POST', '/Users', { userName: 'broken' }),
    )
    await t.scim('POST', '/Users', { userName: 'fine' })
    const w = worker(t)
    await w.runOnce()
    const names = [...target.users.values()].map((u) => u.userName)
    expect(names).toContain('fine')
    expect(names).not.toContain('broken')
    expect([...target.users.values()].find((u) => u.userName === 'fine')?.title).toBe('x')

    const links = await json(await t.admin('GET', `/providers/scim_users/?provider__id=${pk}`))
    const row = (links.results as Json[]).find(
      (r) => (r.user_obj as Json | undefined)?.username === 'broken',
    ) as Json
    expect(row).toMatchObject({ scim_id: null })
    expect(row.attempts).toBeGreaterThanOrEqual(1)
    expect(row.last_error).toMatch(
      /Property mapping 'fails for some' failed: .*no department for broken/,
    )
    const status = await json(await t.admin('GET', `/providers/scim/${pk}/sync/status/`))
    expect(status).toMatchObject({
      users: { failed: 1 },
      last_sync_status: 'warning',
      last_errors: [
        expect.objectContaining({
          model: 'user',
          object_id: broken.id,
          error: expect.stringMatching(/no department for broken/),
        }),
      ],
    })
  })
})
