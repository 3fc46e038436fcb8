/**
 * The benchmark's reference server: a bare Hono app on @hono/node-server, no SCIM machinery.
 * - `GET /` answers a tiny JSON (the ceiling of the stack on this machine).
 * - `GET /offset-page` answers the same SCIM list page scimd's deep page does with one
 *   hand-written `COUNT` and one `LIMIT … OFFSET` query on scimd's own database (the OFFSET
 *   baseline).
 * - `GET /minimal/Users/<id>` and `GET /minimal/Users?filter=userName eq "…"` are issue 8's
 *   hand-rolled minimal server: one prepared SELECT on scimd's table and the row as JSON
 *   with id and meta; no authentication, no groups, no filter parser, no error format.
 */
import { serve } from '@hono/node-server'
import SQLite from 'better-sqlite3'
import { Hono } from 'hono'
import pg from 'pg'

const port = Number(process.env.BENCH_PORT)
const databaseUrl = process.env.BENCH_DATABASE_URL ?? ''
const sourceId = process.env.BENCH_SOURCE_ID ?? ''

interface Row {
  id: string
  external_id: string | null
  resource: string
  created: string
  last_modified: string
  version: number
}

interface Page {
  total: number
  rows: Row[]
}

const COLUMNS = 'id, external_id, resource, created, last_modified, version'

interface Queries {
  page(offset: number, limit: number): Promise<Page>
  byId(id: string): Promise<Row | undefined>
  byUserNameKey(key: string): Promise<Row | undefined>
}

/** Opened on first use: the database is seeded after this process starts. */
function openQueries(): Queries {
  const byId = `select ${COLUMNS} from scim_source_users where source_id = $1 and id = $2`
  const byName = `select ${COLUMNS} from scim_source_users where source_id = $1 and user_name_key = $2`
  if (databaseUrl.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
    const one = async (text: string, value: string) =>
      (await pool.query<Row>(text, [sourceId, value])).rows[0]
    return {
      page: async (offset, limit) => {
        const [count, page] = await Promise.all([
          pool.query<{ n: string }>(
            'select count(*) as n from scim_source_users where source_id = $1',
            [sourceId],
          ),
          pool.query<Row>(
            `select ${COLUMNS} from scim_source_users where source_id = $1
             order by id limit $2 offset $3`,
            [sourceId, limit, offset],
          ),
        ])
        return { total: Number(count.rows[0]?.n ?? 0), rows: page.rows }
      },
      byId: (id) => one(byId, id),
      byUserNameKey: (key) => one(byName, key),
    }
  }
  const db = new SQLite(databaseUrl.replace(/^sqlite:/, ''), { readonly: true })
  const count = db.prepare('select count(*) as n from scim_source_users where source_id = ?')
  const page = db.prepare(
    `select ${COLUMNS} from scim_source_users where source_id = ? order by id limit ? offset ?`,
  )
  const sqlite = (text: string) => {
    const statement = db.prepare(text.replace(/\$\d/g, '?'))
    return async (value: string) => statement.get(sourceId, value) as Row | undefined
  }
  return {
    page: async (offset, limit) => ({
      total: (count.get(sourceId) as { n: number }).n,
      rows: page.all(sourceId, limit, offset) as Row[],
    }),
    byId: sqlite(byId),
    byUserNameKey: sqlite(byName),
  }
}

/** A row as a SCIM User: the stored document with id, externalId and meta. */
function toResource(r: Row, origin: string): Record<string, unknown> {
  return {
    ...(JSON.parse(r.resource) as Record<string, unknown>),
    id: r.id,
    ...(r.external_id !== null ? { externalId: r.external_id } : {}),
    meta: {
      resourceType: 'User',
      created: r.created,
      lastModified: r.last_modified,
      location: `${origin}/Users/${r.id}`,
      version: `W/"${r.version}"`,
    },
  }
}

function listResponse(resources: unknown[], total: number, startIndex: number) {
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  }
}

/** The origin for meta.location, from the Host header (wrk always sends one). */
const originOf = (host: string | undefined) => `http://${host ?? 'localhost'}`

const SCIM_JSON = { 'Content-Type': 'application/scim+json; charset=utf-8' }

let queries: Queries | undefined

const app = new Hono()

app.get('/', (c) => c.json({ status: 'ok' }))

app.get('/offset-page', async (c) => {
  queries ??= openQueries()
  const startIndex = Math.max(1, Number(c.req.query('startIndex') ?? 1))
  const count = Math.min(1000, Math.max(0, Number(c.req.query('count') ?? 100)))
  const { total, rows } = await queries.page(startIndex - 1, count)
  const origin = originOf(c.req.header('host'))
  const resources = rows.map((r) => toResource(r, origin))
  return c.body(JSON.stringify(listResponse(resources, total, startIndex)), 200, SCIM_JSON)
})

app.get('/minimal/Users/:id', async (c) => {
  queries ??= openQueries()
  const row = await queries.byId(c.req.param('id'))
  if (!row) return c.json({ status: '404' }, 404)
  return c.body(JSON.stringify(toResource(row, originOf(c.req.header('host')))), 200, SCIM_JSON)
})

app.get('/minimal/Users', async (c) => {
  queries ??= openQueries()
  const userName = /^userName eq "(.*)"$/.exec(c.req.query('filter') ?? '')?.[1]
  if (userName === undefined) return c.json({ status: '400' }, 400)
  const row = await queries.byUserNameKey(userName.toLowerCase())
  const resources = row ? [toResource(row, originOf(c.req.header('host')))] : []
  return c.body(JSON.stringify(listResponse(resources, resources.length, 1)), 200, SCIM_JSON)
})

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port })
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
