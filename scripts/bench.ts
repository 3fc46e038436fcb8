/**
 * `npm run bench`: drives scimd, a bare Hono app and a hand-rolled reference side by side and
 * reports requests/s, latency and errors per workload, as ratios to the bare app or the reference.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { runBulkComparison } from './bench/bulk.js'
import { runEntraSync, SYNC_CONCURRENCIES } from './bench/entra-sync.js'
import { FEATURE_VARIANTS, formatCosts, runCostBench } from './bench/feature-cost.js'
import { HttpClient } from './bench/http-client.js'
import {
  cpuMillis,
  killAllNow,
  peakRss,
  REPO_ROOT,
  type ServerProcess,
  sampleAnonymousPeak,
  startBare,
  startReference,
  startScimd,
  stopAll,
  stopProcess,
} from './bench/processes.js'
import { formatProfile, summariseProfile } from './bench/profile.js'
import { formatProviderReport, runProviderBench } from './bench/provider.js'
import {
  type EntraSyncRun,
  formatTable,
  type Phase,
  REFERENCE_TARGET,
  REPORT_FORMAT,
  type Report,
  type Target,
  type WorkloadName,
  type WorkloadReport,
} from './bench/report.js'
import {
  addMembersInBatches,
  createGroup,
  memberCount,
  memberPatch,
  seededUserName,
  seedUsers,
} from './bench/seed.js'
import { checkWrk, luaScript, runWrk, WRK_CONNECTIONS, WRK_THREADS } from './bench/wrk.js'

const USAGE = `Usage: npm run bench -- [options]      (or: npx tsx scripts/bench.ts [options])

Starts the built scimd (npm run build; node dist/src/cli.js serve) and a bare Hono app on
127.0.0.1, seeds data through the SCIM API and drives each workload with wrk (2 threads,
32 connections). SQLite in a temporary directory by default; PostgreSQL in a throwaway
schema when DATABASE_URL=postgres://… is set. list-page and entra-sync also start issue 26's
hand-rolled reference (scripts/bench/reference-server.ts, always on its own SQLite file).

Needs wrk (Debian/Ubuntu package "wrk"): sudo apt-get install -y wrk

Options:
  --users N            users seeded before the workloads (default 100000)
  --scale              1,000,000 users and a 100,000-member group (long; not for CI)
  --sync-users N       users created by each Entra-style sync run (default 20000; 6 runs)
  --only LIST          comma-separated workloads: existence, get, deep-page, list-page, patch
                       (both groups; or patch-100k, patch-10), post, entra-sync, bulk (the bare
                       app's ceiling always runs, before and after them; deep-page brings its
                       OFFSET baseline; list-page, GET /Users?startIndex=<random in 1..N-99>
                       &count=100, and entra-sync, at 1, 8 and 32 users in flight, run against
                       the reference too); provider (alone, not in the default set: it
                       starts a second scimd and takes minutes)
                       costs (alone: scimd with metrics off, with provisioning events off
                       and with one source mapping beside the default one, alternated, to
                       show what each costs on POST /Users and a one-member PATCH;
                       --baseline DIR adds an older build)
  --baseline DIR       with costs: also run the build in DIR (a checkout with dist/ built)
  --cost-rounds N      with costs: alternated rounds (default 8)
  --cost-chunk N       with costs: requests per workload, scimd and round (default 2000)
  --provider-users N   users scimd A pushes to scimd B in the provider workload (default
                       100000; groups 1,000 of 10 to 10,000 members, scaled down with N)
  --stream-rate N      writes/s on A in the provider's steady stream (default 50)
  --stream-seconds S   how long the stream runs (default 20)
  --duration S         seconds per measured wrk run (default 10)
  --warmup S           seconds of unmeasured wrk load before each run (default 2; 0: none)
  --json               print one JSON document (${REPORT_FORMAT}) instead of the table
  --cpu-prof           restart scimd under node --cpu-prof after seeding and print the
                       top self-time functions at the end (.cpuprofile kept in --cpu-prof-dir;
                       provider: A and B both, from after the seeding to the end)
  --cpu-prof-dir DIR   where the profile goes (default $TMPDIR/scimd-bench-profiles)
  --no-build           use the existing dist/ instead of running npm run build
  --keep-data          keep the database (SQLite directory / PostgreSQL schema) and print where
  -h, --help           this text

Exit status: 0 when every response of every workload was successful; 1 when a workload
had non-2xx responses or socket errors (it is marked FAILED and its figures are withheld);
2 on bad options. Targets missed are reported, not failures.
`

const ALL_WORKLOADS = [
  'existence',
  'get',
  'deep-page',
  'list-page',
  'patch-100k',
  'patch-10',
  'post',
] as const
type Selectable = (typeof ALL_WORKLOADS)[number] | 'entra-sync' | 'bulk' | 'provider' | 'costs'
/** Users created each way by the bulk workload: one Bulk request against single POSTs. */
const BULK_USERS = 1000

/** Issue 8's targets: requests/s as a share of the bare Hono app's (or of the OFFSET baseline). */
const TARGETS: Partial<Record<WorkloadName, Target>> = {
  existence: { against: 'ceiling', min: 0.33 },
  get: { against: 'ceiling', min: 0.4 },
  post: { against: 'ceiling', min: 0.12 },
  'patch-100k': { against: 'ceiling', min: 0.19 },
  'deep-page': { against: 'offset-baseline', min: 1 },
  'list-page': { against: 'reference', min: REFERENCE_TARGET },
}

/** Ids each wrk thread adds and removes in the PATCH workloads (see lua/patch.lua). */
const PATCH_IDS_PER_THREAD = 64
/** Pool of spare users for the PATCH workloads: one share for the runs, one for warm-ups. */
const POOL_SIZE = 2 * WRK_THREADS * PATCH_IDS_PER_THREAD
const BIG_GROUP_MAX = 100_000
const SMALL_GROUP = 10
const PAGE_SIZE = 100

class UsageError extends Error {}

interface Options {
  users: number
  groupMembers: number
  syncUsers: number
  providerUsers: number
  streamRate: number
  streamSeconds: number
  selected: Set<Selectable>
  durationSeconds: number
  warmupSeconds: number
  json: boolean
  baseline: string | undefined
  costRounds: number
  costChunk: number
  cpuProf: boolean
  cpuProfDir: string
  build: boolean
  keepData: boolean
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback
  const n = Number(raw.replace(/_/g, '').replace(/s$/, ''))
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number`)
  return n
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string' },
      scale: { type: 'boolean', default: false },
      'sync-users': { type: 'string' },
      'provider-users': { type: 'string' },
      'stream-rate': { type: 'string' },
      'stream-seconds': { type: 'string' },
      baseline: { type: 'string' },
      'cost-rounds': { type: 'string' },
      'cost-chunk': { type: 'string' },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return undefined
  const users = positiveInt('--users', values.users, values.scale ? 1_000_000 : 100_000)
  if (users < SMALL_GROUP + PAGE_SIZE) throw new UsageError(`--users must be at least 110`)
  const names = values.only?.split(',').map((s) => s.trim()) ?? [
    ...ALL_WORKLOADS,
    'entra-sync',
    'bulk',
  ]
  const selected = new Set<Selectable>()
  for (const name of names) {
    if (name === 'patch') {
      selected.add('patch-100k')
      selected.add('patch-10')
    } else if (
      (ALL_WORKLOADS as readonly string[]).includes(name) ||
      name === 'entra-sync' ||
      name === 'bulk' ||
      name === 'provider' ||
      name === 'costs'
    ) {
      selected.add(name as Selectable)
    } else {
      throw new UsageError(`unknown workload '${name}'`)
    }
  }
  for (const alone of ['provider', 'costs'] as const) {
    if (selected.has(alone) && selected.size > 1) {
      throw new UsageError(`the ${alone} workload runs alone: --only ${alone}`)
    }
  }
  const providerUsers = positiveInt('--provider-users', values['provider-users'], 100_000)
  if (providerUsers < 100) throw new UsageError('--provider-users must be at least 100')
  const durationSeconds = positiveInt('--duration', values.duration, 10)
  if (durationSeconds < 1) throw new UsageError('--duration must be at least 1 second')
  return {
    users,
    groupMembers: Math.min(users, BIG_GROUP_MAX),
    syncUsers: positiveInt('--sync-users', values['sync-users'], 20_000),
    providerUsers,
    streamRate: Math.max(1, positiveInt('--stream-rate', values['stream-rate'], 50)),
    streamSeconds: Math.max(1, positiveInt('--stream-seconds', values['stream-seconds'], 20)),
    selected,
    durationSeconds,
    warmupSeconds: positiveInt('--warmup', values.warmup, 2),
    baseline: values.baseline,
    costRounds: Math.max(1, positiveInt('--cost-rounds', values['cost-rounds'], 8)),
    costChunk: Math.max(100, positiveInt('--cost-chunk', values['cost-chunk'], 2000)),
    json: values.json ?? false,
    cpuProf: values['cpu-prof'] ?? false,
    cpuProfDir: values['cpu-prof-dir'] ?? join(tmpdir(), 'scimd-bench-profiles'),
    build: !values['no-build'],
    keepData: values['keep-data'] ?? false,
  }
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)

/** Where scimd keeps its data for this run, and how to remove it. */
interface BenchDatabase {
  kind: 'sqlite' | 'postgres'
  url: string
  /** Where the data is, for --keep-data. */
  location: string
  drop(): Promise<void>
}

async function benchDatabase(dir: string): Promise<BenchDatabase> {
  const configured = process.env.DATABASE_URL ?? ''
  if (configured.startsWith('postgres')) {
    const schema = `bench_${randomBytes(6).toString('hex')}`
    const admin = new pg.Client({ connectionString: configured })
    await admin.connect()
    await admin.query(`create schema ${schema}`)
    await admin.end()
    const url = new URL(configured)
    url.searchParams.set('options', `-c search_path=${schema}`)
    return {
      kind: 'postgres',
      url: url.toString(),
      location: `schema ${schema} of ${configured}`,
      drop: async () => {
        const c = new pg.Client({ connectionString: configured })
        await c.connect()
        await c.query(`drop schema if exists ${schema} cascade`)
        await c.end()
      },
    }
  }
  const path = join(dir, 'scimd.db')
  return { kind: 'sqlite', url: `sqlite:${path}`, location: path, drop: async () => {} }
}

/** The scimd settings startScimd passes on from this environment, as they were set. */
function tuning(): { tuning?: string } {
  const set = ['SCIMD_SQLITE_MMAP_MB', 'SCIMD_PG_POOL_MAX']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`)
  return set.length > 0 ? { tuning: set.join(' ') } : {}
}

function wrkVersion(): string {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
  return (/wrk [^\s]+/.exec(`${out.stdout}${out.stderr}`)?.[0] ?? 'wrk').trim()
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv)
  if (!options) {
    process.stdout.write(USAGE)
    return 0
  }
  if (options.selected.has('provider')) return providerMain(options)
  if (options.selected.has('costs')) return costsMain(options)
  checkWrk()
  const has = (w: Selectable) => options.selected.has(w)
  const needsPatch = has('patch-100k') || has('patch-10')
  const needsUsers =
    needsPatch || has('existence') || has('get') || has('deep-page') || has('list-page')
  const needsReference = has('list-page') || has('entra-sync')

  const phases: Phase[] = []
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    log(`${name} …`)
    const started = performance.now()
    const value = await work()
    const seconds = (performance.now() - started) / 1000
    phases.push({ name, seconds })
    log(`${name} done in ${seconds.toFixed(1)} s`)
    return value
  }

  const startedAt = new Date().toISOString()
  const [loadAverageAtStart = 0] = loadavg()
  if (loadAverageAtStart > 0.5) {
    log(
      `load average is ${loadAverageAtStart.toFixed(2)}: other work on this machine skews the figures`,
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'scimd-bench-'))
  let database: BenchDatabase | undefined
  let client: HttpClient | undefined
  const cleanup = async () => {
    client?.close()
    await stopAll()
    if (options.keepData) {
      log(`data kept: ${database?.location ?? dir}`)
      return
    }
    await database?.drop().catch((err: unknown) => log(`could not drop the database: ${err}`))
    rmSync(dir, { recursive: true, force: true })
  }
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      killAllNow()
      process.exit(130)
    }
    interrupted = true
    log(`${signal}: stopping every process this run started`)
    cleanup().then(
      () => process.exit(130),
      () => process.exit(130),
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    if (options.build) {
      await phase('build', async () => {
        const built = spawnSync('npm', ['run', '--silent', 'build'], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        })
        if (built.status !== 0) {
          throw new Error(
            `npm run build failed (pass --no-build to use the existing dist/):\n${built.stdout}${built.stderr}`,
          )
        }
      })
    }
    database = await benchDatabase(dir)
    const db = database
    const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`
    const secretKey = randomBytes(32).toString('hex')
    const scimdOptions = { databaseUrl: db.url, bootstrapToken: adminToken, secretKey }
    let scimd: ServerProcess = await phase('start scimd', () => startScimd(scimdOptions))
    const stopSampling = sampleAnonymousPeak(() => scimd.pid)

    const source = await phase('create source', async () => {
      const admin = new HttpClient(scimd.origin, adminToken, 1)
      try {
        const created = (await admin.expect(201, 'POST', '/api/v3/sources/scim/', {
          name: 'Benchmark',
          slug: 'bench',
        })) as { pk: string; token_obj: { identifier: string } }
        const { key } = (await admin.expect(
          200,
          'GET',
          `/api/v3/core/tokens/${encodeURIComponent(created.token_obj.identifier)}/view_key/`,
        )) as { key: string }
        return { id: created.pk, key }
      } finally {
        admin.close()
      }
    })
    const base = '/source/scim/bench/v2'
    client = new HttpClient(scimd.origin, source.key)
    const http = client

    let ids: string[] = []
    let pool: string[] = []
    let bigGroup = ''
    let smallGroup = ''
    if (needsUsers) {
      ids = await phase(`seed ${options.users} users`, () =>
        seedUsers(http, base, options.users, seededUserName, (n) => log(`  ${n} users`)),
      )
      writeFileSync(join(dir, 'ids.txt'), `${ids.join('\n')}\n`)
    }
    if (needsPatch) {
      pool = await phase(`seed ${POOL_SIZE} spare users`, () =>
        seedUsers(http, base, POOL_SIZE, (i) => `pool${i}@bench.example`),
      )
      writeFileSync(join(dir, 'pool.txt'), `${pool.join('\n')}\n`)
      smallGroup = await phase(`create ${SMALL_GROUP}-member group`, () =>
        createGroup(http, base, 'bench-small', ids.slice(0, SMALL_GROUP)),
      )
      bigGroup = await phase(`create ${options.groupMembers}-member group`, async () => {
        const id = await createGroup(http, base, 'bench-big', [])
        await addMembersInBatches(http, base, id, ids.slice(0, options.groupMembers), (n) =>
          log(`  ${n} members`),
        )
        const count = await memberCount(http, base, id)
        if (count !== options.groupMembers) {
          throw new Error(`the big group has ${count} members, expected ${options.groupMembers}`)
        }
        return id
      })
    }

    let profileDir: string | undefined
    if (options.cpuProf) {
      profileDir = join(options.cpuProfDir, startedAt.replace(/[:.]/g, '-'))
      mkdirSync(profileDir, { recursive: true })
      const dirForProfile = profileDir
      scimd = await phase('restart scimd under --cpu-prof', async () => {
        http.close()
        await stopProcess(scimd.child)
        return startScimd({ ...scimdOptions, cpuProfDir: dirForProfile })
      })
      client = new HttpClient(scimd.origin, source.key)
    }
    const scimdClient = client
    const bare = await phase('start bare Hono app', () =>
      startBare({ url: db.url, sourceId: source.id }),
    )
    // Seeded with the same user bodies as scimd (not the PATCH workloads' spare users).
    const seededUsers = needsUsers ? options.users : 0
    const reference = needsReference
      ? await phase(`start the reference, seeded with ${seededUsers} users`, () =>
          startReference(join(dir, 'reference.db'), seededUsers),
        )
      : undefined

    const workloads: WorkloadReport[] = []
    const measure = async (
      name: WorkloadName,
      server: ServerProcess,
      request: string,
      lua: string,
      opts: Record<string, string | number>,
      hooks: {
        warmupOpts?: Record<string, string | number>
        afterWarmup?: () => Promise<void>
      } = {},
    ) => {
      const script = luaScript(dir, lua)
      const isScimd = server.name === 'scimd'
      const common = { token: isScimd ? source.key : '', base }
      await phase(name, async () => {
        const report: WorkloadReport = {
          name,
          server: server.name as WorkloadReport['server'],
          request,
          ok: false,
        }
        try {
          if (options.warmupSeconds > 0) {
            await runWrk({
              origin: server.origin,
              script,
              durationSeconds: options.warmupSeconds,
              options: { ...common, ...opts, ...hooks.warmupOpts, seed: 1 },
            })
            await hooks.afterWarmup?.()
          }
          const cpuBefore = cpuMillis(server.pid)
          const result = await runWrk({
            origin: server.origin,
            script,
            durationSeconds: options.durationSeconds,
            options: { ...common, ...opts, seed: 2 },
          })
          const cpuAfter = cpuMillis(server.pid)
          if (cpuBefore !== undefined && cpuAfter !== undefined && result.requests > 0) {
            report.cpuMicrosPerRequest = ((cpuAfter - cpuBefore) * 1000) / result.requests
          }
          report.ok = result.non2xx === 0 && result.socketErrors === 0 && result.requests > 0
          if (report.ok) {
            report.result = result
          } else {
            // Refuse to report figures of a run whose responses were not all successful.
            const { requests, non2xx, socketErrors, failure } = result
            report.errors = { requests, non2xx, socketErrors, ...(failure ? { failure } : {}) }
            log(`${name} FAILED: ${non2xx} non-2xx, ${socketErrors} socket errors`)
          }
        } catch (err) {
          report.error = err instanceof Error ? err.message : String(err)
        }
        workloads.push(report)
      })
    }

    await measure('ceiling', bare, 'GET / on the bare Hono app (tiny JSON)', 'ceiling', {
      path: '/',
    })
    if (has('existence')) {
      await measure(
        'existence',
        scimd,
        `GET /Users?filter=userName eq "user<n>@bench.example", n random in [0, ${2 * options.users}): half exist`,
        'existence',
        { users: options.users },
      )
      await measure(
        'existence-minimal',
        bare,
        'the same requests at /minimal/Users: one prepared SELECT by userName, no auth, no SCIM machinery',
        'existence',
        { users: options.users, base: '/minimal' },
      )
    }
    if (has('get')) {
      await measure('get', scimd, 'GET /Users/<id>, id random over the seeded users', 'get', {
        ids: join(dir, 'ids.txt'),
      })
      await measure(
        'get-minimal',
        bare,
        'the same requests at /minimal/Users/<id>: one prepared SELECT by id, no auth, no groups',
        'get',
        { ids: join(dir, 'ids.txt'), base: '/minimal' },
      )
    }
    if (has('deep-page')) {
      const from = options.users - 999 > 0 ? options.users - 999 : 1
      const to = options.users - PAGE_SIZE + 1
      const page = { from, to, count: PAGE_SIZE }
      await measure(
        'deep-page',
        scimd,
        `GET /Users?startIndex=<random in [${from}, ${to}]>&count=${PAGE_SIZE}`,
        'page',
        { ...page, path: `${base}/Users` },
      )
      await measure(
        'offset-baseline',
        bare,
        `the same page by hand-written COUNT + LIMIT ${PAGE_SIZE} OFFSET <startIndex-1> on scimd's table, in the bare app`,
        'page',
        { ...page, path: '/offset-page' },
      )
    }
    if (has('list-page') && reference) {
      const page = { from: 1, to: options.users - PAGE_SIZE + 1, count: PAGE_SIZE }
      await measure(
        'list-page',
        scimd,
        `GET /Users?startIndex=<random in [1, ${page.to}]>&count=${PAGE_SIZE}`,
        'page',
        { ...page, path: `${base}/Users` },
      )
      await measure(
        'list-page-reference',
        reference,
        'the same pages from the reference: COUNT + OFFSET over (source, id), stored JSON concatenated (own SQLite file)',
        'page',
        { ...page, path: '/reference/Users' },
      )
    }
    const patchWorkload = async (name: 'patch-100k' | 'patch-10', group: string, size: number) => {
      const perRun = WRK_THREADS * PATCH_IDS_PER_THREAD
      await measure(
        name,
        scimd,
        `PATCH /Groups/<${size}-member group>: add or remove one member (Entra's body), always a real change`,
        'patch',
        { group, pool: join(dir, 'pool.txt'), per: PATCH_IDS_PER_THREAD, offset: 0 },
        {
          warmupOpts: { offset: perRun },
          // Back to the group's seeded members: the measured run starts from a known state.
          afterWarmup: async () => {
            await scimdClient.expect(
              204,
              'PATCH',
              `${base}/Groups/${group}`,
              memberPatch('remove', pool.slice(perRun)),
            )
          },
        },
      )
    }
    if (has('patch-100k')) await patchWorkload('patch-100k', bigGroup, options.groupMembers)
    if (has('patch-10')) await patchWorkload('patch-10', smallGroup, SMALL_GROUP)
    if (has('post')) {
      await measure(
        'post',
        scimd,
        'POST /Users, userName post-<run>-<thread>-<counter>@bench.example (unique)',
        'post',
        { tag: 'run' },
        { warmupOpts: { tag: 'warm' } },
      )
    }

    // The bare app again: the machine's speed drifts over a run (other work on a shared
    // host), and the ratios divide by the mean of the two.
    await measure(
      'ceiling-end',
      bare,
      'GET / on the bare Hono app again, after the scimd workloads',
      'ceiling',
      {
        path: '/',
      },
    )

    let entraSync: Report['entraSync']
    if (has('entra-sync') && reference) {
      const referenceClient = new HttpClient(reference.origin, '')
      const runs: EntraSyncRun[] = []
      try {
        const scimdGroup = await createGroup(scimdClient, base, 'bench-sync', [])
        // Each in-flight count against scimd, then the reference, with new userNames each run.
        for (const concurrency of SYNC_CONCURRENCIES) {
          for (const server of ['scimd', 'reference'] as const) {
            const onScimd = server === 'scimd'
            const result = await phase(
              `entra-sync ${server}, ${options.syncUsers} users, ${concurrency} in flight`,
              () =>
                runEntraSync({
                  client: onScimd ? scimdClient : referenceClient,
                  base: onScimd ? base : '/reference',
                  users: options.syncUsers,
                  tag: `sync${concurrency}`,
                  concurrency,
                  groupId: onScimd ? scimdGroup : 'bench-sync',
                }),
            )
            runs.push({ ...result, server })
          }
        }
      } finally {
        referenceClient.close()
      }
      entraSync = { runs, ok: runs.every((r) => r.failures === 0) }
    }

    let bulk: Report['bulk']
    if (has('bulk')) {
      const result = await phase(`bulk ${BULK_USERS} users, single POSTs and one Bulk`, () =>
        runBulkComparison(scimdClient, base, BULK_USERS, 'bulk'),
      )
      bulk = { ...result, ok: result.failures === 0 }
    }

    const peakRssBytes = peakRss(scimd.pid)
    const peakAnonymousBytes = stopSampling()
    scimdClient.close()
    await phase('stop', () => stopAll())

    const rpsOf = (name: WorkloadName) => {
      const w = workloads.find((x) => x.name === name)
      return w?.ok ? w.result?.requestsPerSecond : undefined
    }
    const ceilings = [rpsOf('ceiling'), rpsOf('ceiling-end')].filter((r) => r !== undefined)
    const ceilingRps =
      ceilings.length > 0 ? ceilings.reduce((a, b) => a + b, 0) / ceilings.length : undefined
    for (const w of workloads) {
      if (!w.ok || !w.result) continue
      if (ceilingRps) w.ratio = w.result.requestsPerSecond / ceilingRps
      const target = TARGETS[w.name]
      if (!target) continue
      w.target = target
      const against =
        target.against === 'ceiling'
          ? ceilingRps
          : target.against === 'offset-baseline'
            ? rpsOf('offset-baseline')
            : rpsOf(`${w.name}-reference` as WorkloadName)
      if (against) {
        w.measured = w.result.requestsPerSecond / against
        w.met = w.measured >= target.min
      }
    }
    const big = workloads.find((w) => w.name === 'patch-100k')
    const small = workloads.find((w) => w.name === 'patch-10')
    const report: Report = {
      format: REPORT_FORMAT,
      startedAt,
      machine: {
        cpus: cpus().length,
        node: process.version,
        wrk: wrkVersion(),
        loadAverageAtStart,
      },
      config: {
        database: db.kind,
        users: options.users,
        groupMembers: options.groupMembers,
        syncUsers: options.syncUsers,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        threads: WRK_THREADS,
        connections: WRK_CONNECTIONS,
        cpuProfile: options.cpuProf,
        ...tuning(),
      },
      workloads,
      ...(ceilingRps !== undefined ? { ceilingRps } : {}),
      ...(big?.ok && small?.ok && big.result && small.result
        ? {
            patchMedians: {
              smallGroupMs: small.result.p50Ms,
              bigGroupMs: big.result.p50Ms,
              bigOverSmall: big.result.p50Ms / small.result.p50Ms,
            },
          }
        : {}),
      ...(entraSync ? { entraSync } : {}),
      ...(bulk ? { bulk } : {}),
      ...(peakRssBytes !== undefined ? { peakRssBytes } : {}),
      ...(peakAnonymousBytes !== undefined ? { peakAnonymousBytes } : {}),
      phases,
      failed: workloads.some((w) => !w.ok) || entraSync?.ok === false || bulk?.ok === false,
    }
    process.stdout.write(
      options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report)}\n`,
    )
    if (profileDir) {
      const files = readdirSync(profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(profileDir as string, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
      const newest = files[0]
      if (newest) {
        process.stderr.write(
          `\nCPU profile of scimd: ${newest}\n${formatProfile(summariseProfile(newest))}\n`,
        )
      } else {
        log(`no .cpuprofile was written to ${profileDir}`)
      }
    }
    return report.failed ? 1 : 0
  } finally {
    await cleanup()
  }
}

/** `--only provider`: two scimd processes, each with its own database (see bench/provider.ts). */
/**
 * The start of a workload that runs alone: Ctrl-C stops what it started, `npm run build`
 * unless --no-build, and the load average it starts at (returned, and named when high).
 */
function startStandalone(options: Options): number {
  const onSignal = () => {
    killAllNow()
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  if (options.build) {
    const built = spawnSync('npm', ['run', '--silent', 'build'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`)
  }
  const [load = 0] = loadavg()
  if (load > 0.5) log(`load average is ${load.toFixed(2)}: other work skews the figures`)
  return load
}

/**
 * The source every scimd of a standalone workload gets, with `mapping` (a JSONata source
 * property mapping) if given, and a client with its token.
 */
async function benchSource(
  origin: string,
  adminToken: string,
  mapping?: string,
): Promise<HttpClient> {
  const admin = new HttpClient(origin, adminToken, 1)
  try {
    const created = (await admin.expect(201, 'POST', '/api/v3/sources/scim/', {
      name: 'Benchmark',
      slug: 'bench',
    })) as { token_obj: { identifier: string } }
    if (mapping !== undefined) {
      const made = (await admin.expect(201, 'POST', '/api/v3/propertymappings/source/scim/', {
        name: 'bench mapping',
        expression: mapping,
      })) as { pk: string }
      await admin.expect(200, 'PATCH', '/api/v3/sources/scim/bench/', {
        user_property_mappings: [made.pk],
      })
    }
    const { key } = (await admin.expect(
      200,
      'GET',
      `/api/v3/core/tokens/${encodeURIComponent(created.token_obj.identifier)}/view_key/`,
    )) as { key: string }
    return new HttpClient(origin, key)
  } finally {
    admin.close()
  }
}

/** `--only costs`: what metrics and provisioning events cost (bench/feature-cost.ts). */
async function costsMain(options: Options): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'scimd-bench-costs-'))
  try {
    const load = startStandalone(options)
    const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`
    const secretKey = randomBytes(32).toString('hex')
    const variants = options.baseline
      ? [
          ...FEATURE_VARIANTS,
          { name: `build in ${options.baseline}`, env: {}, cwd: options.baseline },
        ]
      : FEATURE_VARIANTS
    const figures = await runCostBench({
      variants,
      rounds: options.costRounds,
      chunkSize: options.costChunk,
      database: (name) => benchDatabase(join(dir, name)),
      start: (variant, databaseUrl) =>
        startScimd({
          databaseUrl,
          bootstrapToken: adminToken,
          secretKey,
          env: variant.env,
          ...(variant.cwd ? { cwd: variant.cwd } : {}),
        }),
      sourceClient: (origin, variant) => benchSource(origin, adminToken, variant.sourceMapping),
      log,
    })
    const machine = { loadAverageAtStart: load, cpus: cpus().length, node: process.version }
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ costs: figures, ...machine }, null, 2)}\n`
        : `${formatCosts(figures, options.costRounds, options.costChunk)}\n  (load average at start ${load.toFixed(2)}, ${machine.cpus} CPUs)\n`,
    )
    return 0
  } finally {
    await stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function providerMain(options: Options): Promise<number> {
  const dirA = mkdtempSync(join(tmpdir(), 'scimd-bench-a-'))
  const dirB = mkdtempSync(join(tmpdir(), 'scimd-bench-b-'))
  const databases: BenchDatabase[] = []
  const cleanup = async () => {
    await stopAll()
    if (options.keepData) {
      log(`data kept: ${databases.map((d) => d.location).join(', ')}`)
      return
    }
    for (const d of databases) await d.drop().catch(() => undefined)
    rmSync(dirA, { recursive: true, force: true })
    rmSync(dirB, { recursive: true, force: true })
  }
  try {
    const load = startStandalone(options)
    databases.push(await benchDatabase(dirA), await benchDatabase(dirB))
    const profileDir = options.cpuProf
      ? join(options.cpuProfDir, `provider-${new Date().toISOString().replace(/[:.]/g, '-')}`)
      : undefined
    if (profileDir) {
      for (const side of ['a', 'b']) mkdirSync(join(profileDir, side), { recursive: true })
    }
    const report = await runProviderBench({
      users: options.providerUsers,
      streamRate: options.streamRate,
      streamSeconds: options.streamSeconds,
      databaseA: (databases[0] as BenchDatabase).url,
      databaseB: (databases[1] as BenchDatabase).url,
      ...(profileDir ? { cpuProfDir: profileDir } : {}),
      log,
    })
    await stopAll()
    const withMachine = { ...report, loadAverageAtStart: load, node: process.version }
    process.stdout.write(
      options.json
        ? `${JSON.stringify(withMachine, null, 2)}\n`
        : `${formatProviderReport(report)}\n  (load average at start ${load.toFixed(2)}, ${cpus().length} CPUs)\n`,
    )
    if (profileDir) {
      for (const name of ['A', 'B']) {
        const dir = join(profileDir, name.toLowerCase())
        const newest = readdirSync(dir)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(dir, f))
          .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0]
        if (newest) {
          process.stderr.write(
            `\nCPU profile of ${name}: ${newest}\n${formatProfile(summariseProfile(newest))}\n`,
          )
        }
      }
    }
    return report.ok ? 0 : 1
  } finally {
    await cleanup()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`)
      process.exit(2)
    }
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
