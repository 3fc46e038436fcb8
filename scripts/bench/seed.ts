/** Seeds the benchmark's data through the SCIM API only: users, a pool of spare users, groups. */
import { type HttpClient, runConcurrently } from './http-client.js'

/** How many POSTs the seeding keeps in flight. */
const SEED_CONCURRENCY = 16
/** Member ids per seeding PATCH of the big group. */
const MEMBER_BATCH = 1000
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'

/** The userName of seeded user `i`; the existence workload asks for these (and missing ones). */
export function seededUserName(i: number): string {
  return `user${i}@bench.example`
}

/** A user body as an identity provider sends it (core attributes, one work email). */
export function userBody(userName: string, n: number): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    userName,
    externalId: `ext-${userName}`,
    name: { givenName: 'Bench', familyName: `User ${n}` },
    displayName: `Bench User ${n}`,
    emails: [{ primary: true, type: 'work', value: userName }],
    active: true,
  }
}

/** Creates `count` users named by `nameOf(i)`; returns their SCIM ids in order. */
export async function seedUsers(
  client: HttpClient,
  base: string,
  count: number,
  nameOf: (i: number) => string,
  onProgress?: (done: number) => void,
): Promise<string[]> {
  const ids = new Array<string>(count)
  let done = 0
  await runConcurrently(count, SEED_CONCURRENCY, async (i) => {
    const created = (await client.expect(201, 'POST', `${base}/Users`, userBody(nameOf(i), i))) as {
      id: string
    }
    ids[i] = created.id
    done++
    if (onProgress && done % 10_000 === 0) onProgress(done)
  })
  return ids
}

/** Creates a group with the given members in its create body; returns its id. */
export async function createGroup(
  client: HttpClient,
  base: string,
  displayName: string,
  memberIds: string[],
): Promise<string> {
  const created = (await client.expect(201, 'POST', `${base}/Groups`, {
    schemas: [GROUP_SCHEMA],
    displayName,
    members: memberIds.map((value) => ({ value })),
  })) as { id: string }
  return created.id
}

/** PATCH body adding (or removing) these members (Entra's shape: path `members`, value array). */
export function memberPatch(op: 'add' | 'remove', ids: string[]): Record<string, unknown> {
  return {
    schemas: [PATCH_OP],
    Operations: [{ op, path: 'members', value: ids.map((value) => ({ value })) }],
  }
}

/** Adds members to a group in PATCH batches of MEMBER_BATCH ids, one batch at a time. */
export async function addMembersInBatches(
  client: HttpClient,
  base: string,
  groupId: string,
  memberIds: string[],
  onProgress?: (done: number) => void,
): Promise<void> {
  for (let from = 0; from < memberIds.length; from += MEMBER_BATCH) {
    const batch = memberIds.slice(from, from + MEMBER_BATCH)
    await client.expect(204, 'PATCH', `${base}/Groups/${groupId}`, memberPatch('add', batch))
    const done = from + batch.length
    if (onProgress && done % 20_000 === 0) onProgress(done)
  }
}

/** The group's member count, read through SCIM (the members attribute only). */
export async function memberCount(
  client: HttpClient,
  base: string,
  groupId: string,
): Promise<number> {
  const group = (await client.expect(
    200,
    'GET',
    `${base}/Groups/${groupId}?attributes=members`,
  )) as { members?: unknown[] }
  return group.members?.length ?? 0
}
