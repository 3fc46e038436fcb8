/**
 * Bulk against single requests: the same number of users created by single `POST /Users`
 * with 32 in flight, and by one `POST /Bulk`, in the same run (issue 25's speed target:
 * Bulk at least as fast). Each way runs twice, alternating, and its faster run counts.
 */
import { type HttpClient, runConcurrently } from './http-client.js'

export const SINGLE_CONCURRENCY = 32
const ROUNDS = 2

export interface BulkComparison {
  users: number
  /** Seconds of the faster run of single POSTs with 32 in flight. */
  singleSeconds: number
  /** Seconds of the faster run of one Bulk request with every create. */
  bulkSeconds: number
  /** singleSeconds / bulkSeconds: above 1, Bulk is faster. */
  speedup: number
  failures: number
  failure?: { request: string; status: number; body: string }
}

function user(tag: string, i: number): Record<string, unknown> {
  const userName = `bulk-${tag}-${i}@bench.example`
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    active: true,
    displayName: `Bulk User ${i}`,
    name: { givenName: 'Bulk', familyName: `User ${i}` },
    emails: [{ primary: true, type: 'work', value: userName }],
  }
}

export async function runBulkComparison(
  client: HttpClient,
  base: string,
  users: number,
  tag: string,
): Promise<BulkComparison> {
  let failures = 0
  let failure: BulkComparison['failure']
  const fail = (request: string, status: number, body: string) => {
    failures++
    failure ??= { request, status, body: body.slice(0, 400) }
  }
  const singles = async (round: number): Promise<number> => {
    const started = performance.now()
    await runConcurrently(users, SINGLE_CONCURRENCY, async (i) => {
      const res = await client.request('POST', `${base}/Users`, user(`${tag}-s${round}`, i))
      if (res.status !== 201) fail(`POST ${base}/Users`, res.status, res.text)
    })
    return (performance.now() - started) / 1000
  }
  const bulk = async (round: number): Promise<number> => {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: Array.from({ length: users }, (_, i) => ({
        method: 'POST',
        path: '/Users',
        bulkId: `u${i}`,
        data: user(`${tag}-b${round}`, i),
      })),
    }
    const started = performance.now()
    const res = await client.request('POST', `${base}/Bulk`, body)
    const seconds = (performance.now() - started) / 1000
    if (res.status !== 200) {
      fail(`POST ${base}/Bulk`, res.status, res.text)
      return seconds
    }
    const ops = (JSON.parse(res.text) as { Operations: Array<{ status: string }> }).Operations
    const bad = ops.filter((o) => o.status !== '201')
    if (ops.length !== users || bad.length > 0) {
      fail(`POST ${base}/Bulk`, 200, JSON.stringify(bad[0] ?? { operations: ops.length }))
    }
    return seconds
  }
  const singleRuns: number[] = []
  const bulkRuns: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    singleRuns.push(await singles(round))
    bulkRuns.push(await bulk(round))
  }
  const singleSeconds = Math.min(...singleRuns)
  const bulkSeconds = Math.min(...bulkRuns)
  return {
    users,
    singleSeconds,
    bulkSeconds,
    speedup: singleSeconds / bulkSeconds,
    failures,
    ...(failure ? { failure } : {}),
  }
}
