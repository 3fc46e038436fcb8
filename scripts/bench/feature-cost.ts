/**
 * What an optional part of scimd costs on the write path (`npm run bench -- --only costs`):
 * several scimd processes started side by side, the default one and one with a part turned
 * off (or an older build, `--baseline DIR`), each fed the same chunks of `POST /Users` and
 * of one-member group PATCHes in turn. Each is held to the server CPU it spent per request
 * (the scheduler's count per thread, /proc), compared within each round: on a shared machine requests per second moved
 * ±30% between identical runs, while two processes measured in the same minute see the
 * same neighbours.
 */
import { type HttpClient, runConcurrently } from './http-client.js'
import { cpuNanos } from './processes.js'
import { createGroup, memberPatch, userBody } from './seed.js'

/** A scimd to measure: how it differs from the default one. */
export interface CostVariant {
  name: string
  /** Environment added to scimd's (e.g. SCIMD_METRICS=off). */
  env: Record<string, string>
  /** Another checkout whose built dist/ runs instead of this one (an older build). */
  cwd?: string
  /**
   * A source property mapping (JSONata) this variant's source runs on each write: a part the
   * variant adds, where the others turn one off.
   */
  sourceMapping?: string
  /** The bound on the part's cost, as a share of CPU per request. */
  bound?: number
}

/**
 * The parts whose cost an issue bounds, each turned off in a variant of its own, and a
 * second default process: what it differs by is this run's noise, the floor under which
 * no cost can be told apart.
 */
export const FEATURE_VARIANTS: readonly CostVariant[] = [
  { name: 'default, second process', env: {} },
  { name: 'metrics off', env: { SCIMD_METRICS: 'off' }, bound: 0.05 },
  { name: 'provisioning events off', env: { SCIMD_PROVISIONING_EVENTS: 'off' }, bound: 0.1 },
  {
    name: 'one source mapping',
    env: {},
    sourceMapping: '{ "attributes": { "family": data.name.familyName } }',
    bound: 0.2,
  },
]

/** A started variant: its process and a client holding its source's token. */
export interface CostTarget {
  variant: CostVariant
  pid: number
  client: HttpClient
}

export type CostWorkload = 'post' | 'patch'

export interface CostFigure {
  variant: string
  workload: CostWorkload
  /** Median over rounds of this variant's server CPU per request, µs. */
  cpuMicros: number
  /** Median over rounds of its requests per second. */
  rps: number
  /**
   * The cost of the part this variant turns off (the median over rounds of default ÷
   * variant − 1) or adds (variant ÷ default − 1); for another build, what the default
   * spends beyond it.
   */
  cost: number
  bound?: number
}

const BASE = '/source/scim/bench/v2'
const IN_FLIGHT = 32
/** Members of the PATCH workload's group, and the spare users it adds and removes. */
const GROUP_MEMBERS = 10
const SPARES = 256

interface Prepared {
  target: CostTarget
  groupId: string
  spares: string[]
  created: number
  patched: number
}

async function prepare(target: CostTarget): Promise<Prepared> {
  const ids: string[] = []
  await runConcurrently(GROUP_MEMBERS + SPARES, 16, async (i) => {
    const made = (await target.client.expect(
      201,
      'POST',
      `${BASE}/Users`,
      userBody(`cost-seed-${i}@bench.example`, i),
    )) as { id: string }
    ids[i] = made.id
  })
  const groupId = await createGroup(target.client, BASE, 'cost', ids.slice(0, GROUP_MEMBERS))
  return { target, groupId, spares: ids.slice(GROUP_MEMBERS), created: 0, patched: 0 }
}

/** One chunk of `count` requests of `workload`; returns its CPU ms and seconds. */
async function chunk(p: Prepared, workload: CostWorkload, count: number) {
  const { client, pid } = p.target
  const cpuBefore = cpuNanos(pid)
  const started = performance.now()
  if (workload === 'post') {
    const first = p.created
    p.created += count
    await runConcurrently(count, IN_FLIGHT, async (i) => {
      const n = first + i
      await client.expect(201, 'POST', `${BASE}/Users`, userBody(`cost-${n}@bench.example`, n))
    })
  } else {
    // Spare n % SPARES is added, then removed SPARES requests later (far more than are in
    // flight, so in that order): every PATCH changes the group, and it stays small.
    const first = p.patched
    p.patched += count
    await runConcurrently(count, IN_FLIGHT, async (i) => {
      const n = first + i
      const spare = p.spares[n % SPARES] as string
      const op = Math.floor(n / SPARES) % 2 === 0 ? 'add' : 'remove'
      await client.expect(204, 'PATCH', `${BASE}/Groups/${p.groupId}`, memberPatch(op, [spare]))
    })
  }
  const seconds = (performance.now() - started) / 1000
  const cpuAfter = cpuNanos(pid)
  if (cpuBefore === undefined || cpuAfter === undefined) throw new Error('no CPU figures')
  return { cpuMs: (cpuAfter - cpuBefore) / 1e6, seconds }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/**
 * Runs `rounds` rounds; in each, every target gets one chunk of each workload, in an order
 * reversed every other round. The first target is the default one the others are held to.
 */
export async function measureCosts(
  targets: readonly CostTarget[],
  options: { rounds: number; chunkSize: number; log: (line: string) => void },
): Promise<CostFigure[]> {
  const prepared = await Promise.all(targets.map(prepare))
  const workloads: CostWorkload[] = ['post', 'patch']
  // Per workload, per target: CPU µs per request and requests/s of each round.
  const cpu = new Map<string, number[]>()
  const rps = new Map<string, number[]>()
  const key = (w: CostWorkload, i: number) => `${w}:${i}`
  // One unmeasured round first: the JIT and SQLite's page cache warm up.
  for (let round = -1; round < options.rounds; round++) {
    const order = prepared.map((_, i) => i)
    if (round % 2 !== 0) order.reverse()
    for (const workload of workloads) {
      for (const i of order) {
        const result = await chunk(prepared[i] as Prepared, workload, options.chunkSize)
        if (round < 0) continue
        const k = key(workload, i)
        cpu.set(k, [...(cpu.get(k) ?? []), (result.cpuMs * 1000) / options.chunkSize])
        rps.set(k, [...(rps.get(k) ?? []), options.chunkSize / result.seconds])
      }
    }
    if (round >= 0) options.log(`  round ${round + 1} of ${options.rounds}`)
  }
  return workloads.flatMap((workload) => {
    const defaults = cpu.get(key(workload, 0)) ?? []
    return targets.map((target, i) => {
      const mine = cpu.get(key(workload, i)) ?? []
      return {
        variant: target.variant.name,
        workload,
        cpuMicros: median(mine),
        rps: median(rps.get(key(workload, i)) ?? []),
        cost: median(
          mine.map((c, r) => {
            const d = defaults[r] as number
            return target.variant.sourceMapping ? c / d - 1 : d / c - 1
          }),
        ),
        ...(target.variant.bound !== undefined ? { bound: target.variant.bound } : {}),
      }
    })
  })
}

/** The figures as a table: a row per workload and variant, the cost against its bound. */
export function formatCosts(figures: readonly CostFigure[], rounds: number, chunkSize: number) {
  const lines = [
    `Part costs: ${rounds} alternated rounds of ${chunkSize} requests per workload and scimd, ${IN_FLIGHT} in flight (medians)`,
    '',
    '| workload | scimd | server CPU µs/req | req/s | cost of the part | bound |',
    '|---|---|---:|---:|---:|---|',
  ]
  for (const f of figures) {
    const extra = f.variant === 'default' ? '' : `${(f.cost * 100).toFixed(1)}%`
    const bound =
      f.bound === undefined
        ? ''
        : `≤ ${(f.bound * 100).toFixed(0)}%: ${f.cost <= f.bound ? 'met' : 'NOT MET'}`
    lines.push(
      `| ${f.workload === 'post' ? 'POST /Users' : 'PATCH one member'} | ${f.variant} | ${f.cpuMicros.toFixed(0)} | ${f.rps.toFixed(0)} | ${extra} | ${bound} |`,
    )
  }
  return lines.join('\n')
}

/** A database for one scimd of the run (a SQLite file or a PostgreSQL schema of its own). */
export interface CostDatabase {
  url: string
  drop(): Promise<void>
}

/**
 * Starts the default scimd and each variant on a database of its own, gives each a source,
 * measures, and stops them. `--baseline DIR` adds DIR's build as a variant.
 */
export async function runCostBench(options: {
  variants: readonly CostVariant[]
  rounds: number
  chunkSize: number
  database: (name: string) => Promise<CostDatabase>
  start: (v: CostVariant, databaseUrl: string) => Promise<{ pid: number; origin: string }>
  sourceClient: (origin: string, variant: CostVariant) => Promise<HttpClient>
  log: (line: string) => void
}): Promise<CostFigure[]> {
  const all: CostVariant[] = [{ name: 'default', env: {} }, ...options.variants]
  const databases: CostDatabase[] = []
  const targets: CostTarget[] = []
  try {
    for (const [i, variant] of all.entries()) {
      const db = await options.database(`costs${i}`)
      databases.push(db)
      const server = await options.start(variant, db.url)
      targets.push({
        variant,
        pid: server.pid,
        client: await options.sourceClient(server.origin, variant),
      })
      options.log(`started scimd: ${variant.name}`)
    }
    return await measureCosts(targets, options)
  } finally {
    for (const t of targets) t.client.close()
    for (const db of databases) await db.drop().catch(() => {})
  }
}
