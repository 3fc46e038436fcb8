/**
 * The benchmark's reference server: a bare Hono app on @hono/node-server, no SCIM machinery.
 * `GET /` answers a tiny JSON (the ceiling of the stack on this machine); `GET /offset-page`
 * answers the same SCIM list page scimd's deep page does with one hand-written `COUNT` and
 * one `LIMIT … OFFSET` query on scimd's own database (the OFFSET baseline).
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

type PageQuery = (offset: number, limit: number) => Promise<Page>

const COLUMNS = 'id, external_id, resource, created, last_modified, version'

/** Opened on first use: the database is seeded after this process starts. */
function openPageQuery(): PageQuery {
  if (databaseUrl.startsWith('postgres')) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
    return async (offset, limit) => {
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
    }
  }
  const db = new SQLite(databaseUrl.replace(/^sqlite:/, ''), { readonly: true })
  const count = db.prepare('select count(*) as n from scim_source_users where source_id = ?')
  const page = db.prepare(
    `select ${COLUMNS} from scim_source_users where source_id = ? order by id limit ? offset ?`,
  )
  return async (offset, limit) => ({
    total: (count.get(sourceId) as { n: number }).n,
    rows: page.all(sourceId, limit, offset) as Row[],
  })
}

let pageQuery: PageQuery | undefined

const app = new Hono()

app.get('/', (c) => c.json({ status: 'ok' }))

app.get('/offset-page', async (c) => {
  pageQuery ??= openPageQuery()
  const startIndex = Math.max(1, Number(c.req.query('startIndex') ?? 1))
  const count = Math.min(1000, Math.max(0, Number(c.req.query('count') ?? 100)))
  const { total, rows } = await pageQuery(startIndex - 1, count)
  const origin = new URL(c.req.url).origin
  const resources = rows.map((r) => ({
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
  }))
  return c.body(
    JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: total,
      startIndex,
      itemsPerPage: resources.length,
      Resources: resources,
    }),
    200,
    { 'Content-Type': 'application/scim+json; charset=utf-8' },
  )
})

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port })
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
