/**
 * `npm run fuzz`: drives a built scimd over HTTP with generated and mutated requests and
 * reports statuses, every 5xx, hang or crash (saved as a regression case), event-loop holds
 * and memory. See USAGE.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  assertBuilt,
  killChildrenNow,
  peakRss,
  REPO_ROOT,
  type ScimdChild,
  startChild,
} from './fuzz/child.js'
import { fuzzRequest, KIND_NAMES, requestAt } from './fuzz/generators.js'
import { type FuzzRequest, type Outcome, type Placeholders, send } from './fuzz/request.js'
import {
  createSource,
  newAdminKey,
  newSecretKey,
  scimJson,
  throwawayDatabase,
} from './fuzz/setup.js'
import { exitOnHelp, seedOption, wholeNumbers } from './options.js'

const USAGE = `Usage: npm run fuzz -- [options]      (npm run build first, or: npm run fuzz:built)

Starts the built scimd (node dist/src/cli.js serve) on a free 127.0.0.1 port with a
throwaway database (SQLite; PostgreSQL when DATABASE_URL=postgres://… is set), creates a
source and sends generated requests one at a time: filters, PATCH operations and paths,
resource bodies, query parameters, headers, content types and codings, huge and deeply
nested JSON, wrong tokens, malformed HTTP. A request is number i of seed s: the same pair
gives the same request.

Options:
  --requests N      stop after N requests (default 10000)
  --seconds S       stop after S seconds (default 600)
  --seed N          seed (default: random, printed)
  --timeout MS      a request without a whole response after MS is a hang (default 15000)
  --max-hold MS     a request holding the event loop longer fails the run (default 1000)
  --only LIST       comma-separated kinds: ${KIND_NAMES.join(', ')}
  --corpus DIR      where failing requests are saved (default test/regressions/fuzz-corpus)
  --no-save         do not save failing requests
  --json            print the report as JSON
  -h, --help        this text

Exit status 0 when no response was 5xx (but the 501 of /Bulk and /Me), nothing hung, the server never died and no request
held the loop longer than --max-hold; 1 otherwise; 2 on bad options.
`

interface Failure {
  index: number
  kind: string
  outcome: Outcome | { kind: 'crash'; output: string }
  request: FuzzRequest
  file?: string
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '600' },
      seed: { type: 'string' },
      timeout: { type: 'string', default: '15000' },
      'max-hold': { type: 'string', default: '1000' },
      only: { type: 'string' },
      corpus: { type: 'string', default: 'test/regressions/fuzz-corpus' },
      'no-save': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  exitOnHelp(values.help, USAGE)
  const int = wholeNumbers(USAGE)
  return {
    requests: int('requests', values.requests),
    seconds: int('seconds', values.seconds),
    seed: seedOption(values.seed, USAGE),
    timeoutMs: int('timeout', values.timeout),
    maxHoldMs: int('max-hold', values['max-hold']),
    only: values.only?.split(',').map((s) => s.trim()),
    corpus: join(REPO_ROOT, values.corpus),
    save: !values['no-save'],
    json: values.json,
  }
}

/** Saves a failing request where test/regressions/fuzz-corpus.test.ts replays it. */
function saveCase(dir: string, failure: Failure, seed: number, database: string): string {
  const text = JSON.stringify(failure.request)
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `fuzz-${hash}.json`)
  const outcome = failure.outcome
  const found = {
    seed,
    index: failure.index,
    database,
    outcome: 'status' in outcome ? `status ${outcome.status}` : outcome.kind,
    date: new Date().toISOString().slice(0, 10),
  }
  writeFileSync(file, `${JSON.stringify({ found, request: failure.request }, null, 2)}\n`)
  return file
}

function summary(req: FuzzRequest): string {
  const body = req.body
  const what = !body
    ? ''
    : 'recipe' in body
      ? ` recipe ${JSON.stringify(body.recipe)}`
      : 'text' in body
        ? ` body ${body.text.length} chars: ${body.text.slice(0, 160)}`
        : 'base64' in body
          ? ` body ${body.base64.length} base64`
          : ` gzip body`
  return `${req.method} ${req.path.slice(0, 200)}${what}`
}

const mb = (n: number | undefined) => (n === undefined ? '?' : `${(n / 1048576).toFixed(1)} MB`)

async function main() {
  const options = parseOptions()
  assertBuilt()
  const database = await throwawayDatabase('scimd_fuzz')
  // scimd answers a request whose body stalls with 408 at its request deadline (60 s by
  // default); the server under test gets one 5 s inside the hang bound, so a stalled body
  // counts as answered and only a server that never answers counts as a hang.
  const requestMs = Math.max(1_000, options.timeoutMs - 5_000)
  const deadlines = {
    SCIMD_REQUEST_TIMEOUT_MS: String(requestMs),
    SCIMD_HEADERS_TIMEOUT_MS: String(Math.min(10_000, requestMs)),
  }
  const adminKey = newAdminKey()
  const secretKey = newSecretKey()
  let child: ScimdChild | undefined
  const cleanup = async () => {
    await child?.stop()
    await database.drop()
  }
  process.once('SIGINT', () => {
    killChildrenNow()
    process.exit(130)
  })
  try {
    child = await startChild({ databaseUrl: database.url, adminKey, secretKey, env: deadlines })
    const source = await createSource(child.origin, adminKey, 'fuzz')
    const origin = child.origin
    const seedUser = async (name: string) =>
      String(
        (
          await scimJson(
            origin,
            source,
            'POST',
            '/Users',
            {
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
              userName: name,
              emails: [{ value: `${name}@example.com`, type: 'work', primary: true }],
            },
            201,
          )
        ).id,
      )
    const user = await seedUser('fuzz-seed-user')
    const group = String(
      (
        await scimJson(
          child.origin,
          source,
          'POST',
          '/Groups',
          {
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
            displayName: 'fuzz-seed-group',
            members: [{ value: user }],
          },
          201,
        )
      ).id,
    )
    const fresh: string[] = [await seedUser('fuzz-fresh-0')]
    const freshGroups: string[] = [group]
    await child.loopHold()
    const memoryStart = await child.memory()

    const arbitrary = fuzzRequest(options.only)
    const started = performance.now()
    const deadline = started + options.seconds * 1000
    const statusClasses: Record<string, number> = {}
    const byKind: Record<string, Record<string, number>> = {}
    const failures: Failure[] = []
    const holds: {
      ms: number
      cpuMs: number
      index: number
      kind: string
      what: string
      status: string
    }[] = []
    let maxHoldCpuMs = 0
    let maxLatency = 0
    let restarts = 0
    let sent = 0
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const progressEvery = Math.max(500, Math.floor(options.requests / 20))

    for (let i = 0; i < options.requests && performance.now() < deadline; i++) {
      const req = requestAt(arbitrary, options.seed, i)
      const p: Placeholders = {
        slug: source.slug,
        key: source.key,
        adminKey,
        user,
        group,
        fresh: fresh[i % fresh.length] as string,
        freshGroup: freshGroups[i % freshGroups.length] as string,
      }
      const outcome = await send(child.origin, req, p, options.timeoutMs, agent)
      sent++
      // 501 is what /Bulk and /Me answer on purpose (README): counted apart from real 5xx.
      const label =
        outcome.kind !== 'response'
          ? outcome.kind
          : outcome.status === 501
            ? '501'
            : `${Math.floor(outcome.status / 100)}xx`
      statusClasses[label] = (statusClasses[label] ?? 0) + 1
      const kindStats = byKind[req.kind] ?? {}
      byKind[req.kind] = kindStats
      kindStats[label] = (kindStats[label] ?? 0) + 1
      if (outcome.kind === 'response' || outcome.kind === 'hang' || outcome.kind === 'network') {
        maxLatency = Math.max(maxLatency, outcome.ms)
      }
      if (outcome.kind === 'response' && outcome.status === 201 && outcome.location) {
        const id = outcome.location.split('/').pop()
        const pool = outcome.location.includes('/Groups/') ? freshGroups : fresh
        if (id && pool.length < 500) pool.push(id)
      }

      const alive = child.alive()
      // After a hang the loop may still be busy: wait for the probe (it answers once free).
      const hold = alive
        ? await child.loopHold(outcome.kind === 'hang' ? 300_000 : 30_000)
        : undefined
      if (hold !== undefined) {
        maxHoldCpuMs = Math.max(maxHoldCpuMs, hold.cpuMs)
        holds.push({ ...hold, index: i, kind: req.kind, what: summary(req), status: label })
        holds.sort((a, b) => b.ms - a.ms)
        holds.length = Math.min(holds.length, 10)
      }
      if (process.env.FUZZ_DEBUG && outcome.kind === 'response') {
        process.stderr.write(
          `${i} ${req.kind} ${outcome.status} ${outcome.bodyStart.slice(0, 240)}\n`,
        )
      }
      const failed =
        !alive ||
        outcome.kind === 'hang' ||
        (outcome.kind === 'response' && outcome.status >= 500 && outcome.status !== 501)
      if (failed) {
        const failure: Failure = {
          index: i,
          kind: req.kind,
          outcome: alive ? outcome : { kind: 'crash', output: child.output().slice(-2000) },
          request: req,
        }
        if (options.save)
          failure.file = saveCase(options.corpus, failure, options.seed, database.kind)
        failures.push(failure)
        process.stderr.write(
          `! request ${i} (${req.kind}): ${label}${alive ? '' : ' (server died)'}: ${summary(req).slice(0, 300)}\n`,
        )
      }
      if (!alive) {
        // The server died: note it and start it again on the same database.
        restarts++
        child = await startChild({ databaseUrl: database.url, adminKey, secretKey, env: deadlines })
      }
      if (!options.json && (i + 1) % progressEvery === 0) {
        const s = ((performance.now() - started) / 1000).toFixed(0)
        process.stderr.write(`… ${i + 1} requests, ${s} s, ${JSON.stringify(statusClasses)}\n`)
      }
    }
    agent.destroy()
    const memoryEnd = await child.memory()
    const report = {
      seed: options.seed,
      database: database.kind,
      requests: sent,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      statusClasses,
      byKind,
      failures: failures.map((f) => ({
        index: f.index,
        kind: f.kind,
        outcome: 'status' in f.outcome ? f.outcome.status : f.outcome.kind,
        request: summary(f.request).slice(0, 300),
        file: f.file,
      })),
      restarts,
      maxLoopHoldMs: Math.round(holds[0]?.ms ?? 0),
      maxLoopHoldCpuMs: Math.round(maxHoldCpuMs),
      longestHolds: holds.map((h) => ({ ...h, ms: Math.round(h.ms), cpuMs: Math.round(h.cpuMs) })),
      maxLatencyMs: Math.round(maxLatency),
      memory: {
        rssStart: memoryStart?.rss,
        rssEnd: memoryEnd?.rss,
        heapAfterGcStart: memoryStart?.heapUsed,
        heapAfterGcEnd: memoryEnd?.heapUsed,
        peakRss: peakRss(child.pid),
      },
    }
    const tooLong = holds.filter((h) => h.ms > options.maxHoldMs)
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    } else {
      const lines = [
        `scimd fuzz: seed ${report.seed}, ${report.database}, ${report.requests} requests in ${report.seconds} s`,
        `responses by class: ${Object.entries(statusClasses)
          .sort()
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `5xx, hangs and crashes: ${failures.length}${restarts ? ` (server restarted ${restarts} times)` : ''}`,
        ...failures.map(
          (f) =>
            `  #${f.index} ${f.kind}: ${'status' in f.outcome ? f.outcome.status : f.outcome.kind} ${summary(f.request).slice(0, 200)}${f.file ? `\n    saved: ${f.file}` : ''}`,
        ),
        `longest event-loop hold: ${report.maxLoopHoldMs} ms (limit ${options.maxHoldMs} ms), most CPU in one hold: ${report.maxLoopHoldCpuMs} ms; longest response: ${report.maxLatencyMs} ms`,
        ...holds
          .slice(0, 5)
          .map(
            (h) =>
              `  ${Math.round(h.ms)} ms (${Math.round(h.cpuMs)} ms CPU)  #${h.index} ${h.kind} → ${h.status}: ${h.what.slice(0, 160)}`,
          ),
        `memory: RSS ${mb(report.memory.rssStart)} → ${mb(report.memory.rssEnd)} (peak ${mb(report.memory.peakRss)}); heap after GC ${mb(report.memory.heapAfterGcStart)} → ${mb(report.memory.heapAfterGcEnd)}`,
        `by kind: ${Object.entries(byKind)
          .sort()
          .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
          .join('; ')}`,
        `reproduce: npm run fuzz -- --seed ${report.seed} --requests ${report.requests}`,
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
    await cleanup()
    process.exit(failures.length > 0 || tooLong.length > 0 ? 1 : 0)
  } catch (error) {
    process.stderr.write(
      `fuzz: ${error instanceof Error ? error.stack : String(error)}\n${child?.output() ?? ''}\n`,
    )
    killChildrenNow()
    await database.drop().catch(() => {})
    process.exit(1)
  }
}

await main()
