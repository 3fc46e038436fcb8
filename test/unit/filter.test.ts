/**
 * Filter parsing and compilation without a database: the parse tree of what clients send,
 * the SQL compiled for both dialects (cold Kysely instances), and 400 invalidFilter for
 * everything the schemas do not allow. Behaviour against real databases is in
 * test/scim/filter*.test.ts.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import {
  DummyDriver,
  type Expression,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type SqlBool,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import { describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.js'
import { parseFilter } from '../../src/scim/filter/parse.js'
import { parseDateTime } from '../../src/scim/filter/semantics.js'
import {
  ENTERPRISE_USER_URN,
  GROUP_RESOURCE,
  type ResourceSchema,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'
import type { Database, Dialect } from '../../src/store/database.js'
import { compileFilter } from '../../src/store/query/compile.js'
import type { FilterContext } from '../../src/store/query/context.js'
import { isIndexNarrowed } from '../../src/store/query/index-hints.js'
import { sortExpression } from '../../src/store/query/sort-keys.js'
import { hasMaterial, materialPath } from '../support/material.js'

const sqlite = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
})
const postgres = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
})

function context(dialect: Dialect, resource: ResourceSchema = USER_RESOURCE): FilterContext {
  return { resource, dialect, sourceId: 'src', baseUrl: 'https://idp.test/source/scim/s/v2' }
}

function compiled(filter: string, dialect: Dialect, resource: ResourceSchema = USER_RESOURCE) {
  const where: Expression<SqlBool> = compileFilter(parseFilter(filter), context(dialect, resource))
  const db = dialect === 'sqlite' ? sqlite : postgres
  const query = db.selectFrom('scim_source_users as r').select('r.id').where(where).compile()
  return { sql: query.sql, parameters: query.parameters }
}

function invalidFilter(run: () => unknown): ScimError {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(ScimError)
    expect((err as ScimError).status).toBe(400)
    return err as ScimError
  }
  throw new Error('expected a ScimError')
}

describe('parseFilter', () => {
  it('follows RFC 7644 precedence: not, then and, then or', () => {
    expect(parseFilter('a eq "1" or b eq "2" and not (c pr)')).toEqual({
      op: 'or',
      filters: [
        { op: 'eq', attrPath: 'a', compValue: '1' },
        {
          op: 'and',
          filters: [
            { op: 'eq', attrPath: 'b', compValue: '2' },
            { op: 'not', filter: { op: 'pr', attrPath: 'c' } },
          ],
        },
      ],
    })
  })

  it('reads Entra’s unquoted values as strings unless they are true, false, null or numbers', () => {
    expect(parseFilter('externalId eq jyoung')).toEqual({
      op: 'eq',
      attrPath: 'externalId',
      compValue: 'jyoung',
    })
    expect(
      parseFilter(
        'id eq 54D382A4-2050-4C03-94D1-E769F1D15682 and manager eq 2819c223-7f76-453a-919d-413861904646',
      ),
    ).toEqual({
      op: 'and',
      filters: [
        { op: 'eq', attrPath: 'id', compValue: '54D382A4-2050-4C03-94D1-E769F1D15682' },
        { op: 'eq', attrPath: 'manager', compValue: '2819c223-7f76-453a-919d-413861904646' },
      ],
    })
    expect(parseFilter('active eq True')).toMatchObject({ compValue: true })
    expect(parseFilter('title eq NULL')).toMatchObject({ compValue: null })
    expect(parseFilter('x eq -5')).toMatchObject({ compValue: -5 })
    expect(parseFilter('(x eq -5)')).toMatchObject({ compValue: -5 })
    expect(parseFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')).toMatchObject({
      compValue: '2015-10-10T14:38:21.8617979-07:00',
    })
  })

  it('decodes JSON string escapes in values', () => {
    expect(parseFilter(String.raw`title eq "a\"b\\c\u00e9"`)).toMatchObject({
      compValue: 'a"b\\cé',
    })
  })

  it('keeps `$ref` sub-attributes and keyword-looking values', () => {
    expect(parseFilter('members.$ref co "/Users/"')).toMatchObject({ attrPath: 'members.$ref' })
    expect(parseFilter('title eq "and"')).toMatchObject({ compValue: 'and' })
  })

  it('applies `attr[filter].sub op value` to one element (Entra’s work email)', () => {
    expect(parseFilter('emails[type eq "work"].value eq "a@b.c"')).toEqual({
      op: '[]',
      attrPath: 'emails',
      valFilter: {
        op: 'and',
        filters: [
          { op: 'eq', attrPath: 'type', compValue: 'work' },
          { op: 'eq', attrPath: 'value', compValue: 'a@b.c' },
        ],
      },
    })
  })

  it('gives each filter its own values and tree, however many share a shape', () => {
    const first = parseFilter('userName eq "a@example.com" and active eq true')
    // A caller changing its tree must not change what the next filter of that shape reads.
    ;(first as { filters: unknown[] }).filters.length = 0
    expect(parseFilter('userName eq "b@example.com" and active eq false')).toEqual({
      op: 'and',
      filters: [
        { op: 'eq', attrPath: 'userName', compValue: 'b@example.com' },
        { op: 'eq', attrPath: 'active', compValue: false },
      ],
    })
    expect(parseFilter('userName\teq\u00a0"c"')).toEqual({
      op: 'eq',
      attrPath: 'userName',
      compValue: 'c',
    })
    // A shape that failed to parse fails again: nothing was kept for it.
    for (let i = 0; i < 2; i++) expect(() => parseFilter('userName eq')).toThrow(ScimError)
  })

  it('rejects bad syntax, empty, unterminated, too deep and too long filters with invalidFilter', () => {
    for (const bad of [
      '',
      '   ',
      'userName eq',
      'userName xx "a"',
      '(userName eq "a"',
      'userName eq "a',
      'emails[type eq "work"',
      'AdeleV',
      `${'('.repeat(40)}a pr${')'.repeat(40)}`,
      Array.from({ length: 300 }, (_, i) => `a${i} pr`).join(' or '),
      `a eq "${'x'.repeat(10_001)}"`,
    ]) {
      expect(invalidFilter(() => parseFilter(bad)).scimType, bad).toBe('invalidFilter')
    }
  })

  it.skipIf(!hasMaterial('SCIMMY filter parse fixtures', ['scimmy-filter-fixtures.json']))(
    'answers every filter string of SCIMMY’s parse fixtures with a tree or a 400, never a crash',
    () => {
      const fixtures = JSON.parse(
        readFileSync(materialPath('scimmy-filter-fixtures.json'), 'utf8'),
      ) as { parse: Record<string, Array<{ source: string }>> }
      const sources = Object.values(fixtures.parse).flatMap((cases) => cases.map((c) => c.source))
      expect(sources.length).toBeGreaterThan(40)
      let parsed = 0
      for (const source of sources) {
        try {
          parseFilter(source)
          parsed++
        } catch (err) {
          expect(err, source).toBeInstanceOf(ScimError)
        }
      }
      expect(parsed).toBeGreaterThan(sources.length / 2)
    },
  )

  it('reads `attribute eq "value"` directly into the tree the full parser gives', () => {
    // A tree or the error: two spaces around `eq` take the full parser, one space the direct
    // reading (where the attribute is not an operator's name).
    const outcome = (text: string) => {
      try {
        return parseFilter(text)
      } catch (err) {
        return err
      }
    }
    const same = (attr: string, value: string): void => {
      expect(outcome(`${attr} eq "${value}"`)).toEqual(outcome(`${attr}  eq  "${value}"`))
    }
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z]\w{0,20}$/),
        fc.string({ unit: 'binary', maxLength: 30 }).filter((v) => !/["\\]/.test(v)),
        same,
      ),
      { numRuns: 2000 },
    )
    for (const [attr, value] of [
      ['userName', 'Bjensen@Example.com'],
      ['x', ''],
      ['a_1', 'line\nbreak'],
      ['co', 'x'],
      ['NOT', 'x'],
      ['x__dollar__', 'v'],
    ] as const) {
      same(attr, value)
    }
    expect(parseFilter('userName eq "x"')).toEqual({
      op: 'eq',
      attrPath: 'userName',
      compValue: 'x',
    })
    // What the direct reading leaves to the full parser: escapes, other spacing, `EQ`, paths.
    expect(parseFilter('userName eq "a\\"b"')).toMatchObject({ compValue: 'a"b' })
    expect(parseFilter('userName EQ "x"')).toMatchObject({ op: 'eq', compValue: 'x' })
    expect(parseFilter('name.givenName eq "x"')).toMatchObject({ attrPath: 'name.givenName' })
  })
})

describe('compileFilter', () => {
  it('compares userName through its lower-cased key column (an index)', () => {
    const lite = compiled('userName eq "ÉMILE"', 'sqlite')
    expect(lite.sql).toContain('"r"."user_name_key" = ?')
    expect(lite.parameters).toContain('émile')
    expect(compiled('userName eq "ÉMILE"', 'postgres').sql).toContain('"r"."user_name_key" = $')
  })

  it('folds case-insensitive JSON strings with the same ASCII-only fold on both dialects', () => {
    expect(compiled('displayName eq "Bob"', 'sqlite').sql).toContain(
      `lower(json_extract("r"."resource", '$.displayName')) = ?`,
    )
    expect(compiled('displayName eq "Bob"', 'postgres').sql).toContain(
      `translate((("r"."resource"::jsonb) ->> 'displayName'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = $`,
    )
    expect(compiled('displayName eq "BÖB"', 'sqlite').parameters).toContain('bÖb')
  })

  it('escapes % and _ in co/sw/ew patterns', () => {
    const { sql, parameters } = compiled('title co "50%_off"', 'sqlite')
    expect(sql).toContain(`like ? escape '\\'`)
    expect(parameters).toContain('%50\\%\\_off%')
    expect(compiled('title sw "a\\\\b"', 'postgres').parameters).toContain('a\\\\b%')
  })

  it('tests case-exact substrings without LIKE, which ignores ASCII case in SQLite', () => {
    const lite = compiled('externalId co "Ab"', 'sqlite')
    expect(lite.sql).toContain('instr("r"."external_id", cast(? as text)) > 0')
    expect(lite.sql).not.toContain(' like ')
    expect(compiled('externalId co "Ab"', 'postgres').sql).toContain('strpos(')
    expect(compiled('externalId ew "Ab"', 'sqlite').sql).toContain('substr(')
  })

  it('orders strings by code point on PostgreSQL whatever its collation', () => {
    expect(compiled('title gt "m"', 'postgres').sql).toContain('collate "C"')
    expect(compiled('userName sw "ab"', 'postgres').sql).toContain(
      '("r"."user_name_key" collate "C") >= $',
    )
    // A prefix on the key column is a range the (source_id, user_name_key) index answers.
    expect(compiled('userName sw "ab"', 'sqlite')).toMatchObject({
      sql: expect.stringContaining('"r"."user_name_key" >= ? and "r"."user_name_key" < ?'),
      parameters: expect.arrayContaining(['ab', 'ac']),
    })
  })

  it('reaches extension attributes by their URN on both dialects', () => {
    const filter = `${ENTERPRISE_USER_URN}:manager.value eq "m1"`
    expect(compiled(filter, 'sqlite').sql).toContain(
      `json_extract("r"."resource", '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".manager.value')`,
    )
    expect(compiled(filter, 'postgres').sql).toContain(
      `("r"."resource"::jsonb) -> 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' -> 'manager' ->> 'value'`,
    )
  })

  it('filters multi-valued attributes element by element, through json_each / jsonb_array_elements', () => {
    const filter = 'phoneNumbers[type eq "work" and value sw "+1"]'
    expect(compiled(filter, 'sqlite').sql).toMatch(
      /exists \(select 1 from json_each\("r"\."resource", '\$\.phoneNumbers'\) as j0 where/,
    )
    expect(compiled(filter, 'postgres').sql).toContain('jsonb_array_elements(case when')
  })

  it('narrows email and member filters through their indexed tables', () => {
    expect(compiled('emails.value eq "A@B.C"', 'sqlite')).toMatchObject({
      sql: expect.stringContaining(
        'r.id in (select e.user_id from scim_source_user_emails e where e.source_id = ? and e.value_key = ?)',
      ),
      parameters: expect.arrayContaining(['src', 'a@b.c']),
    })
    const members = compiled('members.value eq "u1"', 'sqlite', GROUP_RESOURCE).sql
    expect(members).toContain('r.id in (select sg.id from group_members gm')
    expect(members).not.toContain('exists')
  })

  it('keeps every comparison two-valued, so `not` is its exact complement', () => {
    expect(compiled('not (title eq "x")', 'sqlite').sql).toContain(
      `(not (json_extract("r"."resource", '$.title') is not null and`,
    )
  })

  it('rejects what the schemas do not allow with 400 invalidFilter', () => {
    const cases: Array<[string, ResourceSchema]> = [
      ['nope eq "x"', USER_RESOURCE],
      ['name.nope eq "x"', USER_RESOURCE],
      ['userName eq "x"', GROUP_RESOURCE],
      ['password eq "secret"', USER_RESOURCE],
      ['active gt true', USER_RESOURCE],
      ['emails.primary co "t"', USER_RESOURCE],
      ['x509Certificates.value gt "a"', USER_RESOURCE],
      ['name eq "x"', USER_RESOURCE],
      ['addresses eq "x"', USER_RESOURCE],
      ['userName co null', USER_RESOURCE],
      ['meta.lastModified gt "yesterday"', USER_RESOURCE],
      ['emails[type eq "work" and nope eq "x"]', USER_RESOURCE],
      ['emails[type eq "work" and phoneNumbers[type eq "x"]]', USER_RESOURCE],
      ['userName[type eq "x"]', USER_RESOURCE],
      [`${ENTERPRISE_USER_URN} pr`, USER_RESOURCE],
    ]
    for (const [filter, resource] of cases) {
      const err = invalidFilter(() =>
        compileFilter(parseFilter(filter), context('sqlite', resource)),
      )
      expect(err.scimType, filter).toBe('invalidFilter')
    }
  })

  it('needs a base URL for meta.location and $ref', () => {
    const ctx: FilterContext = { resource: USER_RESOURCE, dialect: 'sqlite', sourceId: 'src' }
    expect(invalidFilter(() => compileFilter(parseFilter('meta.location pr'), ctx)).detail).toMatch(
      /SCIMD_BASE_URL/,
    )
  })

  it('treats attributes of another searched type as absent (RFC 7644 §3.4.2.1)', () => {
    const ctx: FilterContext = {
      ...context('sqlite', GROUP_RESOURCE),
      alsoSearching: [USER_RESOURCE],
    }
    const where = compileFilter(parseFilter('userName eq "x" or not (manager pr)'), ctx)
    const sql = sqlite.selectFrom('scim_source_groups as r').select('r.id').where(where).compile()
    expect(sql.sql).toContain('(1 = 0 or (not 1 = 0))')
  })
})

describe('isIndexNarrowed', () => {
  it('recognises the hot filters of identity providers', () => {
    const user = context('sqlite')
    for (const f of [
      'userName eq "a"',
      'externalId eq "a" and active eq true',
      'emails[type eq "work"].value eq "a"',
      'meta.lastModified gt "2024-01-01"',
    ]) {
      expect(isIndexNarrowed(parseFilter(f), user), f).toBe(true)
    }
    for (const f of ['title eq "a"', 'userName eq "a" or title eq "b"', 'not (userName eq "a")']) {
      expect(isIndexNarrowed(parseFilter(f), user), f).toBe(false)
    }
    expect(
      isIndexNarrowed(parseFilter('members[value eq "x"]'), context('sqlite', GROUP_RESOURCE)),
    ).toBe(true)
  })
})

describe('parseDateTime', () => {
  it('reads RFC 3339 instants, dates and year-months as UTC instants', () => {
    expect(parseDateTime('2015-10-10T14:38:21.8617979-07:00')).toBe('2015-10-10T21:38:21.861Z')
    expect(parseDateTime('2021-09')).toBe('2021-09-01T00:00:00.000Z')
    expect(parseDateTime('2021-08-05')).toBe('2021-08-05T00:00:00.000Z')
    expect(parseDateTime('0001-01-03T00:00:00.0000000Z')).toBe('0001-01-03T00:00:00.000Z')
    expect(parseDateTime('2021-02-30')).toBeUndefined()
    expect(parseDateTime('yesterday')).toBeUndefined()
  })

  it('refuses an offset beyond 23:59 rather than shifting the instant by it', () => {
    expect(parseDateTime('2025-01-01T00:00:00+23:59')).toBe('2024-12-31T00:01:00.000Z')
    expect(parseDateTime('2025-01-01T00:00:00-0530')).toBe('2025-01-01T05:30:00.000Z')
    for (const bad of [
      '2025-01-01T00:00:00+25:00',
      '2025-01-01T00:00:00-2400',
      '2025-01-01T00:00:00+05:60',
    ]) {
      expect(parseDateTime(bad), bad).toBeUndefined()
    }
  })
})

describe('sortExpression', () => {
  it('sorts case-insensitive strings by their folded form, multi-valued ones by the primary element', () => {
    const ctx = context('sqlite')
    const emails = sortExpression('emails', 'ascending', ctx)
    const sql = sqlite
      .selectFrom('scim_source_users as r')
      .select('r.id')
      .orderBy(emails.expression)
      .compile().sql
    expect(sql).toContain(`json_each("r"."resource", '$.emails')`)
    expect(sql).toContain(`then 0 else 1 end`)
    expect(sortExpression('userName', 'descending', ctx)).toMatchObject({
      descending: true,
      nullable: false,
    })
  })

  it('rejects unknown and complex attributes with 400 invalidValue', () => {
    for (const bad of ['nope', 'name', 'addresses', 'password']) {
      const err = invalidFilter(() => sortExpression(bad, 'ascending', context('sqlite')))
      expect(err.scimType, bad).toBe('invalidValue')
    }
  })
})
