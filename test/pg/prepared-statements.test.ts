/**
 * On PostgreSQL, prepared queries (src/store/prepared.ts) run as named statements: each
 * connection parses and plans them once. Checked on a pool of one connection, whose
 * pg_prepared_statements lists what that session keeps.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createTestApp, isPostgres } from '../support/app.js'
import { PG_ONLY } from '../support/pg.js'

describe.skipIf(!isPostgres)(`named statements (${PG_ONLY})`, () => {
  it('keeps the SCIM lookups prepared on the connection, and only them', async () => {
    const t = await createTestApp({ env: { SCIMD_PG_POOL_MAX: '1' } })
    const created = await t.scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'ann@example.com',
    })
    const { id } = (await created.json()) as { id: string }
    for (let i = 0; i < 3; i++) expect((await t.scim('GET', `/Users/${id}`)).status).toBe(200)
    // A filter is compiled per request from client text: never kept by name.
    expect((await t.scim('GET', '/Users?filter=displayName eq "x"')).status).toBe(200)

    const { rows } = await sql<{ statement: string }>`
      select statement from pg_prepared_statements`.execute(t.runtime.deps.db)
    const statements = rows.map((r) => r.statement)
    expect(statements.some((s) => s.includes('from "sources" inner join "tokens"'))).toBe(true)
    expect(statements.some((s) => s.includes('as direct_groups'))).toBe(true)
    expect(statements.some((s) => s.includes('displayName'))).toBe(false)
  })

  it('goes on answering after a migration adds a column to a table a statement reads', async () => {
    const t = await createTestApp({ env: { SCIMD_PG_POOL_MAX: '1' } })
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    // The token lookup is prepared now; a later scimd version's migration runs beside it.
    await sql`alter table sources add column later_setting text`.execute(t.runtime.deps.db)
    await sql`alter table scim_source_users add column later_setting text`.execute(
      t.runtime.deps.db,
    )
    expect((await t.scim('GET', '/Users')).status).toBe(200)
    expect((await t.scim('GET', '/Users?filter=userName eq "nobody"')).status).toBe(200)
  })
})
