/**
 * The filters identity providers send on every sync are answered through indexes: SQLite's
 * EXPLAIN QUERY PLAN of both the count and the page query names the index, and no query
 * scans a connection table (issue 4, design.md "What filters need fast").
 */
import { CompiledQuery } from 'kysely'
import { describe, expect, it } from 'vitest'
import { parseFilter } from '../../src/scim/filter/parse.js'
import {
  GROUP_RESOURCE,
  type ResourceSchema,
  USER_RESOURCE,
} from '../../src/scim/schema/resource-types.js'
import { queryContext } from '../../src/services/search.js'
import { compileFilter } from '../../src/store/query/compile.js'
import { isIndexNarrowed } from '../../src/store/query/index-hints.js'
import { sortExpression } from '../../src/store/query/sort-keys.js'
import * as store from '../../src/store/scim-resources/pages.js'
import { findSourceBySlug } from '../../src/store/sources.js'
import { createTestApp, isPostgres, type TestApp } from '../support/app.js'

type Query = { compile(): CompiledQuery }

async function plan(t: TestApp, query: Query): Promise<string[]> {
  const compiled = query.compile()
  const result = await t.runtime.deps.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
  )
  return result.rows.map((r) => r.detail)
}

async function setup() {
  const t = await createTestApp()
  for (let i = 0; i < 20; i++) {
    await t.scim('POST', '/Users', {
      userName: `user${i}`,
      displayName: `User ${i}`,
      externalId: `ext${i}`,
      emails: [{ value: `user${i}@example.com`, type: 'work' }],
    })
  }
  await t.scim('POST', '/Groups', { displayName: 'Team' })
  const source = await findSourceBySlug(t.runtime.deps.db, t.slug)
  if (!source) throw new Error('no source')
  const plans = async (resource: ResourceSchema, text: string, sortBy?: string) => {
    const ctx = queryContext(t.runtime.deps, source, resource)
    const filter = parseFilter(text)
    const where = compileFilter(filter, ctx)
    const page = {
      where,
      offset: 0,
      limit: 100,
      narrowed: isIndexNarrowed(filter, ctx),
      sort: sortBy ? sortExpression(sortBy, 'ascending', ctx) : undefined,
    }
    const isUser = resource === USER_RESOURCE
    return {
      count: await plan(
        t,
        isUser
          ? store.selectResourceCount(t.runtime.deps.db, 'scim_source_users', source.id, where)
          : store.selectResourceCount(t.runtime.deps.db, 'scim_source_groups', source.id, where),
      ),
      page: await plan(
        t,
        isUser
          ? store.selectResourcePage(t.runtime.deps.db, 'scim_source_users', source.id, page)
          : store.selectResourcePage(t.runtime.deps.db, 'scim_source_groups', source.id, page),
      ),
    }
  }
  return { plans }
}

const BARE_SCAN = /^SCAN (r|scim_source_users|scim_source_groups|scim_source_user_emails)\b/

describe.skipIf(isPostgres)('SQLite query plans of the hot filters', () => {
  it('uses an index for id, userName, externalId, emails.value, displayName, members.value and meta.lastModified', async () => {
    const { plans } = await setup()
    const cases: Array<[ResourceSchema, string, RegExp]> = [
      [USER_RESOURCE, 'id eq "x"', /USING (COVERING )?INDEX \S+ \((source_id=\? AND )?id=\?\)/],
      [
        USER_RESOURCE,
        'userName eq "USER1"',
        /INDEX scim_source_users_name_key \(source_id=\? AND user_name_key=\?\)/,
      ],
      [
        USER_RESOURCE,
        'userName sw "user1"',
        /INDEX scim_source_users_name_key \(source_id=\? AND user_name_key>\? AND user_name_key<\?\)/,
      ],
      [
        USER_RESOURCE,
        'externalId eq "ext1"',
        /INDEX scim_source_users_external_idx \(source_id=\? AND external_id=\?\)/,
      ],
      [
        USER_RESOURCE,
        'emails.value eq "user1@example.com"',
        /INDEX scim_source_user_emails_value_idx \(source_id=\? AND value_key=\?\)/,
      ],
      [
        USER_RESOURCE,
        'emails[type eq "work"].value eq "user1@example.com"',
        /INDEX scim_source_user_emails_value_idx \(source_id=\? AND value_key=\?\)/,
      ],
      [
        USER_RESOURCE,
        'displayName eq "user 1"',
        /INDEX scim_source_users_display_name_idx \(source_id=\? AND <expr>=\?\)/,
      ],
      [
        GROUP_RESOURCE,
        'displayName eq "team"',
        /INDEX scim_source_groups_name_key \(source_id=\? AND display_name_key=\?\)/,
      ],
      [GROUP_RESOURCE, 'members.value eq "x"', /INDEX group_members_user_idx \(user_id=\?\)/],
      [GROUP_RESOURCE, 'members[value eq "x"]', /INDEX group_members_user_idx \(user_id=\?\)/],
      [
        USER_RESOURCE,
        'meta.lastModified gt "2024-01-01T00:00:00Z"',
        /INDEX scim_source_users_modified_idx \(source_id=\? AND last_modified>\?\)/,
      ],
      [
        GROUP_RESOURCE,
        'meta.lastModified ge "2024-01-01"',
        /INDEX scim_source_groups_modified_idx \(source_id=\? AND last_modified>\?\)/,
      ],
      [
        USER_RESOURCE,
        'userName eq "user1" and title co "x"',
        /INDEX scim_source_users_name_key \(source_id=\? AND user_name_key=\?\)/,
      ],
    ]
    for (const [resource, filter, index] of cases) {
      const { count, page } = await plans(resource, filter)
      for (const [name, steps] of [
        ['count', count],
        ['page', page],
      ] as const) {
        const label = `${resource.name} ${filter} (${name}): ${steps.join(' | ')}`
        expect(
          steps.some((s) => index.test(s)),
          label,
        ).toBe(true)
        expect(
          steps.some((s) => BARE_SCAN.test(s)),
          label,
        ).toBe(false)
      }
    }
  })

  it('reads a sorted page in index order when sorting by userName', async () => {
    const { plans } = await setup()
    const { page } = await plans(USER_RESOURCE, 'userName pr', 'userName')
    const steps = page.join(' | ')
    expect(steps).toMatch(/INDEX scim_source_users_name_key \(source_id=\?\)/)
    expect(steps).not.toMatch(/TEMP B-TREE FOR ORDER BY/)
  })
})
