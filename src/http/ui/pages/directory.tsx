/**
 * What sources provisioned (their users and groups, each with its stored SCIM document) and
 * the directory itself: users and groups, searched and paged on the server; local ones
 * created, edited and deleted here, and a local group's members added and removed.
 */
import { type Context, Hono } from 'hono'
import type { Child } from 'hono/jsx'
import type { DirectoryGroup, DirectoryUser, Source } from '../../../core/domain.js'
import * as browse from '../../../services/browse.js'
import * as connections from '../../../services/connections.js'
import * as directory from '../../../services/directory.js'
import * as local from '../../../services/local-directory.js'
import * as sources from '../../../services/sources.js'
import { PAGE_SIZE, searchTerm } from '../forms.js'
import { Badge, NewButton, Notice, PostButton, page, SearchForm, UI_BASE, when } from '../layout.js'
import { doneNotice, frame, listParams } from '../request.js'
import type { UiEnv } from '../security.js'
import { PagedTable, type PagerProps } from '../table.js'

const sourceHref = (slug: string, rest = '') =>
  `${UI_BASE}/sources/${encodeURIComponent(slug)}${rest}`
const userHref = (pk: number) => `${UI_BASE}/users/${pk}`
const groupHref = (id: string, rest = '') => `${UI_BASE}/groups/${encodeURIComponent(id)}${rest}`

/** The notices a change leaves on the page it returns to (`?done=`). */
const DONE: Record<string, string> = {
  saved: 'Saved.',
  created: 'Created.',
  'user-deleted': 'User deleted.',
  'group-deleted': 'Group deleted.',
  added: 'Member added.',
  removed: 'Member removed.',
}

/** Why an object is read-only here: the admin API's 403, shown before anyone tries. */
function ReadOnly(props: { reason: string }) {
  return (
    <Notice kind="warn">
      <strong>Read-only.</strong> {props.reason}
    </Notice>
  )
}

/** The Edit and Delete… buttons of a local user's or group's page. */
function EditDelete(props: { href: string }) {
  return (
    <div class="actions">
      <a class="button" href={`${props.href}/edit`}>
        Edit
      </a>
      <a class="button" href={`${props.href}/delete`}>
        Delete…
      </a>
    </div>
  )
}

/** The directory's list of users or of groups: New, the ?done= notice, search, then `table`. */
function listPage(c: Context<UiEnv>, list: 'Users' | 'Groups', search: string, table: Child) {
  const kind = list === 'Users' ? 'user' : 'group'
  return page({
    title: list,
    section: list === 'Users' ? 'users' : 'groups',
    ...frame(c),
    actions: <NewButton href={`${UI_BASE}/new/${kind}`} label={`New ${kind}`} />,
    children: (
      <>
        {doneNotice(c, DONE)}
        <SearchForm
          action={`${UI_BASE}/${list.toLowerCase()}`}
          q={listParams(c).q}
          label={search}
        />
        {table}
      </>
    ),
  })
}

/**
 * A directory user's or group's page: Edit and Delete… unless it is read-only here (then the
 * reason), the ?done= notice, then `children`.
 */
function objectPage(
  c: Context<UiEnv>,
  list: 'Users' | 'Groups',
  name: string,
  href: string,
  readOnly: string | undefined,
  children: Child,
) {
  return page({
    title: name,
    section: list === 'Users' ? 'users' : 'groups',
    ...frame(c),
    crumbs: [{ label: list, href: `${UI_BASE}/${list.toLowerCase()}` }, { label: name }],
    actions: readOnly ? undefined : <EditDelete href={href} />,
    children: (
      <>
        {doneNotice(c, DONE)}
        {readOnly ? <ReadOnly reason={readOnly} /> : null}
        {children}
      </>
    ),
  })
}

/** Users as a table; `action` adds a last column (the Remove button of a local group). */
function UserTable(props: {
  users: DirectoryUser[]
  q: string
  pager?: PagerProps
  action?: (u: DirectoryUser) => Child
}) {
  const columns = ['Username', 'Name', 'Email', 'Status', ...(props.action ? ['Actions'] : [])]
  return (
    <PagedTable
      columns={columns}
      empty={props.q ? 'No users match.' : 'No users yet.'}
      rows={props.users.map((u) => (
        <tr>
          <td>
            <a href={userHref(u.pk)}>{u.username}</a>
          </td>
          <td>{u.name}</td>
          <td>{u.email}</td>
          <td>
            <Badge on={u.isActive} yes="Active" no="Inactive" />
          </td>
          {props.action ? <td>{props.action(u)}</td> : null}
        </tr>
      ))}
      {...(props.pager ? { pager: props.pager } : {})}
    />
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

/**
 * The members of a group, searched and paged (a group may have a million). For a local group
 * (`csrf` given) each row has a Remove button.
 */
async function membersSection(c: Context<UiEnv>, groupId: string, base: string, csrf?: string) {
  const { q, page: pageNo } = listParams(c)
  const members = await browse.listGroupMembers(c.get('deps'), groupId, {
    term: q,
    page: pageNo,
    pageSize: PAGE_SIZE,
  })
  const remove =
    csrf === undefined
      ? undefined
      : (u: DirectoryUser) => (
          <PostButton
            action={groupHref(groupId, '/members/remove')}
            csrf={csrf}
            label="Remove"
            ariaLabel={`Remove ${u.username}`}
            fields={{ user: String(u.pk) }}
          />
        )
  return (
    <section aria-labelledby="members">
      <h2 id="members">Members ({members.count})</h2>
      <SearchForm action={base} q={q} label="Search members by username, name or email" />
      <UserTable
        users={members.items}
        q={q}
        pager={{ base, q, page: pageNo, count: members.count }}
        {...(remove ? { action: remove } : {})}
      />
    </section>
  )
}

/** How many users an "add member" search lists (refine the search for more). */
const CANDIDATES = 10

/**
 * Adding a member to a local group: a username prefix (or UUID) searched through the
 * directory's username index, each match with an Add button. A GET form, so it works
 * without script; the Add buttons are POSTs.
 */
async function addMemberSection(c: Context<UiEnv>, groupId: string, csrf: string) {
  const find = searchTerm(c.req.query('find'))
  const found = find
    ? await browse.listDirectoryUsers(c.get('deps'), {
        term: find,
        page: 1,
        pageSize: CANDIDATES,
      })
    : undefined
  return (
    <section class="panel" aria-labelledby="add">
      <h2 id="add">Add a member</h2>
      <form class="bar" method="get" action={groupHref(groupId)}>
        <label class="grow" for="find">
          <span class="skip">Start of a username, or a UUID</span>
          <input
            type="search"
            id="find"
            name="find"
            value={find}
            placeholder="Start of a username, or a UUID"
          />
        </label>
        <button type="submit">Find users</button>
      </form>
      {found ? (
        <>
          <PagedTable
            caption="Users found"
            columns={['Username', 'Name', 'Email', 'Path', 'Add']}
            empty="No user's username starts with this."
            rows={found.items.map((u) => (
              <tr>
                <td>
                  <a href={userHref(u.pk)}>{u.username}</a>
                </td>
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td class="mono">{u.path}</td>
                <td>
                  <PostButton
                    action={groupHref(groupId, '/members/add')}
                    csrf={csrf}
                    label={`Add ${u.username}`}
                    fields={{ user: String(u.pk) }}
                  />
                </td>
              </tr>
            ))}
          />
          {found.count > found.items.length ? (
            <p class="hint">
              {found.count} users match; the first {found.items.length} are shown. Type more of the
              username.
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  )
}

/** The way back from what a source provisioned: Sources › the source › its users or groups. */
function provisionedCrumbs(slug: string, what: 'Users' | 'Groups', name?: string) {
  const source = [
    { label: 'Sources', href: `${UI_BASE}/sources` },
    { label: slug, href: sourceHref(slug) },
  ]
  if (name === undefined) return [...source, { label: what }]
  return [
    ...source,
    { label: what, href: sourceHref(slug, `/${what.toLowerCase()}`) },
    { label: name },
  ]
}

/** The users or the groups a source provisioned, searched and paged. */
function provisionedPage(
  c: Context<UiEnv>,
  source: Source,
  what: 'Users' | 'Groups',
  table: { search: string; columns: string[]; rows: Child[]; count: number },
) {
  const { q, page: pageNo } = listParams(c)
  const base = sourceHref(source.slug, `/${what.toLowerCase()}`)
  const noun = what.toLowerCase()
  return page({
    title: `${what} provisioned by ${source.name}`,
    section: 'sources',
    ...frame(c),
    crumbs: provisionedCrumbs(source.slug, what),
    children: (
      <>
        <SearchForm action={base} q={q} label={table.search} />
        <PagedTable
          columns={table.columns}
          empty={q ? `No ${noun} match.` : `No ${noun} yet.`}
          rows={table.rows}
          pager={{ base, q, page: pageNo, count: table.count }}
        />
      </>
    ),
  })
}

/** A provisioned object as its source sent it: ids, `children` (more fields), the document. */
function AsSent(props: {
  record: { id: string; externalId: string | null; document: unknown }
  children: Child
}) {
  return (
    <section class="panel" aria-labelledby="scim">
      <h2 id="scim">As the source sent it</h2>
      <dl class="fields">
        <dt>SCIM id</dt>
        <dd class="mono">{props.record.id}</dd>
        <dt>externalId</dt>
        <dd class="mono">{props.record.externalId ?? '—'}</dd>
        {props.children}
      </dl>
      <h3>Stored SCIM document</h3>
      <pre>
        <code>{JSON.stringify(props.record.document, null, 2)}</code>
      </pre>
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
    return c.html(
      provisionedPage(c, source, 'Users', {
        search: 'Start of userName, or a SCIM id, externalId or email',
        columns: ['userName', 'Name', 'externalId', 'Status', 'Last change'],
        rows: list.items.map((u) => (
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
        )),
        count: list.count,
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
    return c.html(
      provisionedPage(c, source, 'Groups', {
        search: 'Start of displayName, or a SCIM id or externalId',
        columns: ['displayName', 'externalId', 'Last change'],
        rows: list.items.map((g) => (
          <tr>
            <td>
              <a href={`${UI_BASE}/source-groups/${encodeURIComponent(g.record.id)}`}>
                {g.group.name}
              </a>
            </td>
            <td class="mono">{g.record.externalId ?? '—'}</td>
            <td>{when(g.record.lastModified)}</td>
          </tr>
        )),
        count: list.count,
      }),
    )
  })

  app.get('/source-users/:id', async (c) => {
    const deps = c.get('deps')
    const found = await connections.getUserConnection(deps, c.req.param('id'))
    const detail = await directory.getUser(deps, String(found.user.pk))
    return c.html(
      page({
        title: found.user.username,
        section: 'sources',
        ...frame(c),
        crumbs: provisionedCrumbs(found.sourceSlug, 'Users', found.user.username),
        children: (
          <>
            <section class="panel" aria-labelledby="dir">
              <h2 id="dir">Directory fields</h2>
              <UserFields user={detail.user} groups={detail.groups} />
            </section>
            <AsSent record={found.record}>
              <dt>Created</dt>
              <dd>{when(found.record.created)}</dd>
              <dt>Last modified</dt>
              <dd>{when(found.record.lastModified)}</dd>
              <dt>Version</dt>
              <dd>{found.record.version}</dd>
            </AsSent>
          </>
        ),
      }),
    )
  })

  app.get('/source-groups/:id', async (c) => {
    const found = await connections.getGroupConnection(c.get('deps'), c.req.param('id'))
    const base = `${UI_BASE}/source-groups/${encodeURIComponent(found.record.id)}`
    const members = await membersSection(c, found.group.id, base)
    return c.html(
      page({
        title: found.group.name,
        section: 'sources',
        ...frame(c),
        crumbs: provisionedCrumbs(found.sourceSlug, 'Groups', found.group.name),
        children: (
          <>
            <AsSent record={found.record}>
              <dt>Directory group</dt>
              <dd>
                <a href={groupHref(found.group.id)}>{found.group.name}</a>
              </dd>
              <dt>Last modified</dt>
              <dd>{when(found.record.lastModified)}</dd>
            </AsSent>
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
      listPage(
        c,
        'Users',
        'Start of username, or a UUID',
        <UserTable users={list.items} q={q} pager={{ base, q, page: pageNo, count: list.count }} />,
      ),
    )
  })

  app.get('/users/:pk', async (c) => {
    const deps = c.get('deps')
    const detail = await directory.getUser(deps, c.req.param('pk'))
    const [provisioned, readOnly] = await Promise.all([
      connections.listUserConnections(deps, {
        filter: { userPk: detail.user.pk },
        order: [],
        page: 1,
        pageSize: 10,
      }),
      local.userReadOnlyReason(deps, String(detail.user.pk)),
    ])
    const href = userHref(detail.user.pk)
    return c.html(
      objectPage(
        c,
        'Users',
        detail.user.username,
        href,
        readOnly,
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
        </>,
      ),
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
      listPage(
        c,
        'Groups',
        'Search group names',
        <PagedTable
          columns={['Name', 'Superuser', 'Parents']}
          empty={q ? 'No groups match.' : 'No groups yet.'}
          rows={list.items.map((g) => (
            <tr>
              <td>
                <a href={groupHref(g.group.id)}>{g.group.name}</a>
              </td>
              <td>{g.group.isSuperuser ? 'Yes' : 'No'}</td>
              <td>{g.parents.length}</td>
            </tr>
          ))}
          pager={{ base, q, page: pageNo, count: list.count }}
        />,
      ),
    )
  })

  app.get('/groups/:id', async (c) => {
    const deps = c.get('deps')
    const detail = await directory.getGroup(deps, c.req.param('id'))
    const readOnly = await local.groupReadOnlyReason(deps, detail.group.id)
    const csrf = c.get('session').csrfToken
    const base = groupHref(detail.group.id)
    const members = await membersSection(c, detail.group.id, base, readOnly ? undefined : csrf)
    const adding = readOnly ? null : await addMemberSection(c, detail.group.id, csrf)
    return c.html(
      objectPage(
        c,
        'Groups',
        detail.group.name,
        base,
        readOnly,
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
          {adding}
          {members}
        </>,
      ),
    )
  })

  return app
}
