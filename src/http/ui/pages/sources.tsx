/** Sources: list, create, show (SCIM URL and token), edit, enable/disable, rotate, delete. */
import { type Context, Hono } from 'hono'
import type { Child } from 'hono/jsx'
import { ScimError } from '../../../scim/errors.js'
import * as browse from '../../../services/browse.js'
import * as sources from '../../../services/sources.js'
import * as tokens from '../../../services/tokens.js'
import { PAGE_SIZE, text, textProblem } from '../forms.js'
import {
  Badge,
  CopyField,
  Counted,
  DeleteOrCancel,
  FormPanel,
  NewButton,
  Notice,
  PostButton,
  page,
  SearchForm,
  TextField,
  UI_BASE,
  when,
} from '../layout.js'
import { doneNotice, frame, listParams } from '../request.js'
import { formBody, type UiEnv, uiOrigin } from '../security.js'
import { PagedTable } from '../table.js'

const href = (slug: string, rest = '') => `${UI_BASE}/sources/${encodeURIComponent(slug)}${rest}`

const DONE: Record<string, string> = {
  updated: 'Source saved.',
  enabled: 'Source enabled: its identity provider can provision again.',
  disabled: 'Source disabled: its token is refused (403) until it is enabled again.',
  deleted: 'Source deleted, with everything it provisioned.',
}

interface SourceForm {
  name?: string | undefined
  slug?: string | undefined
  enabled?: boolean
}
type FormErrors = Partial<Record<'name' | 'slug', string>>

function readForm(body: Record<string, string>): { form: SourceForm; errors: FormErrors } {
  const form = {
    name: text(body, 'name'),
    slug: text(body, 'slug'),
    enabled: body.enabled === 'on',
  }
  const errors: FormErrors = {}
  const nameProblem = textProblem(form.name, 200)
  if (nameProblem) errors.name = nameProblem
  const slugProblem = textProblem(form.slug, 50)
  if (slugProblem) errors.slug = slugProblem
  else if (!sources.SLUG_PATTERN.test(form.slug as string))
    errors.slug = 'Letters, digits, hyphens and underscores only.'
  return { form, errors }
}

function SourceFields(props: { form: SourceForm; errors: FormErrors }) {
  return (
    <>
      <TextField
        name="name"
        label="Name"
        value={props.form.name}
        error={props.errors.name}
        required
      />
      <TextField
        name="slug"
        label="Slug"
        value={props.form.slug}
        error={props.errors.slug}
        required
        hint="Part of the SCIM URL: /source/scim/<slug>/v2. Letters, digits, - and _."
      />
      <div class="field">
        <label class="check">
          <input type="checkbox" name="enabled" checked={props.form.enabled ?? true} />
          Enabled
        </label>
      </div>
    </>
  )
}

/** The detail page; `key` is shown only right after create, rotate or an explicit "view". */
function detailPage(
  c: Context<UiEnv>,
  detail: sources.SourceDetail,
  origin: string,
  options: { key?: string; notice?: Child } = {},
) {
  const { source, token, serviceAccount } = detail
  const csrf = c.get('session').csrfToken
  const scimUrl = `${origin}/source/scim/${encodeURIComponent(source.slug)}/v2`
  return page({
    title: source.name,
    section: 'sources',
    ...frame(c),
    crumbs: [{ label: 'Sources', href: `${UI_BASE}/sources` }, { label: source.slug }],
    children: (
      <>
        {options.notice}
        <section class="panel" aria-labelledby="connect">
          <h2 id="connect">Connect an identity provider</h2>
          <p class="muted">
            Give your identity provider (Entra ID, Okta, …) this SCIM URL and token.
          </p>
          <CopyField id="scim-url" label="SCIM URL" value={scimUrl} />
          {options.key !== undefined ? (
            <CopyField
              id="token"
              label="Token"
              value={options.key}
              hint="Keep it secret: it lets its holder create and delete this source's users."
            />
          ) : (
            <div class="field">
              <span class="muted">Token: hidden. </span>
              {token ? (
                <PostButton action={href(source.slug, '/token')} csrf={csrf} label="View token" />
              ) : (
                <span>none</span>
              )}
            </div>
          )}
          {token ? (
            <PostButton
              action={href(source.slug, '/rotate')}
              csrf={csrf}
              label="Rotate token"
              confirm="Rotate the token? The current one stops working at once; the identity provider needs the new one."
            />
          ) : null}
        </section>
        <section class="panel" aria-labelledby="details">
          <h2 id="details">Details</h2>
          <dl class="fields">
            <dt>Status</dt>
            <dd>
              <Badge on={source.enabled} yes="Enabled" no="Disabled" />
            </dd>
            <dt>Slug</dt>
            <dd class="mono">{source.slug}</dd>
            <dt>Provisioned</dt>
            <dd>
              <a href={href(source.slug, '/users')}>Users</a> ·{' '}
              <a href={href(source.slug, '/groups')}>Groups</a>
            </dd>
            <dt>Service account</dt>
            <dd class="mono">{serviceAccount?.username ?? '—'}</dd>
            <dt>Token identifier</dt>
            <dd class="mono">{token?.identifier ?? '—'}</dd>
            <dt>Created</dt>
            <dd>{when(source.createdAt)}</dd>
            <dt>Last changed</dt>
            <dd>{when(source.updatedAt)}</dd>
          </dl>
          <div class="actions">
            <a class="button" href={href(source.slug, '/edit')}>
              Edit
            </a>
            <PostButton
              action={href(source.slug, '/enabled')}
              csrf={csrf}
              label={source.enabled ? 'Disable' : 'Enable'}
              fields={{ enabled: source.enabled ? '0' : '1' }}
            />
            <a class="button" href={href(source.slug, '/delete')}>
              Delete…
            </a>
          </div>
        </section>
      </>
    ),
  })
}

/** The source form, empty or as sent back with its field errors. */
const formPage = (
  c: Context<UiEnv>,
  title: string,
  action: string,
  form: SourceForm,
  errors: FormErrors,
  crumbs: Array<{ label: string; href?: string }>,
) =>
  page({
    title,
    section: 'sources',
    ...frame(c),
    crumbs,
    children: (
      <FormPanel action={action} csrf={c.get('session').csrfToken} errors={errors}>
        <SourceFields form={form} errors={errors} />
      </FormPanel>
    ),
  })

export function sourcePages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => {
    const { q, page: pageNo } = listParams(c)
    const list = await sources.listSources(c.get('deps'), {
      filter: { search: q || undefined },
      order: [],
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const origin = uiOrigin(c)
    return c.html(
      page({
        title: 'Sources',
        section: 'sources',
        ...frame(c),
        actions: <NewButton href={`${UI_BASE}/new/source`} label="New source" />,
        children: (
          <>
            {doneNotice(c, DONE)}
            <SearchForm action={`${UI_BASE}/sources`} q={q} label="Search sources" />
            <PagedTable
              columns={['Name', 'Slug', 'Status', 'SCIM URL']}
              empty={q ? 'No source matches.' : 'No sources yet: create one.'}
              rows={list.items.map(({ source }) => (
                <tr>
                  <td>
                    <a href={href(source.slug)}>{source.name}</a>
                  </td>
                  <td class="mono">{source.slug}</td>
                  <td>
                    <Badge on={source.enabled} yes="Enabled" no="Disabled" />
                  </td>
                  <td class="mono">
                    {origin}/source/scim/{encodeURIComponent(source.slug)}/v2
                  </td>
                </tr>
              ))}
              pager={{ base: `${UI_BASE}/sources`, q, page: pageNo, count: list.count }}
            />
          </>
        ),
      }),
    )
  })

  app.get('/:slug', async (c) => {
    const detail = await sources.getSource(c.get('deps'), c.req.param('slug'))
    return c.html(detailPage(c, detail, uiOrigin(c), { notice: doneNotice(c, DONE) }))
  })

  // Showing a secret is an action (a POST), so it never sits in a URL, a history entry or a
  // prefetched page; the answer is not cached (no-store on every UI page).
  app.post('/:slug/token', async (c) => {
    const detail = await sources.getSource(c.get('deps'), c.req.param('slug'))
    if (!detail.token) throw ScimError.notFound('This source has no token')
    const key = await tokens.viewKey(c.get('deps'), detail.token.identifier)
    return c.html(detailPage(c, detail, uiOrigin(c), { key }))
  })

  app.post('/:slug/rotate', async (c) => {
    const detail = await sources.getSource(c.get('deps'), c.req.param('slug'))
    if (!detail.token) throw ScimError.notFound('This source has no token')
    const key = await tokens.rotateKey(c.get('deps'), detail.token.identifier)
    return c.html(
      detailPage(c, detail, uiOrigin(c), {
        key,
        notice: (
          <Notice kind="warn">
            Token rotated: the old one no longer works. Give the identity provider this one.
          </Notice>
        ),
      }),
    )
  })

  app.post('/:slug/enabled', async (c) => {
    const body = await formBody(c)
    const enabled = body.enabled === '1'
    const detail = await sources.updateSource(c.get('deps'), c.req.param('slug'), { enabled })
    return c.redirect(href(detail.source.slug, `?done=${enabled ? 'enabled' : 'disabled'}`), 303)
  })

  app.get('/:slug/edit', async (c) => {
    const { source } = await sources.getSource(c.get('deps'), c.req.param('slug'))
    return c.html(
      formPage(
        c,
        `Edit ${source.name}`,
        href(source.slug, '/edit'),
        { name: source.name, slug: source.slug, enabled: source.enabled },
        {},
        [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: source.slug, href: href(source.slug) },
          { label: 'Edit' },
        ],
      ),
    )
  })

  app.post('/:slug/edit', async (c) => {
    const slug = c.req.param('slug')
    const { source } = await sources.getSource(c.get('deps'), slug)
    const { form, errors } = readForm(await formBody(c))
    const render = (errs: FormErrors, status: 400 | 409) =>
      c.html(
        formPage(c, `Edit ${source.name}`, href(slug, '/edit'), form, errs, [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: slug, href: href(slug) },
          { label: 'Edit' },
        ]),
        status,
      )
    if (Object.keys(errors).length > 0) return render(errors, 400)
    try {
      const detail = await sources.updateSource(c.get('deps'), slug, {
        name: form.name,
        slug: form.slug,
        enabled: form.enabled,
      })
      return c.redirect(href(detail.source.slug, '?done=updated'), 303)
    } catch (err) {
      if (err instanceof ScimError && err.scimType === 'uniqueness') {
        return render({ slug: 'A source with this slug already exists.' }, 409)
      }
      throw err
    }
  })

  app.get('/:slug/delete', async (c) => {
    const deps = c.get('deps')
    const detail = await sources.getSource(deps, c.req.param('slug'))
    const { source } = detail
    const first = { page: 1, pageSize: 10 }
    const [users, groups] = await Promise.all([
      browse.listSourceUsers(deps, source.slug, first),
      browse.listSourceGroups(deps, source.slug, first),
    ])
    const csrf = c.get('session').csrfToken
    return c.html(
      page({
        title: `Delete ${source.name}?`,
        section: 'sources',
        ...frame(c),
        crumbs: [
          { label: 'Sources', href: `${UI_BASE}/sources` },
          { label: source.slug, href: href(source.slug) },
          { label: 'Delete' },
        ],
        children: (
          <div class="panel">
            <Notice kind="warn">This cannot be undone. Deleting the source deletes with it:</Notice>
            <ul class="plain">
              <li>
                its token <code>{detail.token?.identifier ?? '—'}</code> and service account{' '}
                <code>{detail.serviceAccount?.username ?? '—'}</code>
              </li>
              <li>
                <Counted
                  count={users.count}
                  noun="provisioned user"
                  names={users.items.map((u) => u.user.username)}
                />
              </li>
              <li>
                <Counted
                  count={groups.count}
                  noun="provisioned group"
                  names={groups.items.map((g) => g.group.name)}
                />
              </li>
            </ul>
            <DeleteOrCancel href={href(source.slug)} csrf={csrf} label={`Delete ${source.slug}`} />
          </div>
        ),
      }),
    )
  })

  app.post('/:slug/delete', async (c) => {
    await sources.deleteSource(c.get('deps'), c.req.param('slug'))
    return c.redirect(`${UI_BASE}/sources?done=deleted`, 303)
  })

  return app
}

/**
 * The form that creates a source. Served at its own path, not under `${UI_BASE}/sources/`: a
 * static segment beside `:param` there would make Hono's fast RegExpRouter refuse the whole app.
 */
export function newSourcePage(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', (c) =>
    c.html(
      formPage(c, 'New source', `${UI_BASE}/new/source`, { enabled: true }, {}, [
        { label: 'Sources', href: `${UI_BASE}/sources` },
        { label: 'New' },
      ]),
    ),
  )

  app.post('/', async (c) => {
    const { form, errors } = readForm(await formBody(c))
    const crumbs = [{ label: 'Sources', href: `${UI_BASE}/sources` }, { label: 'New' }]
    if (Object.keys(errors).length > 0) {
      return c.html(formPage(c, 'New source', `${UI_BASE}/new/source`, form, errors, crumbs), 400)
    }
    try {
      const created = await sources.createSource(c.get('deps'), {
        name: form.name as string,
        slug: form.slug as string,
        enabled: form.enabled ?? true,
      })
      return c.html(
        detailPage(c, created, uiOrigin(c), {
          key: created.key,
          notice: (
            <Notice>
              Source created. Copy the SCIM URL and token into your identity provider.
            </Notice>
          ),
        }),
        201,
      )
    } catch (err) {
      if (err instanceof ScimError && err.scimType === 'uniqueness') {
        const taken = { slug: 'A source with this slug already exists.' }
        return c.html(formPage(c, 'New source', `${UI_BASE}/new/source`, form, taken, crumbs), 409)
      }
      throw err
    }
  })

  return app
}
