/**
 * An in-memory SCIM 2.0 target on a real port, with switchable quirks from
 * ../shared/reference/scim-targets.md §7. Covers: aws-members-100, aws-replace-members,
 * aws-no-put-group, aws-hidden-members, aws-filter (eq/and only, 404 for an unknown member),
 * aws-paging (cursor), aws-single-valued, aws-patch-user (path required), aws-409;
 * slack-spc-filter, slack-429 (Retry-After), slack-delete (deactivates); and flaky remotes
 * (503s, non-JSON bodies, requests that hang, a remote that goes down after some writes).
 */
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { onTestFinished } from 'vitest'

export interface TargetQuirks {
  aws?: boolean
  slack?: boolean
  /** The next this many requests answer 503 (Retry-After: 0). */
  fail503?: number
  /** The next this many requests answer 200 with an HTML body. */
  failHtml?: number
  /** The next this many requests never answer. */
  hang?: number
  /** Slack-like throttling: every write answers 429 with Retry-After until this many were refused. */
  throttle429?: number
  /** Refuse writes of this userName with 400. */
  refuseUserName?: string
  /** ServiceProviderConfig answers 500 this many times. */
  spcFail?: number
  /** Every write waits this long before it is answered (a slow remote). */
  writeDelayMs?: number
  /** After this many writes were answered, every request answers 503 (a remote that dies). */
  downAfterWrites?: number
}

interface Resource {
  id: string
  [key: string]: unknown
}

export interface LoggedRequest {
  method: string
  path: string
  query: string
  body: unknown
  status: number
}

export interface MemoryTarget {
  url: string
  token: string
  users: Map<string, Resource>
  groups: Map<string, Resource & { members: Array<{ value: string }> }>
  requests: LoggedRequest[]
  quirks: TargetQuirks
  writes(): LoggedRequest[]
  stop(): Promise<void>
}

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'

function error(status: number, detail: string, aws: boolean) {
  // AWS's error body: string status, an extra `schema`, no scimType (scim-targets.md §1).
  return aws
    ? {
        schema: [ERROR],
        schemas: [ERROR],
        detail,
        status: String(status),
        exceptionRequestId: randomUUID(),
      }
    : { schemas: [ERROR], detail, status: String(status) }
}

export async function startMemoryTarget(quirks: TargetQuirks = {}): Promise<MemoryTarget> {
  const token = `target-${randomUUID()}`
  const users = new Map<string, Resource>()
  const groups = new Map<string, Resource & { members: Array<{ value: string }> }>()
  const requests: LoggedRequest[] = []
  const app = new Hono()
  const aws = () => quirks.aws === true
  const fail = (status: number, detail: string) =>
    new Response(JSON.stringify(error(status, detail, aws())), {
      status,
      headers: { 'Content-Type': 'application/scim+json' },
    })
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/scim+json' },
    })

  app.use('*', async (c, next) => {
    let body: unknown
    if (c.req.method !== 'GET' && c.req.method !== 'DELETE')
      body = await c.req.json().catch(() => undefined)
    const url = new URL(c.req.url)
    const entry: LoggedRequest = {
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      body,
      status: 0,
    }
    requests.push(entry)
    if (c.req.header('authorization') !== `Bearer ${token}`) return fail(401, 'bad token')
    if (quirks.hang && quirks.hang > 0) {
      quirks.hang--
      await new Promise(() => {})
    }
    const down =
      quirks.downAfterWrites !== undefined &&
      requests.filter((r) => r.method !== 'GET' && r.status !== 0 && r.status !== 503).length >=
        quirks.downAfterWrites
    if (down || (quirks.fail503 && quirks.fail503 > 0)) {
      if (!down) quirks.fail503 = (quirks.fail503 as number) - 1
      entry.status = 503
      return new Response('unavailable', { status: 503, headers: { 'Retry-After': '0' } })
    }
    if (quirks.failHtml && quirks.failHtml > 0) {
      quirks.failHtml--
      entry.status = 200
      return new Response('<html>proxy</html>', {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
      })
    }
    if (quirks.throttle429 && quirks.throttle429 > 0 && c.req.method !== 'GET') {
      quirks.throttle429--
      entry.status = 429
      return new Response(JSON.stringify(error(429, 'rate limited', false)), {
        status: 429,
        headers: { 'Retry-After': '0' },
      })
    }
    c.set('body' as never, body as never)
    if (quirks.writeDelayMs && c.req.method !== 'GET') {
      await new Promise((resolve) => setTimeout(resolve, quirks.writeDelayMs))
    }
    await next()
    entry.status = c.res.status
    return undefined
  })

  app.get('/v2/ServiceProviderConfig', () => {
    if (quirks.spcFail && quirks.spcFail > 0) {
      quirks.spcFail--
      return fail(500, 'boom')
    }
    return json({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      // Slack and AWS-like: filtering works but is not advertised by Slack.
      filter: { supported: !quirks.slack, maxResults: 100 },
      bulk: { supported: false },
    })
  })

  /** aws-filter: only quoted eq joined by and, on the listed attributes. */
  const parseFilter = (filter: string, allowed: string[]) => {
    const parts = filter.split(/\s+and\s+/i)
    const terms: Array<[string, string]> = []
    for (const part of parts) {
      const m = /^\s*([\w.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(part)
      if (!m) return undefined
      const attr = m[1] as string
      if (!allowed.includes(attr)) return undefined
      terms.push([attr, (m[2] as string).replace(/\\(.)/g, '$1')])
    }
    return terms
  }

  app.get('/v2/Users', (c) => {
    const filter = c.req.query('filter')
    let list = [...users.values()]
    if (filter) {
      const terms = parseFilter(filter, ['userName', 'externalId', 'groups.value', 'id'])
      if (!terms) return fail(400, 'unsupported filter')
      for (const [attr, value] of terms) {
        if (attr === 'groups.value') {
          const g = groups.get(value)
          if (!g) return fail(404, 'no such group')
          list = list.filter((u) => g.members.some((m) => m.value === u.id))
        } else {
          list = list.filter((u) => String(u[attr]).toLowerCase() === value.toLowerCase())
        }
      }
    }
    if (aws() && c.req.query('cursor') !== undefined) {
      // aws-paging: ≤100 per page with nextCursor, including short pages.
      const start = Number(c.req.query('cursor') || 0)
      const page = list.slice(start, start + 37)
      const next = start + page.length < list.length ? String(start + page.length) : undefined
      return json({
        schemas: [LIST],
        totalResults: list.length,
        Resources: page,
        ...(next ? { nextCursor: next } : {}),
      })
    }
    return json({
      schemas: [LIST],
      totalResults: list.length,
      Resources: list.slice(0, aws() ? 50 : 1000),
    })
  })

  app.get('/v2/Groups', (c) => {
    const filter = c.req.query('filter')
    let list = [...groups.values()]
    if (filter) {
      const terms = parseFilter(filter, ['displayName', 'externalId', 'id'])
      if (!terms) return fail(400, 'unsupported filter')
      for (const [attr, value] of terms) list = list.filter((g) => String(g[attr]) === value)
    }
    return json({
      schemas: [LIST],
      totalResults: list.length,
      Resources: list.map((g) => (aws() ? { ...g, members: [] } : g)),
    })
  })

  app.post('/v2/Users', (c) => {
    const body = c.get('body' as never) as Record<string, unknown>
    if (typeof body?.userName !== 'string') return fail(400, 'userName required')
    if (quirks.refuseUserName === body.userName) return fail(400, 'refused by policy')
    if (
      [...users.values()].some(
        (u) => String(u.userName).toLowerCase() === String(body.userName).toLowerCase(),
      )
    ) {
      return fail(409, 'Refused to create a new, duplicate resource.')
    }
    if (aws()) {
      const bad = awsUserProblem(body)
      if (bad) return fail(400, bad)
    }
    const user = { ...body, id: randomUUID() } as Resource
    users.set(user.id, user)
    return json(user, 201)
  })

  app.get('/v2/Users/:id', (c) => {
    const u = users.get(c.req.param('id'))
    return u ? json(u) : fail(404, 'not found')
  })

  app.put('/v2/Users/:id', (c) => {
    const id = c.req.param('id')
    if (!users.has(id)) return fail(404, 'not found')
    const body = c.get('body' as never) as Record<string, unknown>
    const user = { ...body, id } as Resource
    users.set(id, user)
    return json(user)
  })

  app.patch('/v2/Users/:id', (c) => {
    const id = c.req.param('id')
    const user = users.get(id)
    if (!user) return fail(404, 'not found')
    const ops = ((c.get('body' as never) as { Operations?: unknown[] }).Operations ?? []) as Array<
      Record<string, unknown>
    >
    for (const op of ops) {
      const path = op.path as string | undefined
      if (aws() && !path) return fail(400, 'operation without a path')
      if (aws() && op.op === 'remove' && (path === 'userName' || path === 'active'))
        return fail(400, 'cannot remove')
      if (!path) continue
      if (op.op === 'remove') delete user[path]
      else user[path] = op.value
    }
    return json(user)
  })

  app.delete('/v2/Users/:id', (c) => {
    const id = c.req.param('id')
    const user = users.get(id)
    if (!user) return fail(404, 'not found')
    // slack-delete: deactivates; the user stays readable.
    if (quirks.slack) user.active = false
    else users.delete(id)
    for (const g of groups.values()) g.members = g.members.filter((m) => m.value !== id)
    return new Response(null, { status: 204 })
  })

  app.post('/v2/Groups', (c) => {
    const body = c.get('body' as never) as Record<string, unknown>
    if (typeof body?.displayName !== 'string') return fail(400, 'displayName required')
    if ([...groups.values()].some((g) => g.displayName === body.displayName)) {
      return fail(409, 'Refused to create a new, duplicate resource.')
    }
    const members = (Array.isArray(body.members) ? body.members : []) as Array<{ value: string }>
    if (aws() && members.length > 100)
      return fail(400, 'Request is unparsable, syntactically incorrect, or violates schema.')
    const group = { ...body, id: randomUUID(), members: members.map((m) => ({ value: m.value })) }
    groups.set(group.id, group)
    return json(aws() ? { ...group, members: [] } : group, 201)
  })

  app.get('/v2/Groups/:id', (c) => {
    const g = groups.get(c.req.param('id'))
    if (!g) return fail(404, 'not found')
    return json(aws() ? { ...g, members: [] } : g)
  })

  app.put('/v2/Groups/:id', (c) => {
    if (aws()) return fail(404, 'PutGroup is not supported')
    const id = c.req.param('id')
    if (!groups.has(id)) return fail(404, 'not found')
    const body = c.get('body' as never) as Record<string, unknown>
    const members = (Array.isArray(body.members) ? body.members : []) as Array<{ value: string }>
    const group = { ...body, id, members: members.map((m) => ({ value: m.value })) }
    groups.set(id, group)
    return json(group)
  })

  app.patch('/v2/Groups/:id', (c) => {
    const id = c.req.param('id')
    const group = groups.get(id)
    if (!group) return fail(404, 'not found')
    const ops = ((c.get('body' as never) as { Operations?: unknown[] }).Operations ?? []) as Array<
      Record<string, unknown>
    >
    let memberChanges = 0
    for (const op of ops) {
      const path = String(op.path ?? '')
      const values = (Array.isArray(op.value) ? op.value : []) as Array<{ value: string }>
      if (path === 'members' || path.startsWith('members[')) {
        memberChanges += Math.max(values.length, 1)
        if (
          aws() &&
          (op.op === 'replace' || (op.op === 'remove' && values.length === 0 && path === 'members'))
        ) {
          return fail(400, 'replace or remove of all members is not supported')
        }
      }
    }
    if (aws() && memberChanges > 100) {
      return fail(400, 'Request is unparsable, syntactically incorrect, or violates schema.')
    }
    for (const op of ops) {
      const path = String(op.path ?? '')
      const values = (Array.isArray(op.value) ? op.value : []) as Array<{ value: string }>
      if (path === 'members' && op.op === 'add') {
        for (const v of values)
          if (!group.members.some((m) => m.value === v.value))
            group.members.push({ value: v.value })
      } else if (path === 'members' && op.op === 'remove') {
        const gone = new Set(values.map((v) => v.value))
        group.members = group.members.filter((m) => !gone.has(m.value))
      } else if (path.startsWith('members[') && op.op === 'remove') {
        const m = /value eq "([^"]+)"/.exec(path)
        if (m) group.members = group.members.filter((x) => x.value !== m[1])
      } else if (path && op.op !== 'remove') {
        group[path] = op.value
      }
    }
    return aws() ? new Response(null, { status: 204 }) : json(group)
  })

  app.delete('/v2/Groups/:id', (c) => {
    const id = c.req.param('id')
    if (!groups.delete(id)) return fail(404, 'not found')
    return new Response(null, { status: 204 })
  })

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  const stop = () =>
    new Promise<void>((resolve) => {
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      server.close(() => resolve())
    })
  onTestFinished(stop)
  return {
    url: `http://127.0.0.1:${port}/v2`,
    token,
    users,
    groups,
    requests,
    quirks,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    stop,
  }
}

/** aws-single-valued: one primary email, both name parts, no groups. */
function awsUserProblem(body: Record<string, unknown>): string | undefined {
  const emails = body.emails
  if (
    Array.isArray(emails) &&
    (emails.length > 1 || (emails[0] as { primary?: unknown })?.primary !== true)
  ) {
    return 'emails takes one primary value'
  }
  const name = body.name as Record<string, unknown> | undefined
  if (!name?.givenName || !name?.familyName) return 'givenName and familyName are required'
  if (body.groups !== undefined) return 'groups is not supported'
  return undefined
}
