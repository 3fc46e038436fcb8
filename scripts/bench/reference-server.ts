/**
 * Issue 26's hand-rolled reference: Hono + @hono/node-server + better-sqlite3 under `/reference`,
 * one prepared statement per request (a list page: COUNT and one OFFSET query), no token
 * check, no SCIM machinery. Each user is stored as its finished JSON (id and meta included)
 * and sent as is. It has its own SQLite file (always SQLite, whatever database scimd runs
 * on), seeded at start with the same user bodies scimd is seeded with.
 *
 * - `GET /reference/Users?filter=userName eq "…"`: one lookup by (source, user_name_key)
 * - `GET /reference/Users?startIndex=&count=`: COUNT + `LIMIT … OFFSET` over the (source, id)
 *   primary key, the ListResponse made by concatenating the stored texts
 * - `POST /reference/Users`: one prepared insert, its own transaction
 * - `PATCH /reference/Groups/<id>`: adds the first member of the body, one prepared insert
 */
import { randomUUID } from 'node:crypto'
import { serve } from '@hono/node-server'
import SQLite from 'better-sqlite3'
import { Hono } from 'hono'
import { seededUserName, userBody } from './seed.js'

const port = Number(process.env.BENCH_PORT)
const path = process.env.BENCH_REFERENCE_DB ?? ''
const seedCount = Number(process.env.BENCH_REFERENCE_USERS ?? 0)
/** Every row belongs to this one source: the key is (source, id) as scimd's is. */
const SOURCE = 'bench'
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const SCIM_JSON = { 'Content-Type': 'application/scim+json; charset=utf-8' }

const db = new SQLite(path)
// scimd's own durability settings (src/store/connect.ts), so a commit costs the same.
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.exec(`
  create table if not exists users (
    source text not null, id text not null, user_name_key text not null, json text not null,
    primary key (source, id));
  create unique index if not exists users_name on users (source, user_name_key);
  create table if not exists members (
    group_id text not null, user_id text not null, primary key (group_id, user_id));
`)

const insertUser = db.prepare(
  'insert into users (source, id, user_name_key, json) values (?, ?, ?, ?)',
)
const byName = db.prepare('select json from users where source = ? and user_name_key = ?').pluck()
const countUsers = db.prepare('select count(*) from users where source = ?').pluck()
const pageOfUsers = db
  .prepare('select json from users where source = ? order by id limit ? offset ?')
  .pluck()
const insertMember = db.prepare('insert or ignore into members (group_id, user_id) values (?, ?)')

/** The finished resource as stored: the body with id and meta, as a server would answer it. */
function finished(body: Record<string, unknown>, origin: string): { id: string; json: string } {
  const id = randomUUID()
  const now = new Date().toISOString()
  const meta = {
    resourceType: 'User',
    created: now,
    lastModified: now,
    location: `${origin}/reference/Users/${id}`,
    version: 'W/"1"',
  }
  return { id, json: JSON.stringify({ ...body, id, meta }) }
}

const seed = db.transaction((count: number) => {
  for (let i = 0; i < count; i++) {
    const userName = seededUserName(i)
    const { id, json } = finished(userBody(userName, i), `http://127.0.0.1:${port}`)
    insertUser.run(SOURCE, id, userName.toLowerCase(), json)
  }
})
seed(seedCount)

const listResponse = (resources: string[], total: number, startIndex: number) =>
  `{"schemas":["${LIST_RESPONSE}"],"totalResults":${total},"itemsPerPage":${resources.length},` +
  `"startIndex":${startIndex},"Resources":[${resources.join(',')}]}`

const app = new Hono()

app.get('/', (c) => c.json({ status: 'ok' }))

app.get('/reference/Users', (c) => {
  const filter = c.req.query('filter')
  if (filter !== undefined) {
    const userName = /^userName eq "(.*)"$/.exec(filter)?.[1]
    if (userName === undefined) return c.json({ status: '400' }, 400)
    const json = byName.get(SOURCE, userName.toLowerCase()) as string | undefined
    return c.body(listResponse(json ? [json] : [], json ? 1 : 0, 1), 200, SCIM_JSON)
  }
  const startIndex = Math.max(1, Number(c.req.query('startIndex') ?? 1) || 1)
  const count = Math.min(1000, Math.max(0, Number(c.req.query('count') ?? 100) || 0))
  const total = countUsers.get(SOURCE) as number
  const rows = pageOfUsers.all(SOURCE, count, startIndex - 1) as string[]
  return c.body(listResponse(rows, total, startIndex), 200, SCIM_JSON)
})

app.post('/reference/Users', async (c) => {
  const body = (await c.req.json()) as Record<string, unknown>
  const userName = body.userName
  if (typeof userName !== 'string') return c.json({ status: '400' }, 400)
  const { id, json } = finished(body, new URL(c.req.url).origin)
  try {
    insertUser.run(SOURCE, id, userName.toLowerCase(), json)
  } catch {
    return c.json({ status: '409' }, 409)
  }
  return c.body(json, 201, SCIM_JSON)
})

app.patch('/reference/Groups/:id', async (c) => {
  const body = (await c.req.json()) as {
    Operations?: { value?: { value?: string }[] }[]
  }
  const member = body.Operations?.[0]?.value?.[0]?.value
  if (typeof member !== 'string') return c.json({ status: '400' }, 400)
  insertMember.run(c.req.param('id'), member)
  return c.body(null, 204)
})

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port })
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
