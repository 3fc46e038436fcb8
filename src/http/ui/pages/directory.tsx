/**
 * What sources provisioned (their users and groups, each with its stored SCIM document) and
 * the directory itself (users and groups, a group's members): read-only, searched and paged
 * on the server.
 */
import { type Context, Hono } from 'hono'
import type { DirectoryGroup, DirectoryUser } from '../../../core/domain.js'
import * as browse from '../../../services/browse.js'
import * as connections from '../../../services/connections.js'
import * as directory from '../../../services/directory.js'
import * as sources from '../../../services/sources.js'
import { PAGE_SIZE, pageNumber, searchTerm } from '../forms.js'
import { Badge, Pager, page, SearchForm, UI_BASE, when } from '../layout.js'
import type { UiEnv } from '../security.js'

const sourceHref = (slug: string, rest = '') =>
  `${UI_BASE}/sources/${encodeURIComponent(slug)}${rest}`
const userHref = (pk: number) => `${UI_BASE}/users/${pk}`
const groupHref = (id: string) => `${UI_BASE}/groups/${encodeURIComponent(id)}`

function listParams(c: Context<UiEnv>) {
  return { q: searchTerm(c.req.query('q')), page: pageNumber(c.req.query('page')) }
}

function frame(c: Context<UiEnv>) {
  return { csrf: c.get('session').csrfToken, username: c.get('session').user.username }
}

function Empty(props: { cols: number; q: string; what: string }) {
  return (
    <tr>
      <td colspan={props.cols} class="empty">
        {props.q ? `No ${props.what} match.` : `No ${props.what} yet.`}
      </td>
    </tr>
  )
}

function UserRows(props: { users: DirectoryUser[]; q: string }) {
  if (props.users.length === 0) return <Empty cols={4} q={props.q} what="users" />
  return (
    <>
      {props.users.map((u) => (
        <tr>
          <td>
            <a href={userHref(u.pk)}>{u.username}</a>
          </td>
          <td>{u.name}</td>
          <td>{u.email}</td>
          <td>
            <Badge on={u.isActive} yes="Active" no="Inactive" />
          </td>
        </tr>
      ))}
    </>
  )
}

function UserTable(props: { users: DirectoryUser[]; q: string }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Username</th>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          <UserRows users={props.users} q={props.q} />
        </tbody>
      </table>
    </div>
  )
}

function UserFields(props: { user: DirectoryUser; groups: DirectoryGroup[] }) {
  const { user } = props
  return (
    <dl class="fields">
      <dt>Username</dt>
      <dd class="mono">{user.username}</dd>
      <dt>Name</dt>
      <dd>{user.name || '—'}</dd>
      <dt>Email</dt>
      <dd>{user.email || '—'}</dd>
      <dt>Status</dt>
      <dd>
        <Badge on={user.isActive} yes="Active" no="Inactive" />
      </dd>
      <dt>Type</dt>
      <dd>{user.type}</dd>
      <dt>Path</dt>
      <dd class="mono">{user.path}</dd>
      <dt>UUID</dt>
      <dd class="mono">{user.uuid}</dd>
      <dt>Primary key</dt>
      <dd class="mono">{user.pk}</dd>
      <dt>Joined</dt>
      <dd>{when(user.dateJoined)}</dd>
      <dt>Last updated</dt>
      <dd>{when(user.lastUpdated)}</dd>
      <dt>Groups</dt>
      <dd>
        {props.groups.length === 0
          ? '—'
          : props.groups.map((g, i) => (
              <>
                {i > 0 ? ', ' : ''}
                <a href={groupHref(g.id)}>{g.name}</a>
              </>
            ))}
      </dd>
    </dl>
  )
}

/** The members of a group, searched and paged (a group may have a million). */
async function membersSection(c: Context<UiEnv>, groupId: string, base: string) {
  const { q, page: pageNo } = listParams(c)
  const members = await browse.listGroupMembers(c.get('deps'), groupId, {
    term: q,
    page: pageNo,
    pageSize: PAGE_SIZE,
  })
  return (
    <section aria-labelledby="members">
      <h2 id="members">Members ({members.count})</h2>
      <SearchForm action={base} q={q} label="Search members by username, name or email" />
      <UserTable users={members.items} q={q} />
      <Pager
        base={base}
        q={q}
        page={pageNo}
        pageSize={PAGE_SIZE}
        count={members.count}
        shown={members.items.length}
      />
    </section>
  )
}

export function directoryPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  // ---- what a source provisioned ------------------------------------------------------------

  app.get('/sources/:slug/users', async (c) => {
    const { source } = await sources.getSource(c.get('deps'), c.req.param('slug'))
    const { q, page: pageNo } = listParams(c)
    const list = await browse.listSourceUsers(c.get('deps'), source.slug, {
      term: q,
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const base = sourceHref(source.slug, '/users')
    return c.html(
      page({
        title: `Users provisioned by ${source.name}`,
        section: 'sources',
        ...frame(c),
        crumbs: [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: source.slug, href: sourceHref(source.slug) },
          { label: 'Users' },
        ],
        children: (
          <>
            <SearchForm
              action={base}
              q={q}
              label="Start of userName, or a SCIM id, externalId or email"
            />
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">userName</th>
                    <th scope="col">Name</th>
                    <th scope="col">externalId</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last change</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.length === 0 ? (
                    <Empty cols={5} q={q} what="users" />
                  ) : (
                    list.items.map((u) => (
                      <tr>
                        <td>
                          <a href={`${UI_BASE}/source-users/${encodeURIComponent(u.record.id)}`}>
                            {u.user.username}
                          </a>
                        </td>
                        <td>{u.user.name}</td>
                        <td class="mono">{u.record.externalId ?? '—'}</td>
                        <td>
                          <Badge on={u.user.isActive} yes="Active" no="Inactive" />
                        </td>
                        <td>{when(u.record.lastModified)}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <Pager
              base={base}
              q={q}
              page={pageNo}
              pageSize={PAGE_SIZE}
              count={list.count}
              shown={list.items.length}
            />
          </>
        ),
      }),
    )
  })

  app.get('/sources/:slug/groups', async (c) => {
    const { source } = await sources.getSource(c.get('deps'), c.req.param('slug'))
    const { q, page: pageNo } = listParams(c)
    const list = await browse.listSourceGroups(c.get('deps'), source.slug, {
      term: q,
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const base = sourceHref(source.slug, '/groups')
    return c.html(
      page({
        title: `Groups provisioned by ${source.name}`,
        section: 'sources',
        ...frame(c),
        crumbs: [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: source.slug, href: sourceHref(source.slug) },
          { label: 'Groups' },
        ],
        children: (
          <>
            <SearchForm
              action={base}
              q={q}
              label="Start of displayName, or a SCIM id or externalId"
            />
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">displayName</th>
                    <th scope="col">externalId</th>
                    <th scope="col">Last change</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.length === 0 ? (
                    <Empty cols={3} q={q} what="groups" />
                  ) : (
                    list.items.map((g) => (
                      <tr>
                        <td>
                          <a href={`${UI_BASE}/source-groups/${encodeURIComponent(g.record.id)}`}>
                            {g.group.name}
                          </a>
                        </td>
                        <td class="mono">{g.record.externalId ?? '—'}</td>
                        <td>{when(g.record.lastModified)}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <Pager
              base={base}
              q={q}
              page={pageNo}
              pageSize={PAGE_SIZE}
              count={list.count}
              shown={list.items.length}
            />
          </>
        ),
      }),
    )
  })

  app.get('/source-users/:id', async (c) => {
    const deps = c.get('deps')
    const found = await connections.getUserConnection(deps, c.req.param('id'))
    const detail = await directory.getUser(deps, String(found.user.pk))
    const slug = found.sourceSlug
    return c.html(
      page({
        title: found.user.username,
        section: 'sources',
        ...frame(c),
        crumbs: [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: slug, href: sourceHref(slug) },
          { label: 'Users', href: sourceHref(slug, '/users') },
          { label: found.user.username },
        ],
        children: (
          <>
            <section class="panel" aria-labelledby="dir">
              <h2 id="dir">Directory fields</h2>
              <UserFields user={detail.user} groups={detail.groups} />
            </section>
            <section class="panel" aria-labelledby="scim">
              <h2 id="scim">As the source sent it</h2>
              <dl class="fields">
                <dt>SCIM id</dt>
                <dd class="mono">{found.record.id}</dd>
                <dt>externalId</dt>
                <dd class="mono">{found.record.externalId ?? '—'}</dd>
                <dt>Created</dt>
                <dd>{when(found.record.created)}</dd>
                <dt>Last modified</dt>
                <dd>{when(found.record.lastModified)}</dd>
                <dt>Version</dt>
                <dd>{found.record.version}</dd>
              </dl>
              <h3>Stored SCIM document</h3>
              <pre>
                <code>{JSON.stringify(found.record.document, null, 2)}</code>
              </pre>
            </section>
          </>
        ),
      }),
    )
  })

  app.get('/source-groups/:id', async (c) => {
    const found = await connections.getGroupConnection(c.get('deps'), c.req.param('id'))
    const slug = found.sourceSlug
    const base = `${UI_BASE}/source-groups/${encodeURIComponent(found.record.id)}`
    const members = await membersSection(c, found.group.id, base)
    return c.html(
      page({
        title: found.group.name,
        section: 'sources',
        ...frame(c),
        crumbs: [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: slug, href: sourceHref(slug) },
          { label: 'Groups', href: sourceHref(slug, '/groups') },
          { label: found.group.name },
        ],
        children: (
          <>
            <section class="panel" aria-labelledby="scim">
              <h2 id="scim">As the source sent it</h2>
              <dl class="fields">
                <dt>SCIM id</dt>
                <dd class="mono">{found.record.id}</dd>
                <dt>externalId</dt>
                <dd class="mono">{found.record.externalId ?? '—'}</dd>
                <dt>Directory group</dt>
                <dd>
                  <a href={groupHref(found.group.id)}>{found.group.name}</a>
                </dd>
                <dt>Last modified</dt>
                <dd>{when(found.record.lastModified)}</dd>
              </dl>
              <h3>Stored SCIM document</h3>
              <pre>
                <code>{JSON.stringify(found.record.document, null, 2)}</code>
              </pre>
            </section>
            {members}
          </>
        ),
      }),
    )
  })

  // ---- the directory ------------------------------------------------------------------------

  app.get('/users', async (c) => {
    const { q, page: pageNo } = listParams(c)
    const list = await browse.listDirectoryUsers(c.get('deps'), {
      term: q,
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const base = `${UI_BASE}/users`
    return c.html(
      page({
        title: 'Users',
        section: 'users',
        ...frame(c),
        children: (
          <>
            <SearchForm action={base} q={q} label="Start of username, or a UUID" />
            <UserTable users={list.items} q={q} />
            <Pager
              base={base}
              q={q}
              page={pageNo}
              pageSize={PAGE_SIZE}
              count={list.count}
              shown={list.items.length}
            />
          </>
        ),
      }),
    )
  })

  app.get('/users/:pk', async (c) => {
    const deps = c.get('deps')
    const detail = await directory.getUser(deps, c.req.param('pk'))
    const provisioned = await connections.listUserConnections(deps, {
      filter: { userPk: detail.user.pk },
      order: [],
      page: 1,
      pageSize: 10,
    })
    return c.html(
      page({
        title: detail.user.username,
        section: 'users',
        ...frame(c),
        crumbs: [{ label: 'Users', href: `${UI_BASE}/users` }, { label: detail.user.username }],
        children: (
          <>
            <section class="panel">
              <UserFields user={detail.user} groups={detail.groups} />
            </section>
            <section class="panel" aria-labelledby="prov">
              <h2 id="prov">Provisioned by</h2>
              {provisioned.items.length === 0 ? (
                <p class="muted">No source: this user is scimd's own.</p>
              ) : (
                <ul class="plain">
                  {provisioned.items.map((p) => (
                    <li>
                      <a href={sourceHref(p.sourceSlug)}>{p.sourceSlug}</a> as{' '}
                      <a href={`${UI_BASE}/source-users/${encodeURIComponent(p.record.id)}`}>
                        SCIM user {p.record.id}
                      </a>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </>
        ),
      }),
    )
  })

  app.get('/groups', async (c) => {
    const { q, page: pageNo } = listParams(c)
    const list = await directory.listGroups(c.get('deps'), {
      filter: { search: q || undefined },
      order: [],
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const base = `${UI_BASE}/groups`
    return c.html(
      page({
        title: 'Groups',
        section: 'groups',
        ...frame(c),
        children: (
          <>
            <SearchForm action={base} q={q} label="Search group names" />
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Superuser</th>
                    <th scope="col">Parents</th>
                  </tr>
                </thead>
                <tbody>
                  {list.items.length === 0 ? (
                    <Empty cols={3} q={q} what="groups" />
                  ) : (
                    list.items.map((g) => (
                      <tr>
                        <td>
                          <a href={groupHref(g.group.id)}>{g.group.name}</a>
                        </td>
                        <td>{g.group.isSuperuser ? 'Yes' : 'No'}</td>
                        <td>{g.parents.length}</td>
                      </tr>
                    ))
                  )}
                </tbody>
              </table>
            </div>
            <Pager
              base={base}
              q={q}
              page={pageNo}
              pageSize={PAGE_SIZE}
              count={list.count}
              shown={list.items.length}
            />
          </>
        ),
      }),
    )
  })

  app.get('/groups/:id', async (c) => {
    const detail = await directory.getGroup(c.get('deps'), c.req.param('id'))
    const base = groupHref(detail.group.id)
    const members = await membersSection(c, detail.group.id, base)
    return c.html(
      page({
        title: detail.group.name,
        section: 'groups',
        ...frame(c),
        crumbs: [{ label: 'Groups', href: `${UI_BASE}/groups` }, { label: detail.group.name }],
        children: (
          <>
            <section class="panel">
              <dl class="fields">
                <dt>Name</dt>
                <dd>{detail.group.name}</dd>
                <dt>ID</dt>
                <dd class="mono">{detail.group.id}</dd>
                <dt>Superuser</dt>
                <dd>{detail.group.isSuperuser ? 'Yes: its members are admins' : 'No'}</dd>
                <dt>Member of</dt>
                <dd>{detail.parents.length === 0 ? '—' : `${detail.parents.length} groups`}</dd>
                <dt>Attributes</dt>
                <dd>
                  <code>{JSON.stringify(detail.group.attributes)}</code>
                </dd>
              </dl>
            </section>
            {members}
          </>
        ),
      }),
    )
  })

  return app
}
