/**
 * Replays a client's documented request sequence (`fixtures/<client>/sequence.json`) against
 * a test app and checks every response the client depends on.
 *
 * Sequence format:
 * - `headers`: sent on every request as the client sends them (`null` in a step drops one).
 * - each step: `name`, `method`, `path` (relative to the source's /v2 base; `{{var}}`
 *   placeholders), `body` (a fixture file: `name.json` in the client's folder or
 *   `<client>/name.json`; or an inline JSON value), `bodyText` (raw text), `replace`
 *   (literal ids in the fixture → `{{var}}`, so recorded ids become this run's ids),
 *   `capture` (`var` → dotted path in the response body), `expect`.
 * - `expect.status`; `expect.headers` (exact values after substitution; `$absent`);
 *   `expect.body`: a subset of the response body: objects match by the keys given, arrays
 *   match element for element in any order and with the same length, `$present` and
 *   `$absent` test presence.
 * Every response is also checked for what scimd promises all clients: a JSON body with
 * `application/scim+json` (unless the step expects another type), no `null` anywhere, and
 * an empty body on 204.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestApp } from '../../support/app.js'
import { BASE } from '../../support/app.js'

const FIXTURES = join(import.meta.dirname, '../../../fixtures')
const SCIM_JSON = 'application/scim+json; charset=utf-8'

export interface Step {
  name: string
  method: string
  path: string
  headers?: Record<string, string | null>
  body?: unknown
  bodyText?: string
  replace?: Record<string, string>
  capture?: Record<string, string>
  expect: {
    status: number
    headers?: Record<string, string>
    body?: unknown
  }
}

export interface Sequence {
  client: string
  source: string
  headers?: Record<string, string>
  steps: Step[]
}

export interface ReplayResult {
  /** One line per broken expectation: `<step>: <what>`; empty when the client is served. */
  problems: string[]
  vars: Record<string, string>
  /** Parsed response bodies by step name. */
  bodies: Map<string, unknown>
  steps: number
}

export function loadSequence(client: string): Sequence {
  return JSON.parse(readFileSync(join(FIXTURES, client, 'sequence.json'), 'utf8')) as Sequence
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole)
}

function substituteDeep(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return substitute(value, vars)
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, vars))
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [substitute(k, vars), substituteDeep(v, vars)]),
    )
  }
  return value
}

function requestBody(client: string, step: Step, vars: Record<string, string>) {
  if (step.bodyText !== undefined) return substitute(step.bodyText, vars)
  if (step.body === undefined) return undefined
  let text: string
  if (typeof step.body === 'string' && step.body.endsWith('.json')) {
    const file = step.body.includes('/') ? step.body : `${client}/${step.body}`
    text = readFileSync(join(FIXTURES, file), 'utf8')
  } else {
    text = JSON.stringify(step.body)
  }
  for (const [from, to] of Object.entries(step.replace ?? {})) {
    text = text.split(from).join(substitute(to, vars))
  }
  return substitute(text, vars)
}

export function readPath(value: unknown, path: string): unknown {
  let current = value
  for (const part of path.split(/\.(?![^[]*\])/)) {
    const index = /^(.*)\[(\d+)\]$/.exec(part)
    const key = index ? index[1] : part
    if (current === null || typeof current !== 'object') return undefined
    current = key === '' ? current : (current as Record<string, unknown>)[key as string]
    if (index) current = Array.isArray(current) ? current[Number(index[2])] : undefined
  }
  return current
}

/** Differences between an actual value and an expected subset (see the module comment). */
export function mismatches(actual: unknown, expected: unknown, path = 'body'): string[] {
  if (expected === '$absent') {
    return actual === undefined ? [] : [`${path} should be absent, got ${JSON.stringify(actual)}`]
  }
  if (expected === '$present') return actual === undefined ? [`${path} is missing`] : []
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path} should be an array, got ${JSON.stringify(actual)}`]
    if (actual.length !== expected.length) {
      return [
        `${path} has ${actual.length} elements, expected ${expected.length}: ${JSON.stringify(actual)}`,
      ]
    }
    const unused = [...actual]
    const problems: string[] = []
    for (const [i, want] of expected.entries()) {
      const at = unused.findIndex((candidate) => mismatches(candidate, want).length === 0)
      if (at === -1)
        problems.push(`${path}[${i}] ${JSON.stringify(want)} not in ${JSON.stringify(actual)}`)
      else unused.splice(at, 1)
    }
    return problems
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${path} should be an object, got ${JSON.stringify(actual)}`]
    }
    return Object.entries(expected).flatMap(([key, want]) =>
      mismatches((actual as Record<string, unknown>)[key], want, `${path}.${key}`),
    )
  }
  return Object.is(actual, expected)
    ? []
    : [`${path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`]
}

function nullPaths(value: unknown, path = 'body'): string[] {
  if (value === null) return [path]
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`))
  if (typeof value === 'object') {
    return Object.entries(value as object).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`))
  }
  return []
}

export async function replay(
  t: TestApp,
  client: string,
  initial: Record<string, string> = {},
  /** Runs after each step (the provider tests push and compare there). */
  afterStep?: (index: number, step: Step) => Promise<void>,
): Promise<ReplayResult> {
  const sequence = loadSequence(client)
  const base = `${BASE}/source/scim/${t.slug}/v2`
  const vars: Record<string, string> = { base, ...initial }
  const problems: string[] = []
  const bodies = new Map<string, unknown>()

  for (const [i, step] of sequence.steps.entries()) {
    const label = `${i + 1}. ${step.name} (${step.method} ${step.path})`
    const headers: Record<string, string> = { Authorization: `Bearer ${t.key}` }
    for (const [name, value] of Object.entries({ ...sequence.headers, ...step.headers })) {
      if (value === null) {
        for (const existing of Object.keys(headers)) {
          if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing]
        }
      } else {
        headers[name] = substitute(value, vars)
      }
    }
    const body = requestBody(client, step, vars)
    const res = await t.app.request(new URL(`${base}${substitute(step.path, vars)}`).toString(), {
      method: step.method,
      headers,
      ...(body === undefined ? {} : { body }),
    })
    const text = await res.text()
    let json: unknown
    if (text !== '') {
      try {
        json = JSON.parse(text)
      } catch {
        problems.push(`${label}: response is not JSON: ${text.slice(0, 200)}`)
      }
    }
    bodies.set(step.name, json)
    for (const [name, path] of Object.entries(step.capture ?? {})) {
      const value = readPath(json, path)
      if (typeof value === 'string') vars[name] = value
      else problems.push(`${label}: nothing to capture at ${path}`)
    }
    await afterStep?.(i, step)

    const want = step.expect
    if (res.status !== want.status) {
      problems.push(
        `${label}: status ${res.status}, expected ${want.status}: ${text.slice(0, 300)}`,
      )
      continue
    }
    const expectedHeaders = substituteDeep(want.headers ?? {}, vars) as Record<string, string>
    if (res.status === 204) {
      if (text !== '') problems.push(`${label}: 204 with a body`)
    } else if (
      text !== '' &&
      !Object.keys(expectedHeaders).some((h) => h.toLowerCase() === 'content-type')
    ) {
      expectedHeaders['content-type'] = SCIM_JSON
    }
    for (const [name, value] of Object.entries(expectedHeaders)) {
      const got = res.headers.get(name)
      if (value === '$absent' ? got !== null : got !== value) {
        problems.push(`${label}: header ${name} is ${JSON.stringify(got)}, expected ${value}`)
      }
    }
    if (json !== undefined) {
      for (const path of nullPaths(json)) problems.push(`${label}: ${path} is null`)
    }
    if (want.body !== undefined) {
      for (const m of mismatches(json, substituteDeep(want.body, vars))) {
        problems.push(`${label}: ${m}`)
      }
    }
  }
  return { problems, vars, bodies, steps: sequence.steps.length }
}
