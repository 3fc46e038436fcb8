/** The benchmark's stable output: a fixed-width table, or (--json) one JSON document. */
import type { BulkComparison } from './bulk.js'
import type { SyncResult } from './entra-sync.js'
import type { WrkResult } from './wrk.js'

/** A change of the bare app's speed across a run, as a share, past which the table warns. */
const DRIFT_WARNING = 0.1

/** Bumped whenever a field of the JSON document changes meaning or goes away. */
export const REPORT_FORMAT = 'scimd-bench/3'

export type WorkloadName =
  | 'ceiling'
  | 'ceiling-end'
  | 'existence'
  | 'existence-minimal'
  | 'get'
  | 'get-minimal'
  | 'deep-page'
  | 'offset-baseline'
  | 'patch-100k'
  | 'patch-10'
  | 'post'
  | 'list-page'
  | 'list-page-reference'

/**
 * What a workload's requests/s is held against: the bare app's (ratio), the OFFSET baseline's,
 * or the hand-rolled reference's on the same requests (workload `<name>-reference`).
 */
export interface Target {
  against: 'ceiling' | 'offset-baseline' | 'reference'
  min: number
}

/** Issue 26's goal for scimd ÷ the reference (list pages, and the sync at 8 in flight). */
export const REFERENCE_TARGET = 0.9
/** Issue 26: a list page's p99 stays under this many times its p50. */
export const P99_OVER_P50_LIMIT = 3

/** One Entra-style sync run against one server. */
export type EntraSyncRun = SyncResult & { server: 'scimd' | 'reference' }

/** scimd against the reference at one in-flight count of the sync. */
export interface SyncComparison {
  concurrency: number
  scimd: EntraSyncRun
  reference: EntraSyncRun
  /** scimd's users/s ÷ the reference's. */
  ratio: number
}

export interface WorkloadReport {
  name: WorkloadName
  server: 'bare' | 'scimd' | 'reference'
  request: string
  /** The figures; only for a workload whose every response was 2xx (else see `errors`). */
  result?: WrkResult
  /**
   * CPU time (user + system) the server process spent per completed request during the
   * measured run, in microseconds: unlike req/s, barely moved by other load on the machine.
   */
  cpuMicrosPerRequest?: number
  /** What went wrong in a FAILED workload (its figures are withheld). */
  errors?: Pick<WrkResult, 'requests' | 'non2xx' | 'socketErrors' | 'failure'>
  ok: boolean
  /** requests/s ÷ Report.ceilingRps; only for successful runs. */
  ratio?: number
  target?: Target
  /** The value compared with target.min (ratio, or ÷ the OFFSET baseline). */
  measured?: number
  met?: boolean
  error?: string
}

export interface Phase {
  name: string
  seconds: number
}

export interface Report {
  format: typeof REPORT_FORMAT
  startedAt: string
  machine: { cpus: number; node: string; wrk: string; loadAverageAtStart: number }
  config: {
    database: 'sqlite' | 'postgres'
    users: number
    groupMembers: number
    syncUsers: number
    durationSeconds: number
    warmupSeconds: number
    threads: number
    connections: number
    cpuProfile: boolean
    /** scimd settings the run was given beyond the defaults, e.g. `SCIMD_SQLITE_MMAP_MB=256`. */
    tuning?: string
  }
  workloads: WorkloadReport[]
  /**
   * The bare app's requests/s that ratios divide by: the mean of its runs before (`ceiling`)
   * and after (`ceiling-end`) scimd's workloads, or the one that succeeded.
   */
  ceilingRps?: number
  /** Median (p50) latency of the one-member PATCH in each group, measured in the same run. */
  patchMedians?: { smallGroupMs: number; bigGroupMs: number; bigOverSmall: number }
  /**
   * The Entra-style sync against scimd and the reference (scimd-bench/2 had one scimd run
   * here, without `runs`).
   */
  entraSync?: { runs: EntraSyncRun[]; ok: boolean }
  /** The same creates by single POSTs (32 in flight) and by one Bulk request. */
  bulk?: BulkComparison & { ok: boolean }
  /** VmHWM of the scimd process at the end of the run, in bytes. */
  peakRssBytes?: number
  /**
   * The highest RssAnon of the scimd process sampled every 0.5 s, in bytes: its resident
   * memory less the pages of files it maps (Node's binary, SQLite's mapped database pages).
   */
  peakAnonymousBytes?: number
  phases: Phase[]
  /** True when any workload had a non-2xx response or a socket error. */
  failed: boolean
}

const pad = (s: string, n: number) => s.padEnd(n)
const num = (v: number | undefined, digits: number, width: number) =>
  (v === undefined ? '-' : v.toFixed(digits)).padStart(width)

const AGAINST_SHORT = { ceiling: 'ceil', 'offset-baseline': 'offset', reference: 'ref' } as const

function targetText(t: Target | undefined): string {
  return t ? `>=${t.min.toFixed(2)} ${AGAINST_SHORT[t.against]}` : '-'
}

/** The sync's scimd and reference runs paired by in-flight count, where both succeeded. */
export function syncComparisons(runs: readonly EntraSyncRun[]): SyncComparison[] {
  const ok = runs.filter((r) => r.failures === 0)
  return ok.flatMap((scimd) => {
    if (scimd.server !== 'scimd') return []
    const reference = ok.find(
      (r) => r.server === 'reference' && r.concurrency === scimd.concurrency,
    )
    return reference
      ? [
          {
            concurrency: scimd.concurrency,
            scimd,
            reference,
            ratio: scimd.usersPerSecond / reference.usersPerSecond,
          },
        ]
      : []
  })
}

/** A sync run's p50 over all requests and by kind, and its p99. */
function latencyText(run: EntraSyncRun): string {
  const byMethod = Object.entries(run.p50ByMethodMs)
    .map(([method, ms]) => `${method} ${ms.toFixed(2)}`)
    .join(', ')
  return `${run.p50Ms.toFixed(2)} (${byMethod}), p99 ${run.p99Ms.toFixed(2)}`
}

function syncLines(sync: NonNullable<Report['entraSync']>): string[] {
  const lines: string[] = []
  for (const run of sync.runs.filter((r) => r.failures > 0)) {
    const f = run.failure
    lines.push(
      `entra-sync ${run.server}, ${run.concurrency} in flight: FAILED(${run.failures}): ` +
        `${f?.request} -> ${f?.status} ${f?.body}`,
    )
  }
  for (const c of syncComparisons(sync.runs)) {
    const verdict =
      c.concurrency === 8
        ? ` (${c.ratio >= REFERENCE_TARGET ? 'met' : 'MISSED'}: >=${REFERENCE_TARGET.toFixed(2)})`
        : ''
    lines.push(
      `entra-sync, ${c.concurrency} in flight: scimd ${c.scimd.usersPerSecond.toFixed(1)} users/s, ` +
        `reference ${c.reference.usersPerSecond.toFixed(1)} users/s: ratio ${c.ratio.toFixed(3)}${verdict}`,
      `  p50 ms scimd ${latencyText(c.scimd)}; reference ${latencyText(c.reference)}`,
    )
  }
  const first = sync.runs[0]
  if (first) {
    lines.push(
      `  (${first.users} new users per run: existence check, create with the enterprise ` +
        'extension, a member PATCH every 50 users; p50/p99 over every request)',
    )
  }
  return lines
}

export function formatTable(report: Report): string {
  const c = report.config
  const lines: string[] = []
  lines.push(
    `scimd benchmark (${REPORT_FORMAT}) ${report.startedAt}: ${c.database}` +
      (c.tuning ? ` (${c.tuning})` : '') +
      `, ${c.users} users, ` +
      `${c.groupMembers}-member group, wrk -t${c.threads} -c${c.connections} -d${c.durationSeconds}s ` +
      `(warm-up ${c.warmupSeconds}s), ${report.machine.cpus} CPUs, node ${report.machine.node}, ` +
      `${report.machine.wrk}, load average ${report.machine.loadAverageAtStart.toFixed(2)} at start`,
  )
  lines.push('')
  const header =
    `${pad('workload', 21)}${pad('server', 10)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}` +
    `${'p99 ms'.padStart(9)}${'cpu µs'.padStart(8)}${'non2xx'.padStart(8)}${'sockerr'.padStart(8)}${'ratio'.padStart(8)}` +
    `  ${pad('target', 16)}${pad('result', 12)}`
  lines.push(header)
  lines.push('-'.repeat(header.length))
  for (const w of report.workloads) {
    const r = w.ok ? w.result : undefined
    const counts = w.result ?? w.errors
    const failures = counts ? counts.non2xx + counts.socketErrors : undefined
    const result = !w.ok
      ? `FAILED${failures !== undefined ? `(${failures})` : ''}`
      : w.target === undefined
        ? 'ok'
        : `${w.met ? 'met' : 'MISSED'} ${w.measured?.toFixed(3)}`
    lines.push(
      `${pad(w.name, 21)}${pad(w.server, 10)}${num(r?.requestsPerSecond, 1, 10)}` +
        `${num(r?.p50Ms, 2, 9)}${num(r?.p99Ms, 2, 9)}${num(w.ok ? w.cpuMicrosPerRequest : undefined, 0, 8)}` +
        `${String(counts?.non2xx ?? '-').padStart(8)}${String(counts?.socketErrors ?? '-').padStart(8)}` +
        `${num(w.ratio, 3, 8)}  ${pad(targetText(w.target), 16)}${pad(result, 12)}`.trimEnd(),
    )
  }
  lines.push('')
  for (const w of report.workloads) lines.push(`${pad(w.name, 21)}${w.request}`)
  const failedOnes = report.workloads.filter((w) => !w.ok)
  if (failedOnes.length > 0) {
    lines.push('')
    for (const w of failedOnes) {
      const f = w.errors?.failure
      lines.push(
        `FAILED ${w.name}: ${w.error ?? ''}${f ? `first non-2xx: ${f.status} ${f.body}` : ''}`.trim(),
      )
    }
  }
  lines.push('')
  if (report.ceilingRps !== undefined) {
    const runs = report.workloads.filter((w) => w.name.startsWith('ceiling') && w.ok).length
    lines.push(
      `ratios divide by ${report.ceilingRps.toFixed(1)} req/s, ` +
        (runs > 1
          ? "the mean of the bare app's runs before and after the scimd workloads"
          : "the bare app's one successful run"),
    )
  }
  const rps = (name: WorkloadName) =>
    report.workloads.find((w) => w.name === name && w.ok)?.result?.requestsPerSecond
  const [first, last] = [rps('ceiling'), rps('ceiling-end')]
  if (first && last && Math.abs(last - first) / Math.max(first, last) > DRIFT_WARNING) {
    const drift = ((100 * (last - first)) / first).toFixed(0)
    lines.push(
      `WARNING: the bare app's speed moved ${drift}% between the two ends of this run (other ` +
        'work on the machine): ratios of the workloads in between are uncertain by as much',
    )
  }
  const ofMinimal = (['existence', 'get'] as const).flatMap((name) => {
    const scimd = rps(name)
    const minimal = rps(`${name}-minimal`)
    return scimd && minimal ? [`${name} ${(scimd / minimal).toFixed(3)}`] : []
  })
  if (ofMinimal.length > 0) {
    lines.push(
      `scimd ÷ the minimal server on the same requests: ${ofMinimal.join(', ')} ` +
        "(issue 8's targets are 0.9 of the minimal server's ratios as measured there)",
    )
  }
  if (report.patchMedians) {
    const p = report.patchMedians
    lines.push(
      `one-member PATCH median: 10-member group ${p.smallGroupMs.toFixed(2)} ms, ` +
        `${c.groupMembers}-member group ${p.bigGroupMs.toFixed(2)} ms ` +
        `(big/small ${p.bigOverSmall.toFixed(2)})`,
    )
  }
  const listPage = report.workloads.find((w) => w.name === 'list-page' && w.ok)?.result
  if (listPage) {
    const spread = listPage.p99Ms / listPage.p50Ms
    lines.push(
      `list-page p99 ÷ p50: ${spread.toFixed(2)} (${spread < P99_OVER_P50_LIMIT ? 'met' : 'MISSED'}: ` +
        `under ${P99_OVER_P50_LIMIT}); the reference keeps its own SQLite file, whatever scimd runs on`,
    )
  }
  if (report.entraSync) lines.push(...syncLines(report.entraSync))
  if (report.bulk) {
    const b = report.bulk
    lines.push(
      b.ok
        ? `bulk: ${b.users} creates by single POST (32 in flight) ${b.singleSeconds.toFixed(2)} s, ` +
            `by one Bulk request ${b.bulkSeconds.toFixed(2)} s: Bulk ${b.speedup.toFixed(2)}x ` +
            `(${b.speedup >= 1 ? 'met' : 'MISSED'}: at least as fast)`
        : `bulk: FAILED(${b.failures}): ${b.failure?.request} -> ${b.failure?.status} ${b.failure?.body}`,
    )
  }
  if (report.peakRssBytes !== undefined) {
    lines.push(
      `scimd peak RSS (VmHWM): ${(report.peakRssBytes / 2 ** 20).toFixed(1)} MiB` +
        (c.cpuProfile ? ' (profiled process: since the restart after seeding)' : '') +
        (report.peakAnonymousBytes !== undefined
          ? `, of which anonymous memory (RssAnon, sampled every 0.5 s) at most ` +
            `${(report.peakAnonymousBytes / 2 ** 20).toFixed(1)} MiB; the rest are pages of ` +
            'mapped files (Node; database pages, if SCIMD_SQLITE_MMAP_MB is set), which the OS can take back'
          : ''),
    )
  }
  lines.push(`phases: ${report.phases.map((p) => `${p.name} ${p.seconds.toFixed(1)}s`).join(', ')}`)
  lines.push(report.failed ? 'RESULT: FAILED (some responses were not successful)' : 'RESULT: ok')
  return lines.join('\n')
}
