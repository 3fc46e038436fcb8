/**
 * Replays an "Okta SCIM 2.0 SPEC Test" Runscope export against a running scimd source and
 * checks each step's assertions, like Runscope would.
 *
 *   npx tsx scripts/okta-spec-runner.ts <export.json> [<export.json> …] \
 *     --url http://127.0.0.1:9000/source/scim/<slug>/v2 --token <source token> [--timing]
 *
 * Runscope's initial variables are not part of an export; the runner defines them (random
 * user names, a non-existent id, `auth`). Pause steps are skipped. Response-time assertions
 * are reported as skipped unless --timing is given. An empty source is seeded with one
 * user and one group first (the suites read existing ones).
 *
 * Exit code 0 when every failed assertion is one this runner's EXPECTED_FAILURES lists for
 * that export, 1 otherwise.
 */
import { deepStrictEqual, ok } from 'node:assert'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { runInNewContext } from 'node:vm'

export const MATERIAL_DIR = join(import.meta.dirname, '../../shared/scim-test-material')
export const CURRENT_SUITE = join(import.meta.dirname, '../fixtures/okta/spec-test-current.json')

export interface RunscopeAssertion {
  source: 'response_status' | 'response_json' | 'response_time' | string
  comparison: string
  property?: string
  value: string | null
}

export interface RunscopeStep {
  step_type: 'request' | 'pause' | string
  note?: string
  method?: string
  url?: string
  headers?: Record<string, string | string[]>
  body?: string
  assertions?: RunscopeAssertion[]
  variables?: { source: string; property: string; name: string }[]
  scripts?: string[]
}

export interface RunscopeSuite {
  name: string
  exported_at?: number
  description?: string
  steps: RunscopeStep[]
}

export interface CheckResult {
  /** `<step note> › <source> [<property>] <comparison> [<value>]` */
  key: string
  status: 'passed' | 'failed' | 'skipped'
  message?: string
}

export interface SuiteResult {
  name: string
  requests: number
  checks: CheckResult[]
  failed: CheckResult[]
  /** Failed checks that are not in the expected list given to the run. */
  unexpected: CheckResult[]
  /** Expected failures that passed. */
  unexpectedPasses: string[]
}

export interface RunOptions {
  /** SCIM base URL of the source, e.g. http://127.0.0.1:9000/source/scim/okta/v2 */
  url: string
  token: string
  /** Evaluate response-time assertions (off by default: timing is not conformance). */
  timing?: boolean
  /** Overrides of the suite's initial variables. */
  variables?: Record<string, string>
  /** Failed-check keys that are deliberate, with the reason. */
  expectedFailures?: Readonly<Record<string, string>>
}

const CASE_CHECK_2017 =
  'Required Test: Username Case Sensitivity Check › response_status equal_number 400'

/**
 * Checks of the old exports scimd fails on purpose, per export file name, with the reason.
 * The current suite (client-traces.md §2.3) has none.
 */
export const EXPECTED_FAILURES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'okta-SCIM-20-SPEC-Test.2016.json': {},
  'okta-SCIM-20-SPEC-Test.2017.json': {
    [CASE_CHECK_2017]:
      'userName is caseExact false (RFC 7643 §4.1.1), so `userName eq "<CAPS>"` matches the ' +
      'user and answers 200; current Okta (client-traces §2.3 R9) expects 200 too.',
    'Required Test: Test Users endpoint › response_json Resources[0].emails[0].value equal {{randomUsername}}':
      'The export contradicts itself: it creates the user with emails[0].value = ' +
      '{{randomEmail}}, and a later step requires `userName eq "{{randomEmail}}"` to match ' +
      'nothing, so randomEmail cannot equal randomUsername; scimd returns the email it was sent.',
  },
  'spec-test-current.json': {},
}

/** Runscope's initial variables for the suite (not part of an export). */
export function initialVariables(url: string, token: string): Record<string, string> {
  const tag = randomBytes(5).toString('hex')
  const username = `runscope${tag}username@atko.com`
  return {
    SCIMBaseURL: url.replace(/\/+$/, ''),
    auth: `Bearer ${token}`,
    randomUsername: username,
    randomUsernameCaps: username.toUpperCase(),
    randomEmail: `runscope${tag}email@atko.com`,
    randomGivenName: `Given${tag}`,
    randomFamilyName: `Family${tag}`,
    InvalidUserEmail: `abcdefgh${tag}@atko.com`,
    UserIdThatDoesNotExist: '010101001010101011001010101011',
  }
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole)
}

/**
 * Reads a Runscope JSON property path (`Resources[0].emails.value`). A property applied to
 * an array is applied to each element, as Runscope does for `emails.value`.
 */
export function readProperty(json: unknown, path: string): unknown {
  const tokens = path.match(/[^.[\]]+|\[\d+\]/g) ?? []
  let current: unknown = json
  for (const token of tokens) {
    if (current === undefined || current === null) return undefined
    const index = /^\[(\d+)\]$/.exec(token)
    if (index) {
      current = Array.isArray(current) ? current[Number(index[1])] : undefined
    } else if (Array.isArray(current)) {
      current = current
        .map((item) =>
          item && typeof item === 'object' ? (item as Record<string, unknown>)[token] : undefined,
        )
        .filter((v) => v !== undefined)
    } else if (typeof current === 'object') {
      current = (current as Record<string, unknown>)[token]
    } else {
      return undefined
    }
  }
  return current
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true
  if (Array.isArray(value)) return value.length === 0
  if (typeof value === 'object') return Object.keys(value).length === 0
  return false
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Evaluates one comparison; returns an error message or undefined when it holds. */
export function compare(comparison: string, actual: unknown, expected: string | null) {
  switch (comparison) {
    case 'equal':
      return asText(actual) === expected ? undefined : `${asText(actual)} ≠ ${expected}`
    case 'equal_number':
      return Number(actual) === Number(expected) ? undefined : `${asText(actual)} ≠ ${expected}`
    case 'not_empty':
      return isEmpty(actual) ? `empty (${asText(actual)})` : undefined
    case 'has_value':
    case 'contains': {
      // has_value without a value (Okta's `emails.value`) asks for at least one value.
      if (expected === null) return isEmpty(actual) ? `no value (${asText(actual)})` : undefined
      if (Array.isArray(actual)) {
        return actual.some((v) => asText(v) === expected)
          ? undefined
          : `${asText(actual)} lacks ${expected}`
      }
      return typeof actual === 'string' && actual.includes(expected)
        ? undefined
        : `${asText(actual)} lacks ${expected}`
    }
    case 'is_a_number':
      return typeof actual === 'number' ? undefined : `${asText(actual)} is not a JSON number`
    case 'is_less_than':
      return Number(actual) < Number(expected) ? undefined : `${asText(actual)} ≥ ${expected}`
    default:
      return `unsupported comparison ${comparison}`
  }
}

function describe(a: RunscopeAssertion): string {
  return [a.source, a.property, a.comparison, a.value ?? undefined]
    .filter((part) => part !== undefined && part !== '')
    .join(' ')
}

function headerValues(headers: RunscopeStep['headers'], vars: Record<string, string>) {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    result[name] = substitute(Array.isArray(value) ? value.join(', ') : value, vars)
  }
  return result
}

/**
 * Seeds the source when it is empty: every version of the suite starts by reading an
 * existing user, and the 2016 export's Groups script fails unless a group exists.
 */
async function ensureSeedData(vars: Record<string, string>): Promise<void> {
  const base = vars.SCIMBaseURL ?? ''
  const headers = {
    Authorization: vars.auth ?? '',
    Accept: 'application/scim+json',
    'Content-Type': 'application/scim+json',
  }
  const tag = randomBytes(4).toString('hex')
  const seeds: [string, Record<string, unknown>][] = [
    [
      'Users',
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `seed.${tag}@atko.com`,
        name: { givenName: 'Seed', familyName: 'User' },
        emails: [{ primary: true, value: `seed.${tag}@atko.com`, type: 'work' }],
        active: true,
      },
    ],
    [
      'Groups',
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Seed ${tag}` },
    ],
  ]
  for (const [endpoint, body] of seeds) {
    const list = await fetch(`${base}/${endpoint}?count=1&startIndex=1`, { headers })
    const { totalResults } = (await list.json()) as { totalResults?: number }
    if ((totalResults ?? 0) > 0) continue
    const res = await fetch(`${base}/${endpoint}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    })
    if (res.status !== 201) throw new Error(`could not seed ${endpoint}: ${res.status}`)
  }
}

export async function runRunscopeSuite(
  suite: RunscopeSuite,
  options: RunOptions,
): Promise<SuiteResult> {
  const vars = { ...initialVariables(options.url, options.token), ...options.variables }
  await ensureSeedData(vars)
  const checks: CheckResult[] = []
  const seenNotes = new Map<string, number>()
  let requests = 0

  for (const step of suite.steps) {
    if (step.step_type !== 'request' || !step.url || !step.method) continue
    const note = (step.note ?? `${step.method} ${step.url}`).trim()
    const count = (seenNotes.get(note) ?? 0) + 1
    seenNotes.set(note, count)
    const label = count === 1 ? note : `${note} #${count}`

    const started = performance.now()
    const response = await fetch(new URL(substitute(step.url, vars)), {
      method: step.method,
      headers: headerValues(step.headers, vars),
      ...(step.body !== undefined && step.method !== 'GET'
        ? { body: substitute(step.body, vars) }
        : {}),
    })
    const text = await response.text()
    const elapsed = performance.now() - started
    requests += 1
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }

    for (const assertion of step.assertions ?? []) {
      const key = `${label} › ${describe(assertion)}`
      if (assertion.source === 'response_time' && !options.timing) {
        checks.push({ key, status: 'skipped', message: 'response time not checked' })
        continue
      }
      const actual =
        assertion.source === 'response_status'
          ? response.status
          : assertion.source === 'response_time'
            ? elapsed
            : assertion.source === 'response_json'
              ? readProperty(json, assertion.property ?? '')
              : undefined
      const expected = assertion.value === null ? null : substitute(assertion.value, vars)
      const failure = compare(assertion.comparison, actual, expected)
      checks.push(
        failure
          ? { key, status: 'failed', message: `${response.status}: ${failure}` }
          : { key, status: 'passed' },
      )
    }

    for (const [i, script] of (step.scripts ?? []).entries()) {
      const key = `${label} › script ${i + 1}`
      try {
        runInNewContext(script, {
          response: { body: text, status: response.status },
          assert: { ok, equal: deepStrictEqual },
          log: () => {},
        })
        checks.push({ key, status: 'passed' })
      } catch (err) {
        checks.push({
          key,
          status: 'failed',
          message: err instanceof Error ? err.message : String(err),
        })
      }
    }

    for (const capture of step.variables ?? []) {
      if (capture.source !== 'response_json') continue
      const value = readProperty(json, capture.property)
      if (value !== undefined && value !== null) vars[capture.name] = asText(value)
    }
  }

  const expected = options.expectedFailures ?? {}
  const failed = checks.filter((c) => c.status === 'failed')
  const failedKeys = new Set(failed.map((c) => c.key))
  return {
    name: suite.name,
    requests,
    checks,
    failed,
    unexpected: failed.filter((c) => !(c.key in expected)),
    unexpectedPasses: Object.keys(expected).filter((key) => !failedKeys.has(key)),
  }
}

/** Runs one export file with the expected failures this runner documents for it. */
export async function runSuiteFile(path: string, options: RunOptions): Promise<SuiteResult> {
  const suite = JSON.parse(readFileSync(path, 'utf8')) as RunscopeSuite
  return runRunscopeSuite(suite, {
    expectedFailures: EXPECTED_FAILURES[basename(path)] ?? {},
    ...options,
  })
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      timing: { type: 'boolean', default: false },
    },
  })
  const url = values.url ?? process.env.SCIM_URL
  const token = values.token ?? process.env.SCIM_TOKEN
  if (!url || !token) {
    process.stderr.write(
      'usage: okta-spec-runner.ts [export.json …] --url <SCIM base URL> --token <token>\n',
    )
    process.exit(2)
  }
  const files =
    positionals.length > 0
      ? positionals
      : [
          join(MATERIAL_DIR, 'okta-SCIM-20-SPEC-Test.2016.json'),
          join(MATERIAL_DIR, 'okta-SCIM-20-SPEC-Test.2017.json'),
          CURRENT_SUITE,
        ]
  let allOk = true
  for (const file of files) {
    const result = await runSuiteFile(file, { url, token, timing: values.timing ?? false })
    const expected = EXPECTED_FAILURES[basename(file)] ?? {}
    const passed = result.checks.filter((c) => c.status === 'passed').length
    const skipped = result.checks.filter((c) => c.status === 'skipped').length
    process.stdout.write(
      `${basename(file)}: ${result.requests} requests, ${passed} passed, ` +
        `${result.failed.length} failed, ${skipped} skipped\n`,
    )
    for (const c of result.failed) {
      const tag = c.key in expected ? 'expected' : 'UNEXPECTED'
      process.stdout.write(`  [${tag}] ${c.key}: ${c.message ?? ''}\n`)
    }
    for (const key of result.unexpectedPasses) {
      process.stdout.write(`  [PASSED, expected to fail] ${key}\n`)
    }
    allOk &&= result.unexpected.length === 0 && result.unexpectedPasses.length === 0
  }
  process.stdout.write(allOk ? 'OK\n' : 'FAILED\n')
  process.exit(allOk ? 0 : 1)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  })
}
