/**
 * Entra ID's initial sync, as its provisioning service does it: for each user an existence
 * check (`GET /Users?filter=userName eq "…"`, expecting no match) and then a create with the
 * enterprise extension, 8 users in flight.
 */
import { randomUUID } from 'node:crypto'
import { type HttpClient, runConcurrently } from './http-client.js'

export const SYNC_CONCURRENCY = 8
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

export interface SyncResult {
  users: number
  seconds: number
  usersPerSecond: number
  requests: number
  /** Requests answered with anything else than what the flow expects (200 empty, 201). */
  failures: number
  failure?: { request: string; status: number; body: string }
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

export async function runEntraSync(
  client: HttpClient,
  base: string,
  users: number,
  tag: string,
): Promise<SyncResult> {
  let failures = 0
  let requests = 0
  let failure: SyncResult['failure']
  const fail = (request: string, status: number, body: string) => {
    failures++
    failure ??= { request, status, body: body.slice(0, 400) }
  }
  const started = performance.now()
  // Failures are counted, not thrown: the run goes on, as a real sync would, and reports them.
  await runConcurrently(users, SYNC_CONCURRENCY, async (i) => {
    const body = entraUser(tag, i)
    const filter = encodeURIComponent(`userName eq "${body.userName as string}"`)
    const lookupPath = `${base}/Users?filter=${filter}`
    try {
      const found = await client.request('GET', lookupPath)
      requests++
      const total =
        found.status === 200 ? (JSON.parse(found.text) as { totalResults: number }) : undefined
      if (total?.totalResults !== 0) {
        fail(`GET ${lookupPath}`, found.status, found.text)
        return
      }
      const created = await client.request('POST', `${base}/Users`, body)
      requests++
      if (created.status !== 201) fail(`POST ${base}/Users`, created.status, created.text)
    } catch (err) {
      fail(`user ${i}`, 0, err instanceof Error ? err.message : String(err))
    }
  })
  const seconds = (performance.now() - started) / 1000
  return {
    users,
    seconds,
    usersPerSecond: users / seconds,
    requests,
    failures,
    ...(failure ? { failure } : {}),
  }
}
