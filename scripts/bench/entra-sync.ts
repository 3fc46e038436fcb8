/**
 * Entra ID's initial sync, as its provisioning service does it: for each user an existence
 * check (`GET /Users?filter=userName eq "…"`, expecting no match), a create with the
 * enterprise extension and, every 50 users, a member PATCH adding the new user to a group;
 * 8 users in flight (the bench also runs it at 1 and 32).
 */
import { randomUUID } from 'node:crypto'
import { type HttpClient, runConcurrently } from './http-client.js'
import { memberPatch } from './seed.js'

export const SYNC_CONCURRENCY = 8
/** The in-flight counts the bench runs the sync at (issue 26 item 3). */
export const SYNC_CONCURRENCIES = [1, 8, 32] as const
/** Every this many users the sync adds the new user to a group. */
export const MEMBER_PATCH_EVERY = 50
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

export interface SyncResult {
  users: number
  /** Users in flight. */
  concurrency: number
  seconds: number
  usersPerSecond: number
  requests: number
  /** Requests answered with anything else than what the flow expects (200 empty, 201). */
  failures: number
  failure?: { request: string; status: number; body: string }
  /** Latency of each request (GET, POST and PATCH alike) as the client saw it, in ms. */
  p50Ms: number
  p99Ms: number
  /** p50 of each kind of request, in ms (PATCH only when the run made one). */
  p50ByMethodMs: Partial<Record<SyncMethod, number>>
}

export type SyncMethod = 'GET' | 'POST' | 'PATCH'

export interface SyncRun {
  client: HttpClient
  base: string
  users: number
  tag: string
  concurrency: number
  /** The group the member PATCH adds every MEMBER_PATCH_EVERY-th user to. */
  groupId: string
}

/**
 * The `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values by the nearest-rank
 * method: the smallest value with at least p% of the values at or below it.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

/** The create body Entra sends (fixtures/entra/create-user.json) plus enterprise attributes. */
function entraUser(tag: string, i: number): Record<string, unknown> {
  const userName = `entra-${tag}-${i}@bench.example`
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId: randomUUID(),
    userName,
    active: true,
    displayName: `Entra User ${i}`,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: `Entra User ${i}`, familyName: `User ${i}`, givenName: 'Entra' },
    title: 'Engineer',
    preferredLanguage: 'en-US',
    addresses: [{ type: 'work', formatted: '1 Main St', locality: 'Redmond', country: 'US' }],
    phoneNumbers: [{ type: 'work', value: `+1 425 555 ${String(i % 10_000).padStart(4, '0')}` }],
    [ENTERPRISE]: {
      employeeNumber: String(100_000 + i),
      department: `Department ${i % 50}`,
      costCenter: `CC-${i % 20}`,
      organization: 'Contoso',
      division: `Division ${i % 5}`,
    },
  }
}

export async function runEntraSync(run: SyncRun): Promise<SyncResult> {
  const { client, base, users, tag, concurrency, groupId } = run
  let failures = 0
  let failure: SyncResult['failure']
  const latencies: Record<SyncMethod, number[]> = { GET: [], POST: [], PATCH: [] }
  const fail = (request: string, status: number, body: string) => {
    failures++
    failure ??= { request, status, body: body.slice(0, 400) }
  }
  const timed = async (method: SyncMethod, path: string, body?: unknown) => {
    const sent = performance.now()
    const res = await client.request(method, path, body)
    latencies[method].push(performance.now() - sent)
    return res
  }
  const started = performance.now()
  // Failures are counted, not thrown: the run goes on, as a real sync would, and reports them.
  await runConcurrently(users, concurrency, async (i) => {
    const body = entraUser(tag, i)
    const filter = encodeURIComponent(`userName eq "${body.userName as string}"`)
    const lookupPath = `${base}/Users?filter=${filter}`
    try {
      const found = await timed('GET', lookupPath)
      const total =
        found.status === 200 ? (JSON.parse(found.text) as { totalResults: number }) : undefined
      if (total?.totalResults !== 0) {
        fail(`GET ${lookupPath}`, found.status, found.text)
        return
      }
      const created = await timed('POST', `${base}/Users`, body)
      if (created.status !== 201) {
        fail(`POST ${base}/Users`, created.status, created.text)
        return
      }
      if ((i + 1) % MEMBER_PATCH_EVERY !== 0) return
      const { id } = JSON.parse(created.text) as { id: string }
      const groupPath = `${base}/Groups/${groupId}`
      const patched = await timed('PATCH', groupPath, memberPatch('add', [id]))
      if (patched.status !== 204) fail(`PATCH ${groupPath}`, patched.status, patched.text)
    } catch (err) {
      fail(`user ${i}`, 0, err instanceof Error ? err.message : String(err))
    }
  })
  const seconds = (performance.now() - started) / 1000
  const ascending = (values: number[]) => values.sort((a, b) => a - b)
  const all = ascending([...latencies.GET, ...latencies.POST, ...latencies.PATCH])
  const p50ByMethodMs: SyncResult['p50ByMethodMs'] = {}
  for (const method of ['GET', 'POST', 'PATCH'] as const) {
    if (latencies[method].length > 0) {
      p50ByMethodMs[method] = percentile(ascending(latencies[method]), 50)
    }
  }
  return {
    users,
    concurrency,
    seconds,
    usersPerSecond: users / seconds,
    requests: all.length,
    failures,
    ...(failure ? { failure } : {}),
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    p50ByMethodMs,
  }
}
