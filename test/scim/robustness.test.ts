import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

/**
 * No client input produces a 500 on the SCIM endpoints, and a rejected write changes
 * nothing: random bodies, PATCH operations, filters and query parameters, each answered
 * with a SCIM response (2xx, or a 4xx SCIM error body with status as a string).
 */

const ATTRIBUTE = fc.constantFrom(
  'userName',
  'USERNAME',
  'name',
  'name.givenName',
  'emails',
  'emails[type eq "work"].value',
  'emails[primary eq true]',
  'active',
  'displayName',
  'members',
  'members[value eq "x"]',
  'externalId',
  'id',
  'meta',
  'groups',
  'password',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  'phoneNumbers[type eq "work"].value',
  'addresses',
  'x509Certificates',
  'nope',
  '',
  '[',
  'emails[',
  '__proto__',
)

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    'True',
    'False',
    null,
    [],
    {},
    [{ value: 'x' }],
    { value: 'x' },
    'a\u0000b',
    '\udc00',
  ),
)

/**
 * Strings that have broken servers: NUL (PostgreSQL text), a lone surrogate (PostgreSQL
 * json), prototype names, LIKE wildcards.
 */
const edgyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('a\u0000b', 'a\ud800b', '__proto__', 'constructor', '%_\\', ' ', 'True', 'é'),
)

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(ATTRIBUTE, value, { maxKeys: 6 }),
  fc.record(
    { userName: edgyString, displayName: edgyString, externalId: edgyString, emails: value },
    { requiredKeys: [] },
  ),
)

const operation = fc.record(
  {
    op: fc.constantFrom('add', 'Add', 'replace', 'Replace', 'remove', 'Remove', 'merge', 7),
    path: ATTRIBUTE,
    value,
  },
  { requiredKeys: [] },
)

const patchBody = fc.oneof(
  fc.record({
    schemas: fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']),
    Operations: fc.array(operation, { maxLength: 4 }),
  }),
  fc.jsonValue({ maxDepth: 3 }),
)

const filterText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .tuple(
      ATTRIBUTE,
      fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'xx'),
      fc.oneof(
        fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
        fc.constantFrom('true', 'null', '12', '2020-01-01T00:00:00Z', 'bare', '"%_\\\\"'),
      ),
      fc.constantFrom('', ' and ', ' or ', ' and not ('),
    )
    .map(([a, op, v, join]) => `${a} ${op} ${v}${join}${join ? `${a} pr` : ''}`),
)

function isScimAnswer(status: number, json: unknown): boolean {
  if (status < 400) return true
  const error = json as { schemas?: unknown; status?: unknown }
  return (
    Array.isArray(error.schemas) &&
    error.schemas[0] === 'urn:ietf:params:scim:api:messages:2.0:Error' &&
    error.status === String(status)
  )
}

async function check(t: TestApp, method: string, path: string, payload?: unknown): Promise<void> {
  const res = await t.scim(
    method,
    path,
    payload === undefined ? undefined : JSON.stringify(payload),
  )
  const text = await res.text()
  expect(res.status, `${method} ${path} ${JSON.stringify(payload)}`).toBeLessThan(500)
  if (text) {
    expect(isScimAnswer(res.status, JSON.parse(text)), `${method} ${path} → ${text}`).toBe(true)
  }
}

describe('no SCIM input produces a 500', () => {
  it('survives arbitrary bodies on POST and PUT, and arbitrary PATCH operations', async () => {
    const t = await createTestApp()
    const user = (await (await t.scim('POST', '/Users', { userName: 'anchor' })).json()) as {
      id: string
    }
    const group = (await (await t.scim('POST', '/Groups', { displayName: 'anchor' })).json()) as {
      id: string
    }
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/Users', '/Groups'),
        body,
        patchBody,
        async (collection, created, patch) => {
          const id = collection === '/Users' ? user.id : group.id
          await check(t, 'POST', collection, created)
          await check(t, 'PUT', `${collection}/${id}`, created)
          await check(t, 'PATCH', `${collection}/${id}`, patch)
          await check(t, 'POST', `${collection}/.search`, created)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('survives arbitrary filters, sorts and projections', async () => {
    const t = await createTestApp()
    await t.scim('POST', '/Users', { userName: 'a', emails: [{ value: 'a@x', type: 'work' }] })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/Users', '/Groups', ''),
        filterText,
        ATTRIBUTE,
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.bigInt().map(String),
          // Past 2^53 (inexact) and 2^63 (SQLite's integers), as numbers and in exponent form.
          fc.constantFrom('9223372036854775807', '99999999999999999999', '1e20', '-1e20'),
        ),
        async (collection, filter, attribute, number) => {
          const query = new URLSearchParams({
            filter,
            sortBy: attribute,
            attributes: attribute,
            startIndex: number,
            count: number,
          })
          await check(t, 'GET', `${collection}?${query}`)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('leaves a resource unchanged when a PATCH is rejected', async () => {
    const t = await createTestApp()
    const created = await t.scim('POST', '/Users', {
      userName: 'keep',
      name: { givenName: 'K' },
      emails: [{ value: 'k@x', type: 'work' }],
    })
    const before = (await created.json()) as { id: string }
    let current: unknown = await (await t.scim('GET', `/Users/${before.id}`)).json()
    await fc.assert(
      fc.asyncProperty(patchBody, async (patch) => {
        const res = await t.scim('PATCH', `/Users/${before.id}`, JSON.stringify(patch))
        if (res.status >= 400) {
          const after = await (await t.scim('GET', `/Users/${before.id}`)).json()
          expect(after).toEqual(current)
        } else {
          current = await (await t.scim('GET', `/Users/${before.id}`)).json()
        }
      }),
      { numRuns: 150 },
    )
  })
})
