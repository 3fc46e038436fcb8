import { describe, expect, it } from 'vitest'
import { createTestApp, fixture, fixtureWith, type TestApp } from '../support/app.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>

async function user(t: TestApp, userName: string): Promise<string> {
  const res = await t.scim('POST', '/Users', { schemas: [USER], userName })
  expect(res.status).toBe(201)
  return ((await res.json()) as Json).id
}

async function group(t: TestApp, displayName: string, members: string[] = []): Promise<string> {
  const res = await t.scim('POST', '/Groups', {
    schemas: [GROUP],
    displayName,
    members: members.map((value) => ({ value })),
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as Json).id
}

async function memberIds(t: TestApp, groupId: string): Promise<string[]> {
  const res = await t.scim('GET', `/Groups/${groupId}`)
  expect(res.status).toBe(200)
  return (((await res.json()) as Json).members ?? []).map((m: Json) => m.value).sort()
}

async function patch(t: TestApp, groupId: string, body: unknown): Promise<Response> {
  return t.scim('PATCH', `/Groups/${groupId}`, body)
}

describe('POST /Groups', () => {
  it('accepts Entra’s create body with the extra Microsoft schema URN', async () => {
    const t = await createTestApp()
    const res = await t.scim('POST', '/Groups', fixture('entra/create-group.json'))
    expect(res.status).toBe(201)
    const body = (await res.json()) as Json
    expect(body).toMatchObject({
      schemas: [GROUP],
      displayName: 'displayName',
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      meta: { resourceType: 'Group', version: 'W/"1"' },
    })
    expect(res.headers.get('location')).toBe(body.meta.location)
  })

  it('creates a group with members rendered as value, $ref, display and type', async () => {
    const t = await createTestApp()
    const alice = await user(t, 'alice')
    const res = await t.scim('POST', '/Groups', {
      ...fixture<Json>('okta/create-group.json'),
      members: [{ value: alice }],
    })
    expect(await res.json()).toMatchObject({
      members: [
        {
          value: alice,
          $ref: `http://scimd.test/source/scim/test/v2/Users/${alice}`,
          display: 'alice',
          type: 'User',
        },
      ],
    })
  })

  it('answers a duplicate displayName, in any case, with 409 uniqueness', async () => {
    const t = await createTestApp()
    await group(t, 'Engineering')
    const res = await t.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'ENGINEERING' })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ status: '409', scimType: 'uniqueness' })
  })

  it('names the name in conflict when a rename collides, and keeps the old one', async () => {
    const t = await createTestApp()
    await group(t, 'Engineering')
    const id = await group(t, 'Sales')
    const renames = [
      [
        'PATCH',
        {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: 'displayName', value: 'engineering' }],
        },
      ],
      [
        'PATCH',
        {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', value: { displayName: 'ENGINEERING' } }],
        },
      ],
      ['PUT', { schemas: [GROUP], displayName: 'Engineering' }],
    ] as const
    for (const [method, body] of renames) {
      const res = await t.scim(method, `/Groups/${id}`, body)
      expect(res.status).toBe(409)
      const error = (await res.json()) as Json
      expect(error.scimType).toBe('uniqueness')
      expect(error.detail).toMatch(/'engineering'/i)
      expect(error.detail).not.toMatch(/Sales/)
    }
    const after = (await (await t.scim('GET', `/Groups/${id}`)).json()) as Json
    expect(after).toMatchObject({ displayName: 'Sales', meta: { version: 'W/"1"' } })
  })

  it('refuses a member that is not a resource of this source, and creates nothing', async () => {
    const t = await createTestApp()
    const other = await t.createSource('other')
    const foreign = await t.app.request('http://scimd.test/source/scim/other/v2/Users', {
      method: 'POST',
      headers: { Authorization: `Bearer ${other.key}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'foreign' }),
    })
    const foreignId = ((await foreign.json()) as Json).id
    for (const value of [foreignId, 'no-such-id']) {
      const res = await t.scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'G',
        members: [{ value }],
      })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
    }
    expect(((await (await t.scim('GET', '/Groups')).json()) as Json).totalResults).toBe(0)
  })
})

describe('membership changes of every client', () => {
  it('Entra: Add with $ref null, then Remove by value array (default client)', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g = await group(t, 'G')
    const add = await patch(
      t,
      g,
      fixtureWith('entra/patch-group-add-member.json', { f648f8d5ea4e4cd38e9c: a }),
    )
    expect(add.status).toBe(204)
    await patch(t, g, fixtureWith('entra/patch-group-add-member.json', { f648f8d5ea4e4cd38e9c: b }))
    expect(await memberIds(t, g)).toEqual([a, b].sort())
    const remove = await patch(
      t,
      g,
      fixtureWith('entra/patch-group-remove-member.json', { f648f8d5ea4e4cd38e9c: a }),
    )
    expect(remove.status).toBe(204)
    expect(await memberIds(t, g)).toEqual([b])
  })

  it('Entra with aadOptscim062020 and Okta: remove by members[value eq "…"] (authentik #24173)', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g = await group(t, 'G', [a, b])
    await patch(
      t,
      g,
      fixtureWith('entra/patch-group-remove-member-flagged.json', {
        '7f4bc1a3-285e-48ae-8202-5accb43efb0e': a,
      }),
    )
    expect(await memberIds(t, g)).toEqual([b])
    // Re-adding after a filtered removal works (authentik's add became a no-op there).
    await patch(t, g, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }],
    })
    expect(await memberIds(t, g)).toEqual([a, b].sort())
  })

  it('Okta: remove and add in one request, plus the pathless rename it sends each time', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g = await group(t, 'Test SCIMv2', [b])
    const res = await patch(
      t,
      g,
      fixtureWith('okta/patch-group-members.json', {
        '89bb1940-b905-4575-9e7f-6f887cfb368e': b,
        '23a35c27-23d3-4c03-b4c5-6443c09e7173': a,
      }),
    )
    expect(res.status).toBe(204)
    expect(await memberIds(t, g)).toEqual([a])
    const rename = await patch(
      t,
      g,
      fixtureWith('okta/patch-group-rename.json', { 'abf4dd94-a4c0-4f67-89c9-76b03340cb9b': g }),
    )
    expect(rename.status).toBe(204)
    const got = (await (await t.scim('GET', `/Groups/${g}`)).json()) as Json
    expect(got.displayName).toBe('Test SCIMv2')
    expect(got.members.map((m: Json) => m.value)).toEqual([a])
  })

  it('Okta: replace the full member list, also with an empty one', async () => {
    const t = await createTestApp()
    const [a, b, c] = [await user(t, 'a'), await user(t, 'b'), await user(t, 'c')]
    const g = await group(t, 'G', [c])
    await patch(
      t,
      g,
      fixtureWith('okta/patch-group-replace-members.json', {
        '23a35c27-23d3-4c03-b4c5-6443c09e7173': a,
        '89bb1940-b905-4575-9e7f-6f887cfb368e': b,
      }),
    )
    expect(await memberIds(t, g)).toEqual([a, b].sort())
    await patch(t, g, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'members', value: [] }],
    })
    expect(await memberIds(t, g)).toEqual([])
  })

  it('removes every member with remove on members without a value', async () => {
    const t = await createTestApp()
    const g = await group(t, 'G', [await user(t, 'a'), await user(t, 'b')])
    await patch(t, g, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members' }] })
    expect(await memberIds(t, g)).toEqual([])
  })

  it('keeps one membership when a member is added twice', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const g = await group(t, 'G', [a])
    await patch(t, g, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }, { value: a }] }],
    })
    expect(await memberIds(t, g)).toEqual([a])
  })

  it('PUT replaces the member list', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g = await group(t, 'G', [a])
    const res = await t.scim('PUT', `/Groups/${g}`, {
      schemas: [GROUP],
      displayName: 'G2',
      members: [{ value: b }],
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ displayName: 'G2', members: [{ value: b }] })
  })

  it('applies nothing when one member of the request is unknown', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g = await group(t, 'G', [a])
    const res = await patch(t, g, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'displayName', value: 'Renamed' },
        { op: 'remove', path: `members[value eq "${a}"]` },
        { op: 'add', path: 'members', value: [{ value: b }, { value: 'string id 1' }] },
      ],
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ scimType: 'invalidValue' })
    const got = (await (await t.scim('GET', `/Groups/${g}`)).json()) as Json
    expect(got.displayName).toBe('G')
    expect(got.members.map((m: Json) => m.value)).toEqual([a])
    expect(got.meta.version).toBe('W/"1"')
  })

  it('answers 200 with the resource when the client asks for attributes', async () => {
    const t = await createTestApp()
    const g = await group(t, 'G')
    const res = await t.scim('PATCH', `/Groups/${g}?excludedAttributes=members`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Replace', path: 'displayName', value: 'New' }],
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Json
    expect(body.displayName).toBe('New')
    expect(body).not.toHaveProperty('members')
  })
})

describe('nested groups and users’ groups', () => {
  it('lists direct and indirect groups on the user', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const inner = await group(t, 'Inner', [a])
    const outer = await group(t, 'Outer')
    await patch(t, outer, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: inner, type: 'Group' }] }],
    })
    const got = (await (await t.scim('GET', `/Users/${a}`)).json()) as Json
    expect(got.groups).toEqual([
      {
        value: inner,
        $ref: `http://scimd.test/source/scim/test/v2/Groups/${inner}`,
        display: 'Inner',
        type: 'direct',
      },
      {
        value: outer,
        $ref: `http://scimd.test/source/scim/test/v2/Groups/${outer}`,
        display: 'Outer',
        type: 'indirect',
      },
    ])
    const members = (await (await t.scim('GET', `/Groups/${outer}`)).json()) as Json
    expect(members.members).toEqual([
      {
        value: inner,
        $ref: `http://scimd.test/source/scim/test/v2/Groups/${inner}`,
        display: 'Inner',
        type: 'Group',
      },
    ])
  })

  it('lists each group once, direct where any path is direct, however many paths reach it', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const b = await user(t, 'b')
    // A ladder: each rung holds both users and the two rungs below it, so the top rung is
    // reached by many paths of many lengths (the walk once visited it once per length).
    const rungs: string[] = []
    for (let i = 0; i < 12; i++) {
      const below = rungs.slice(-2).map((value) => ({ value, type: 'Group' }))
      rungs.push(await group(t, `Rung ${i}`, i % 3 === 0 ? [a] : []))
      if (below.length > 0) {
        await patch(t, rungs[i] as string, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'add', path: 'members', value: below }],
        })
      }
    }
    const top = await group(t, 'Top', [b])
    await patch(t, top, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: rungs.at(-1), type: 'Group' }] }],
    })
    const list = (await (await t.scim('GET', '/Users?sortBy=userName')).json()) as Json
    const [ofA, ofB] = list.Resources as Json[]
    const types = (u: Json) =>
      Object.fromEntries((u.groups as Json[]).map((g) => [g.display as string, g.type as string]))
    expect(types(ofA as Json)).toEqual({
      ...Object.fromEntries(
        rungs.map((_, i) => [`Rung ${i}`, i % 3 === 0 ? 'direct' : 'indirect']),
      ),
      Top: 'indirect',
    })
    expect(types(ofB as Json)).toEqual({ Top: 'direct' })
  })

  it('refuses a membership cycle', async () => {
    const t = await createTestApp()
    const inner = await group(t, 'Inner')
    const outer = await group(t, 'Outer', [inner])
    const res = await patch(t, inner, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: outer }] }],
    })
    expect(res.status).toBe(400)
    expect(
      (
        await patch(t, inner, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'add', path: 'members', value: [{ value: inner }] }],
        })
      ).status,
    ).toBe(400)
  })
})

describe('reads that stay cheap', () => {
  it('serves Entra’s reads with excludedAttributes=members and displayName / members.value filters', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const g = await group(t, 'displayName', [a])
    await group(t, 'other')
    const one = (await (
      await t.scim('GET', `/Groups/${g}?excludedAttributes=members`)
    ).json()) as Json
    expect(one).not.toHaveProperty('members')
    expect(one.id).toBe(g)
    const byName = (await (
      await t.scim('GET', '/Groups?excludedAttributes=members&filter=displayName eq "DISPLAYNAME"')
    ).json()) as Json
    expect(byName.totalResults).toBe(1)
    expect(byName.Resources[0]).not.toHaveProperty('members')
    const byMember = (await (
      await t.scim('GET', `/Groups?filter=members.value eq "${a}"`)
    ).json()) as Json
    expect(byMember.Resources.map((r: Json) => r.id)).toEqual([g])
    const byMemberPath = (await (
      await t.scim('GET', `/Groups?filter=members[value eq "${a}"]`)
    ).json()) as Json
    expect(byMemberPath.totalResults).toBe(1)
  })
})

describe('the directory follows', () => {
  it('mirrors memberships into groups / group_members and drops a deleted user from every group', async () => {
    const t = await createTestApp()
    const [a, b] = [await user(t, 'a'), await user(t, 'b')]
    const g1 = await group(t, 'G1', [a, b])
    const g2 = await group(t, 'G2', [a])
    const { db } = t.runtime.deps
    const rows = await db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select(['users.username', 'groups.name', 'groups.is_superuser'])
      .where('groups.id', 'in', [g1, g2])
      .orderBy('groups.name')
      .orderBy('users.username')
      .execute()
    expect(rows).toEqual([
      { username: 'a', name: 'G1', is_superuser: 0 },
      { username: 'b', name: 'G1', is_superuser: 0 },
      { username: 'a', name: 'G2', is_superuser: 0 },
    ])
    expect((await t.scim('DELETE', `/Users/${a}`)).status).toBe(204)
    expect(await memberIds(t, g1)).toEqual([b])
    expect(await memberIds(t, g2)).toEqual([])
  })

  it('never lets a source add anyone to a group it did not create, such as the superuser group', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const admins = await t.runtime.deps.db
      .selectFrom('groups')
      .select('id')
      .where('is_superuser', '=', 1)
      .executeTakeFirstOrThrow()
    const res = await patch(t, admins.id, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: a }] }],
    })
    expect(res.status).toBe(404)
    const byName = await t.scim('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'authentik Admins',
      members: [{ value: a }],
    })
    expect(byName.status).toBe(201)
    const created = (await byName.json()) as Json
    expect(created.id).not.toBe(admins.id)
    const superuserMembers = await t.runtime.deps.db
      .selectFrom('group_members')
      .select('user_id')
      .where('group_id', '=', admins.id)
      .execute()
    expect(superuserMembers).toHaveLength(1) // only the bootstrap admin
  })

  it('deletes a group with its memberships, then answers 404', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const g = await group(t, 'G', [a])
    expect((await t.scim('DELETE', `/Groups/${g}`)).status).toBe(204)
    expect((await t.scim('GET', `/Groups/${g}`)).status).toBe(404)
    const rows = await t.runtime.deps.db
      .selectFrom('group_members')
      .select('user_id')
      .where('group_id', '=', g)
      .execute()
    expect(rows).toEqual([])
    const userNow = (await (await t.scim('GET', `/Users/${a}`)).json()) as Json
    expect(userNow).not.toHaveProperty('groups')
  })
})

describe('what a group write answers', () => {
  it('is the group as a GET right after shows it, for every kind of write', async () => {
    const t = await createTestApp()
    const a = await user(t, 'a')
    const b = await user(t, 'b')
    // PATCH answers 204 unless attributes are asked for: these are every attribute.
    const ALL = '?attributes=displayName,externalId,members,meta'
    const asRead = async (res: Response) => {
      expect([200, 201]).toContain(res.status)
      const written = (await res.json()) as Json
      const read = await t.scim('GET', `/Groups/${written.id}${ALL}`)
      expect(written).toEqual(await read.json())
      expect(res.headers.get('etag')).toBe(read.headers.get('etag'))
      return written
    }
    const patchAll = (groupId: string, ops: unknown) => patch(t, `${groupId}${ALL}`, ops)
    const created = await asRead(
      await t.scim('POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Team',
        externalId: 'ext-1',
        members: [{ value: a }],
      }),
    )
    expect(created.meta.version).toBe('W/"1"')
    const id = created.id as string
    const member = {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: b }] }],
    }
    const touched = await asRead(await patchAll(id, member))
    expect(touched.meta.version).toBe('W/"2"')
    const renamed = await asRead(
      await patchAll(id, {
        schemas: [PATCH_OP],
        Operations: [
          { op: 'replace', path: 'displayName', value: 'Team 2' },
          { op: 'remove', path: `members[value eq "${a}"]` },
        ],
      }),
    )
    expect(renamed).toMatchObject({ displayName: 'Team 2', externalId: 'ext-1' })
    expect(renamed.meta.version).toBe('W/"3"')
    // A PATCH that changes nothing writes nothing: same version.
    const same = await asRead(
      await patchAll(id, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Team 2' }],
      }),
    )
    expect(same.meta.version).toBe('W/"3"')
    // Nor do membership changes that change nothing: b is a member, a no longer is, and
    // `nobody` never was (Entra re-adds and re-removes members on a re-sync).
    for (const ops of [
      [{ op: 'add', path: 'members', value: [{ value: b }] }],
      [{ op: 'remove', path: `members[value eq "${a}"]` }],
      [{ op: 'remove', path: 'members', value: [{ value: a }, { value: 'nobody' }] }],
      [{ op: 'add', value: { members: [{ value: b }] } }],
    ]) {
      const unchanged = await asRead(await patchAll(id, { schemas: [PATCH_OP], Operations: ops }))
      expect(unchanged.meta.version).toBe('W/"3"')
      expect(unchanged.members).toEqual([expect.objectContaining({ value: b })])
    }
    const replaced = await asRead(
      await t.scim('PUT', `/Groups/${id}${ALL}`, {
        schemas: [GROUP],
        displayName: 'Team 3',
        members: [{ value: a }],
      }),
    )
    expect(replaced.meta.version).toBe('W/"4"')
    expect(replaced.externalId).toBeUndefined()
  })
})

describe('the version of a group whose members are deleted or renamed', () => {
  /** The group's ETag, and whether a GET with If-None-Match on `tag` still answers 304. */
  async function read(t: TestApp, id: string, tag?: string) {
    const res = await t.scim('GET', `/Groups/${id}`, undefined, {
      ...(tag ? { 'If-None-Match': tag } : {}),
    })
    return { status: res.status, etag: res.headers.get('etag') as string }
  }

  it('moves when a member user or group is deleted or renamed, and only then', async () => {
    const t = await createTestApp()
    const [alice, bob, carol] = [
      await user(t, 'alice'),
      await user(t, 'bob'),
      await user(t, 'carol'),
    ]
    const child = await group(t, 'child')
    const parent = await group(t, 'parent', [alice, bob, carol, child])
    const steps: [string, () => Promise<Response>, boolean][] = [
      [
        'a member’s title',
        () => t.scim('PATCH', `/Users/${alice}`, replace('title', 'CTO')),
        false,
      ],
      [
        'a member’s displayName',
        () => t.scim('PATCH', `/Users/${alice}`, replace('displayName', 'Alice A.')),
        true,
      ],
      [
        'a member’s userName',
        () => t.scim('PATCH', `/Users/${bob}`, replace('userName', 'bobby')),
        true,
      ],
      ['a child group’s externalId', () => patch(t, child, replace('externalId', 'c-1')), false],
      ['a child group’s name', () => patch(t, child, replace('displayName', 'kid')), true],
      ['a member user deleted', () => t.scim('DELETE', `/Users/${alice}`), true],
      [
        'a member user unlinked by an admin',
        () => t.admin('DELETE', `/sources/scim_users/${bob}/`),
        true,
      ],
      ['a child group deleted', () => t.scim('DELETE', `/Groups/${child}`), true],
    ]
    let { etag } = await read(t, parent)
    for (const [what, write, moves] of steps) {
      expect((await write()).status, what).toBeLessThan(300)
      const after = await read(t, parent, etag)
      expect(after.status, what).toBe(moves ? 200 : 304)
      if (moves) expect(after.etag, what).not.toBe(etag)
      etag = after.etag
    }
    expect(await memberIds(t, parent)).toEqual([carol])
  })
})

function replace(path: string, value: unknown) {
  return { schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] }
}
