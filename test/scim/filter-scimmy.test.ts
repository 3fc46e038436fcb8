/**
 * SCIMMY's filter match fixtures (`scim-test-material/scimmy-filter-fixtures.json`, section
 * `match`), written by a team that is not ours, run against the server as a table test.
 * SCIMMY expresses filters as objects; each becomes the filter string it stands for. The
 * fixture's resources become Users: `exists` is `active`, `date` is `meta.created` (set in
 * the database, as clients cannot write it); `number` has no counterpart in the User schema,
 * so those filters must be 400 invalidFilter rather than silently dropped. Where SCIMMY's
 * expectation differs from RFC 7643's case rules, the difference is listed with its reason.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createTestApp } from '../support/app.js'
import { hasMaterial, materialPath } from '../support/material.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are probed field by field
type Json = Record<string, any>
type Case = { expression: unknown; expected: number[] }

const FIXTURES = 'scimmy-filter-fixtures.json'
const available = hasMaterial('SCIMMY filter fixtures', [FIXTURES])
const fixtures = (
  available
    ? JSON.parse(readFileSync(materialPath(FIXTURES), 'utf8'))
    : { match: { source: [], targets: {} } }
) as { match: { source: Json[]; targets: Record<string, Case[]> } }

/** SCIMMY attribute names → scimd's User schema. */
const ATTRIBUTES: Record<string, string> = { exists: 'active', date: 'meta.created' }

function literal(value: unknown): string {
  return JSON.stringify(value)
}

/** `["eq", v]`, `["not", "eq", v]`, `["pr"]`, `["np"]` (SCIMMY's "not present"). */
function comparison(path: string, spec: unknown[]): string {
  const [first, ...rest] = spec
  if (String(first).toLowerCase() === 'not') return `not (${comparison(path, rest)})`
  const op = String(first)
  if (op === 'np') return `not (${path} pr)`
  if (op === 'pr') return `${path} pr`
  return `${path} ${op} ${literal(rest[0])}`
}

function attributeFilter(name: string, spec: unknown): string {
  const path = ATTRIBUTES[name.toLowerCase()] ?? name
  if (Array.isArray(spec)) {
    // [[op, v], [op, v]]: several comparisons on one attribute, all of which must hold.
    if (spec.every((s) => Array.isArray(s))) {
      return spec.map((s) => comparison(path, s as unknown[])).join(' and ')
    }
    // [{sub: …}, ["pr"]]: elements matching the sub-filter exist.
    if (spec[0] !== null && typeof spec[0] === 'object' && !Array.isArray(spec[0])) {
      return `${path}[${objectFilter(spec[0])}]`
    }
    return comparison(path, spec)
  }
  const subs = Object.entries(spec as Json)
  if (subs.length === 1) {
    const [sub, subSpec] = subs[0] as [string, unknown]
    return attributeFilter(`${path}.${sub}`, subSpec)
  }
  // Several sub-attributes of one attribute: SCIMMY matches them on the same element.
  return `${path}[${objectFilter(spec)}]`
}

function objectFilter(expression: unknown): string {
  return Object.entries(expression as Json)
    .map(([name, spec]) => attributeFilter(name, spec))
    .join(' and ')
}

/** A SCIMMY expression (an object, or an array of objects meaning "or") as a filter string. */
function toFilter(expression: unknown): string {
  if (Array.isArray(expression)) return expression.map((e) => `(${objectFilter(e)})`).join(' or ')
  return objectFilter(expression)
}

/**
 * Where RFC 7643 says otherwise than SCIMMY's expectation: userName is caseExact false
 * (§4.1.1), so `userName co "A"` also matches MeganB and `co "a"` also matches AdeleV.
 * Every other fixture filter gets exactly SCIMMY's answer.
 */
const CORRECTED: Record<string, number[]> = {
  'userName co "A"': [1, 2, 4],
  'userName co "A" and name.formatted co "a"': [1, 2, 4],
  '(meta.created gt "2021-09-08") or (userName co "a")': [1, 2, 4],
}

describe.skipIf(!available)('SCIMMY filter match fixtures', () => {
  it('returns the expected resources for every fixture filter', async () => {
    const t = await createTestApp()
    const byFixtureId = new Map<string, number>()
    for (const source of fixtures.match.source) {
      const body: Json = {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: source.userName,
        name: source.name,
        emails: source.emails,
        ...(source.exists === undefined ? {} : { active: source.exists }),
      }
      const res = await t.scim('POST', '/Users', body)
      expect(res.status).toBe(201)
      const { id } = (await res.json()) as Json
      byFixtureId.set(id, source.id)
      await t.runtime.deps.db
        .updateTable('scim_source_users')
        .set({ created: source.date })
        .where('id', '=', id)
        .execute()
    }

    let run = 0
    for (const [section, cases] of Object.entries(fixtures.match.targets)) {
      for (const { expression, expected } of cases) {
        const filter = toFilter(expression)
        const label = `${section}: ${filter}`
        const res = await t.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`)
        const body = (await res.json()) as Json
        run++
        if (/\bnumber\b/.test(filter) || / un /.test(filter)) {
          // `number` is not a User attribute and `un` no operator: an error, never a guess.
          expect(res.status, label).toBe(400)
          expect(body.scimType, label).toBe('invalidFilter')
          continue
        }
        expect(res.status, `${label}: ${JSON.stringify(body)}`).toBe(200)
        const got = (body.Resources as Json[]).map((r) => byFixtureId.get(r.id)).sort()
        expect(got, label).toEqual([...(CORRECTED[filter] ?? expected)].sort())
      }
    }
    expect(run).toBe(Object.values(fixtures.match.targets).flat().length)
  })
})
