/**
 * The provider workload (`npm run bench -- --only provider`): scimd A pushes its directory
 * into a second scimd B. Reports the full sync in users/s against B's own seeding rate
 * (POST /Users, 32 in flight) measured in the same run, the delay from a write on A to the
 * write on B under a steady stream, and A's memory while it syncs.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { HttpClient, runConcurrently } from './http-client.js'
import {
  type ScimdOptions,
  type ServerProcess,
  sampleAnonymousPeak,
  startScimd,
  stopProcess,
} from './processes.js'
import { createGroup, memberPatch, seedUsers, userBody } from './seed.js'

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
/** The issue's shape at 100,000 users: 1,000 groups of 10 to 10,000 members. */
const FULL_USERS = 100_000
const FULL_GROUPS = 1000
const MIN_MEMBERS = 10
const MAX_MEMBERS = 10_000
/** B's seeding rate is measured with this many POSTs in flight. */
const TARGET_CONCURRENCY = 32
/** Users B seeds to measure its rate (into a source of its own, apart from A's pushes). */
const CALIBRATION_USERS = 10_000
/** The full sync must reach B within this long, or the workload fails. */
const SYNC_LIMIT_MS = 2 * 60 * 60 * 1000

export interface ProviderBenchOptions {
  users: number
  streamRate: number
  streamSeconds: number
  /** Where each scimd keeps its data (a database URL per process). */
  databaseA: string
  databaseB: string
  /**
   * Restart A and B under --cpu-prof before the sync, writing into `a/` and `b/` here: the
   * profiles cover the sync, the check of what B holds and the stream, not the seeding.
   */
  cpuProfDir?: string
  log: (message: string) => void
}

export interface ProviderReport {
  users: number
  groups: number
  memberships: number
  /** B's own POST /Users rate, 32 in flight, into a separate source. */
  targetSeeding: { users: number; seconds: number; usersPerSecond: number }
  fullSync: {
    seconds: number
    /** When B first held every user (polled each second), before the groups' members. */
    allUsersSeconds?: number
    usersPerSecond: number
    /** usersPerSecond ÷ targetSeeding.usersPerSecond; the target is at least 0.7. */
    ratio: number
    /** What B holds when A's status says the full sync finished. */
    remoteUsers: number
    remoteGroups: number
    /** Groups whose member count on B differs from A's. */
    wrongMemberCounts: number
    status: string | null
  }
  stream: {
    writes: number
    perSecond: number
    /** ms from A's answer to the first poll of B (every 100 ms) that shows the write. */
    p50Ms: number
    p99Ms: number
    maxMs: number
    missing: number
  }
  /** A's highest RssAnon while it synced the first half of the users, and over the whole sync. */
  memory: { afterStartBytes?: number; firstHalfPeakBytes?: number; syncPeakBytes?: number }
  ok: boolean
}

/** Group sizes from MIN_MEMBERS to the largest, evenly on a log scale (scaled to the size). */
export function groupSizes(users: number): number[] {
  const count = Math.max(2, Math.round((FULL_GROUPS * users) / FULL_USERS))
  const largest = Math.max(
    MIN_MEMBERS,
    Math.min(users, Math.round((MAX_MEMBERS * users) / FULL_USERS)),
  )
  const ratio = largest / MIN_MEMBERS
  return Array.from({ length: count }, (_, i) =>
    Math.round(MIN_MEMBERS * ratio ** (i / (count - 1))),
  )
}

async function createSource(
  server: ServerProcess,
  adminToken: string,
  slug: string,
): Promise<string> {
  const admin = new HttpClient(server.origin, adminToken, 1)
  try {
    const created = (await admin.expect(201, 'POST', '/api/v3/sources/scim/', {
      name: slug,
      slug,
    })) as { token_obj: { identifier: string } }
    const { key } = (await admin.expect(
      200,
      'GET',
      `/api/v3/core/tokens/${encodeURIComponent(created.token_obj.identifier)}/view_key/`,
    )) as { key: string }
    return key
  } finally {
    admin.close()
  }
}

async function total(client: HttpClient, path: string): Promise<number> {
  const body = (await client.expect(200, 'GET', path)) as { totalResults: number }
  return body.totalResults
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runProviderBench(o: ProviderBenchOptions): Promise<ProviderReport> {
  const { log } = o
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`
  const secretKey = randomBytes(32).toString('hex')
  const optionsA: ScimdOptions = { databaseUrl: o.databaseA, bootstrapToken: adminToken, secretKey }
  const optionsB: ScimdOptions = { databaseUrl: o.databaseB, bootstrapToken: adminToken, secretKey }
  let a = await startScimd(optionsA)
  let b = await startScimd(optionsB)
  const keyA = await createSource(a, adminToken, 'idp')
  const keyB = await createSource(b, adminToken, 'from-a')
  const keyCalibration = await createSource(b, adminToken, 'calibration')
  const baseA = '/source/scim/idp/v2'
  const baseB = '/source/scim/from-a/v2'

  // 1. A's directory, seeded through SCIM as an identity provider would.
  let clientA = new HttpClient(a.origin, keyA)
  log(`seeding A: ${o.users} users`)
  const ids = await seedUsers(
    clientA,
    baseA,
    o.users,
    (i) => `user${i}@bench.example`,
    (n) => log(`  ${n} users`),
  )
  const sizes = groupSizes(o.users)
  log(`seeding A: ${sizes.length} groups of ${sizes[0]} to ${sizes[sizes.length - 1]} members`)
  let memberships = 0
  await runConcurrently(sizes.length, 4, async (g) => {
    const size = sizes[g] as number
    const start = (g * 7919) % o.users
    const members = Array.from({ length: size }, (_, k) => ids[(start + k) % o.users] as string)
    const id = await createGroup(clientA, baseA, `group-${g}`, members.slice(0, 1000))
    for (let from = 1000; from < members.length; from += 1000) {
      await clientA.expect(
        204,
        'PATCH',
        `${baseA}/Groups/${id}`,
        memberPatch('add', members.slice(from, from + 1000)),
      )
    }
    memberships += size
  })

  // 2. B's own seeding rate, 32 in flight, into a source apart from A's pushes.
  const calibrationUsers = Math.min(CALIBRATION_USERS, o.users)
  log(
    `measuring B's seeding rate: ${calibrationUsers} POST /Users, ${TARGET_CONCURRENCY} in flight`,
  )
  const calibration = new HttpClient(b.origin, keyCalibration, TARGET_CONCURRENCY)
  const calibrationStart = performance.now()
  await runConcurrently(calibrationUsers, TARGET_CONCURRENCY, async (i) => {
    const userName = `calibration${i}@bench.example`
    await calibration.expect(
      201,
      'POST',
      '/source/scim/calibration/v2/Users',
      userBody(userName, i),
    )
  })
  const calibrationSeconds = (performance.now() - calibrationStart) / 1000
  calibration.close()

  // 3. A restarted (its memory from seeding gone; under --cpu-prof if asked), then the provider.
  // Under --cpu-prof B is restarted too, so its profile is the sync's work, not its seeding.
  clientA.close()
  await stopProcess(a.child)
  a = await startScimd({
    ...optionsA,
    ...(o.cpuProfDir ? { cpuProfDir: join(o.cpuProfDir, 'a') } : {}),
  })
  if (o.cpuProfDir) {
    await stopProcess(b.child)
    b = await startScimd({ ...optionsB, cpuProfDir: join(o.cpuProfDir, 'b') })
  }
  clientA = new HttpClient(a.origin, keyA)
  const adminA = new HttpClient(a.origin, adminToken, 1)
  const clientB = new HttpClient(b.origin, keyB, 4)
  const stopStartSample = sampleAnonymousPeak(() => a.pid, 200)
  const afterStartBytes = stopStartSample()
  const sampleHalf = sampleAnonymousPeak(() => a.pid, 200)
  const sampleSync = sampleAnonymousPeak(() => a.pid, 200)
  log('full sync: creating the provider on A, pointing at B')
  const syncStart = performance.now()
  const provider = (await adminA.expect(201, 'POST', '/api/v3/providers/scim/', {
    name: 'bench B',
    url: `${b.origin}${baseB}`,
    token: keyB,
    exclude_users_service_account: true,
  })) as { pk: number }
  let firstHalfPeakBytes: number | undefined
  let allUsersSeconds: number | undefined
  let status: {
    last_sync_status: string | null
    last_full_sync_finished: string | null
    full_sync_pending: boolean
  }
  for (;;) {
    await sleep(1000)
    status = (await adminA.expect(
      200,
      'GET',
      `/api/v3/providers/scim/${provider.pk}/sync/status/`,
    )) as typeof status
    if (allUsersSeconds === undefined) {
      const remote = await total(clientB, `${baseB}/Users?count=0`)
      if (firstHalfPeakBytes === undefined && remote >= o.users / 2) {
        firstHalfPeakBytes = sampleHalf()
        log(`  half the users on B after ${((performance.now() - syncStart) / 1000).toFixed(0)} s`)
      }
      // The users' phase apart from the groups' (a poll a second: ±1 s).
      if (remote >= o.users) {
        allUsersSeconds = (performance.now() - syncStart) / 1000
        log(`  every user on B after ${allUsersSeconds.toFixed(0)} s`)
      }
    }
    if (
      status.last_full_sync_finished &&
      !status.full_sync_pending &&
      status.last_sync_status !== 'running'
    ) {
      break
    }
    if (performance.now() - syncStart > SYNC_LIMIT_MS)
      throw new Error('the full sync took too long')
  }
  const syncSeconds = (performance.now() - syncStart) / 1000
  const syncPeakBytes = sampleSync()
  firstHalfPeakBytes ??= syncPeakBytes
  log(`full sync finished in ${syncSeconds.toFixed(1)} s (${status.last_sync_status})`)

  // 4. What B holds: every user, every group, each with A's member count.
  const remoteUsers = await total(clientB, `${baseB}/Users?count=0`)
  const remoteGroups = await total(clientB, `${baseB}/Groups?count=0`)
  const expected = new Map(sizes.map((size, g) => [`group-${g}`, size]))
  let wrongMemberCounts = 0
  for (let start = 1; start <= remoteGroups; start += 100) {
    const page = (await clientB.expect(
      200,
      'GET',
      `${baseB}/Groups?startIndex=${start}&count=100&attributes=displayName`,
    )) as { Resources: Array<{ id: string; displayName: string }> }
    await runConcurrently(page.Resources.length, 4, async (i) => {
      const g = page.Resources[i] as { id: string; displayName: string }
      const want = expected.get(g.displayName)
      if (want === undefined) return
      const got = (await clientB.expect(
        200,
        'GET',
        `${baseB}/Groups/${g.id}?attributes=members`,
      )) as { members?: unknown[] }
      if ((got.members?.length ?? 0) !== want) wrongMemberCounts++
    })
  }

  // 5. A steady stream of writes on A; each is seen on B by polling (every 100 ms).
  const writes = o.streamRate * o.streamSeconds
  log(`stream: ${writes} writes on A at ${o.streamRate}/s`)
  const writtenAt = new Map<number, number>()
  const seenAt = new Map<number, number>()
  let polling = true
  const poller = (async () => {
    while (polling) {
      // Only what changed lately (2 s of overlap; seen ones are skipped): a poll that
      // returned every streamed user each time cost B more than the stream itself.
      const since = new Date(Date.now() - 2000).toISOString()
      const filter = encodeURIComponent(
        `displayName sw "stream-" and meta.lastModified gt "${since}"`,
      )
      const res = (await clientB
        .expect(
          200,
          'GET',
          `${baseB}/Users?filter=${filter}&attributes=displayName&count=${writes}`,
        )
        // A reset keep-alive socket loses one poll, not the run: the next one asks again.
        .catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ECONNRESET') throw err
          return {}
        })) as { Resources?: Array<{ displayName?: string }> }
      const now = performance.now()
      for (const u of res.Resources ?? []) {
        const i = Number(u.displayName?.slice('stream-'.length))
        if (!seenAt.has(i)) seenAt.set(i, now)
      }
      await sleep(100)
    }
  })()
  // Handled now (it runs beside the stream), rethrown where it is awaited.
  poller.catch(() => undefined)
  const streamStart = performance.now()
  const inFlight: Promise<void>[] = []
  for (let i = 0; i < writes; i++) {
    const due = streamStart + (i * 1000) / o.streamRate
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const id = ids[(i * 37) % o.users] as string
    const write = () =>
      clientA.expect(200, 'PATCH', `${baseA}/Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: `stream-${i}` }],
      })
    const settled = write()
      // A keep-alive socket the server closed as it was reused (the race of idle sockets):
      // the PATCH is idempotent, so it is sent once more rather than failing the run.
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ECONNRESET') throw err
        return write()
      })
      .then(() => {
        writtenAt.set(i, performance.now())
      })
    // Handled now (the loop sleeps before Promise.all sees it), rethrown below.
    settled.catch(() => undefined)
    inFlight.push(settled)
  }
  await Promise.all(inFlight)
  const streamSeconds = (performance.now() - streamStart) / 1000
  const waitUntil = performance.now() + 60_000
  while (seenAt.size < writes && performance.now() < waitUntil) await sleep(200)
  polling = false
  await poller
  const delays = [...writtenAt]
    .filter(([i]) => seenAt.has(i))
    .map(([i, at]) => Math.max(0, (seenAt.get(i) as number) - at))
    .sort((x, y) => x - y)

  adminA.close()
  clientA.close()
  clientB.close()
  const usersPerSecond = o.users / syncSeconds
  const targetRate = calibrationUsers / calibrationSeconds
  const report: ProviderReport = {
    users: o.users,
    groups: sizes.length,
    memberships,
    targetSeeding: {
      users: calibrationUsers,
      seconds: calibrationSeconds,
      usersPerSecond: targetRate,
    },
    fullSync: {
      seconds: syncSeconds,
      ...(allUsersSeconds !== undefined ? { allUsersSeconds } : {}),
      usersPerSecond,
      ratio: usersPerSecond / targetRate,
      remoteUsers,
      remoteGroups,
      wrongMemberCounts,
      status: status.last_sync_status,
    },
    stream: {
      writes,
      perSecond: writes / streamSeconds,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      maxMs: delays[delays.length - 1] ?? Number.NaN,
      missing: writes - delays.length,
    },
    memory: {
      ...(afterStartBytes !== undefined ? { afterStartBytes } : {}),
      ...(firstHalfPeakBytes !== undefined ? { firstHalfPeakBytes } : {}),
      ...(syncPeakBytes !== undefined ? { syncPeakBytes } : {}),
    },
    ok: false,
  }
  // B also holds A's bootstrap admin and its admin group (only service accounts are excluded).
  report.ok =
    remoteUsers === o.users + 1 &&
    remoteGroups === sizes.length + 1 &&
    wrongMemberCounts === 0 &&
    report.stream.missing === 0 &&
    status.last_sync_status === 'success'
  return report
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`

export function formatProviderReport(r: ProviderReport): string {
  const f = r.fullSync
  const s = r.stream
  return [
    `provider: ${r.users} users, ${r.groups} groups, ${r.memberships} memberships (A → B, SQLite)`,
    `  B's seeding rate      ${r.targetSeeding.usersPerSecond.toFixed(0)} users/s (${r.targetSeeding.users} POST /Users, ${TARGET_CONCURRENCY} in flight)`,
    `  full sync             ${f.seconds.toFixed(1)} s, ${f.usersPerSecond.toFixed(0)} users/s, ratio ${f.ratio.toFixed(2)} (target ≥ 0.70${f.ratio >= 0.7 ? ', met' : ', MISSED'})`,
    `  every user on B after ${f.allUsersSeconds === undefined ? 'n/a' : `${f.allUsersSeconds.toFixed(0)} s`} (then the groups' members)`,
    `  on B after the sync   ${f.remoteUsers} users, ${f.remoteGroups} groups, ${f.wrongMemberCounts} with a wrong member count; status ${f.status}`,
    `  stream                ${s.writes} writes at ${s.perSecond.toFixed(1)}/s: delay to B p50 ${s.p50Ms.toFixed(0)} ms, p99 ${s.p99Ms.toFixed(0)} ms, max ${s.maxMs.toFixed(0)} ms, ${s.missing} missing`,
    `  A's RssAnon           after start ${mb(r.memory.afterStartBytes)}, peak over the first half of the users ${mb(r.memory.firstHalfPeakBytes)}, over the whole sync ${mb(r.memory.syncPeakBytes)}`,
    `  ${r.ok ? 'ok' : 'FAILED: B does not hold what A holds, or writes went missing'}`,
  ].join('\n')
}
