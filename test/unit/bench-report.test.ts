import { describe, expect, it } from 'vitest'
import { percentile, type SyncResult } from '../../scripts/bench/entra-sync.js'
import {
  type EntraSyncRun,
  formatTable,
  REPORT_FORMAT,
  type Report,
  syncComparisons,
} from '../../scripts/bench/report.js'
import type { WrkResult } from '../../scripts/bench/wrk.js'

function syncRun(
  server: EntraSyncRun['server'],
  concurrency: number,
  usersPerSecond: number,
  extra: Partial<SyncResult> = {},
): EntraSyncRun {
  return {
    server,
    users: 1000,
    concurrency,
    seconds: 1000 / usersPerSecond,
    usersPerSecond,
    requests: 2020,
    failures: 0,
    p50Ms: 1.5,
    p99Ms: 9,
    p50ByMethodMs: { GET: 0.5, POST: 2.25, PATCH: 3 },
    ...extra,
  }
}

function wrk(requestsPerSecond: number, p50Ms: number, p99Ms: number): WrkResult {
  return {
    requests: requestsPerSecond * 5,
    issued: requestsPerSecond * 5,
    durationSeconds: 5,
    requestsPerSecond,
    p50Ms,
    p90Ms: p50Ms,
    p99Ms,
    maxMs: p99Ms,
    non2xx: 0,
    socketErrors: 0,
  }
}

function report(overrides: Partial<Report>): Report {
  return {
    format: REPORT_FORMAT,
    startedAt: '2026-12-07T21:00:00.000Z',
    machine: { cpus: 2, node: 'v20', wrk: 'wrk 4.1.0', loadAverageAtStart: 0.2 },
    config: {
      database: 'sqlite',
      users: 20000,
      groupMembers: 20000,
      syncUsers: 1000,
      durationSeconds: 5,
      warmupSeconds: 2,
      threads: 2,
      connections: 32,
      cpuProfile: false,
    },
    workloads: [],
    phases: [],
    failed: false,
    ...overrides,
  }
}

describe('percentile (nearest rank)', () => {
  it('takes the smallest value with at least p% at or below it', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expect(percentile(values, 50)).toBe(5)
    expect(percentile(values, 51)).toBe(6)
    expect(percentile(values, 99)).toBe(10)
    expect(percentile(values, 100)).toBe(10)
    expect(percentile([7], 50)).toBe(7)
  })

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN()
  })
})

describe('syncComparisons', () => {
  it('pairs scimd and reference runs by in-flight count, scimd ÷ reference', () => {
    const runs = [
      syncRun('scimd', 1, 200),
      syncRun('reference', 1, 400),
      syncRun('scimd', 8, 900),
      syncRun('reference', 8, 1000),
    ]
    const pairs = syncComparisons(runs)
    expect(pairs.map((p) => [p.concurrency, p.ratio])).toEqual([
      [1, 0.5],
      [8, 0.9],
    ])
  })

  it('leaves out an in-flight count where either run failed or is missing', () => {
    const runs = [
      syncRun('scimd', 8, 900, { failures: 3 }),
      syncRun('reference', 8, 1000),
      syncRun('scimd', 32, 900),
    ]
    expect(syncComparisons(runs)).toEqual([])
  })
})

describe('formatTable, issue 26 lines', () => {
  it('holds list-page against the reference and reports its p99 ÷ p50', () => {
    const text = formatTable(
      report({
        workloads: [
          {
            name: 'list-page',
            server: 'scimd',
            request: 'GET /Users?startIndex=…',
            ok: true,
            result: wrk(950, 30, 120),
            target: { against: 'reference', min: 0.9 },
            measured: 0.95,
            met: true,
          },
          {
            name: 'list-page-reference',
            server: 'reference',
            request: 'the same pages',
            ok: true,
            result: wrk(1000, 28, 60),
          },
        ],
      }),
    )
    expect(text).toContain(REPORT_FORMAT)
    expect(text).toMatch(/list-page\s+scimd\s+950\.0.*>=0\.90 ref\s+met 0\.950/)
    expect(text).toMatch(/list-page-reference\s+reference\s+1000\.0/)
    expect(text).toContain('list-page p99 ÷ p50: 4.00 (MISSED: under 3)')
  })

  it('prints the sync per in-flight count, with the target at 8 and failures', () => {
    const text = formatTable(
      report({
        entraSync: {
          ok: false,
          runs: [
            syncRun('scimd', 1, 300),
            syncRun('reference', 1, 600),
            syncRun('scimd', 8, 850),
            syncRun('reference', 8, 1000),
            syncRun('scimd', 32, 100, {
              failures: 2,
              failure: { request: 'POST /Users', status: 500, body: 'boom' },
            }),
            syncRun('reference', 32, 1200),
          ],
        },
      }),
    )
    expect(text).toContain(
      'entra-sync, 1 in flight: scimd 300.0 users/s, reference 600.0 users/s: ratio 0.500\n',
    )
    expect(text).toContain('ratio 0.850 (MISSED: >=0.90)')
    expect(text).toContain('p50 ms scimd 1.50 (GET 0.50, POST 2.25, PATCH 3.00), p99 9.00')
    expect(text).toContain('entra-sync scimd, 32 in flight: FAILED(2): POST /Users -> 500 boom')
    expect(text).not.toContain('entra-sync, 32 in flight')
  })
})
