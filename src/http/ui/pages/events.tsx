/** Events (the audit log): newest first, filtered by action, user, source or free text. */
import { Hono } from 'hono'
import * as events from '../../../services/events.js'
import { PAGE_SIZE, pageNumber, searchTerm } from '../forms.js'
import { page, UI_BASE, when } from '../layout.js'
import { frame } from '../request.js'
import type { UiEnv } from '../security.js'
import { PagedTable } from '../table.js'

const ACTIONS = [
  'model_created',
  'model_updated',
  'model_deleted',
  'secret_view',
  'secret_rotate',
  'login_failed',
  'suspicious_request',
  'configuration_error',
  'property_mapping_exception',
  'system_task_execution',
  'system_task_exception',
  'custom_sync_object',
  'system_exception',
]

/** A short line for an event's context: the model it names, else its message. */
function summary(context: Record<string, unknown>): string {
  const model = context.model as { model_name?: unknown; name?: unknown } | undefined
  if (model && typeof model === 'object') return `${String(model.model_name)} ${String(model.name)}`
  const message = context.message ?? context.reason
  return typeof message === 'string' ? message : ''
}

export function eventPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => {
    const q = searchTerm(c.req.query('q'))
    const action = ACTIONS.includes(c.req.query('action') ?? '') ? c.req.query('action') : undefined
    const username = searchTerm(c.req.query('username'))
    const source = searchTerm(c.req.query('source'))
    const pageNo = pageNumber(c.req.query('page'))
    const list = await events.listEvents(c.get('deps'), {
      filter: {
        action,
        username: username || undefined,
        source: source || undefined,
        search: q || undefined,
      },
      order: [],
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const params = (n: number) => {
      const p = new URLSearchParams()
      if (q) p.set('q', q)
      if (action) p.set('action', action)
      if (username) p.set('username', username)
      if (source) p.set('source', source)
      p.set('page', String(n))
      return `${UI_BASE}/events?${p}`
    }
    const pages = Math.max(1, Math.ceil(list.count / PAGE_SIZE))
    return c.html(
      page({
        title: 'Events',
        section: 'events',
        ...frame(c),
        children: (
          <>
            <form class="filters panel" method="get" action={`${UI_BASE}/events`}>
              <div class="field">
                <label for="f-action">Action</label>
                <select id="f-action" name="action">
                  <option value="">Any</option>
                  {ACTIONS.map((a) => (
                    <option value={a} selected={a === action}>
                      {a}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="f-username">User</label>
                <input type="text" id="f-username" name="username" value={username} />
              </div>
              <div class="field">
                <label for="f-source">Source slug</label>
                <input type="text" id="f-source" name="source" value={source} />
              </div>
              <div class="field">
                <label for="f-q">Text</label>
                <input type="search" id="f-q" name="q" value={q} />
              </div>
              <button type="submit">Filter</button>
            </form>
            <PagedTable
              columns={['When', 'Action', 'User', 'What', 'Client IP']}
              empty="No events match."
              rows={list.items.map((e) => (
                <tr>
                  <td>{when(e.created)}</td>
                  <td class="mono">{e.action}</td>
                  <td>{e.user?.username ?? '—'}</td>
                  <td>{summary(e.context)}</td>
                  <td class="mono">{e.clientIp ?? '—'}</td>
                </tr>
              ))}
            />
            {list.count > 0 ? (
              <nav class="pager" aria-label="Pages">
                <span>{list.count} events</span>
                {pageNo > 1 ? (
                  <a href={params(Math.min(pageNo - 1, pages))} rel="prev">
                    ← Newer
                  </a>
                ) : null}
                {pageNo < pages ? (
                  <a href={params(pageNo + 1)} rel="next">
                    Older →
                  </a>
                ) : null}
              </nav>
            ) : null}
          </>
        ),
      }),
    )
  })
  return app
}
