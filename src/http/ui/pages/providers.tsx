/** Outbound SCIM providers: list, create, edit, delete, sync status and errors, full sync, one object. */
import { type Context, Hono } from 'hono'
import type { Child } from 'hono/jsx'
import { ScimError } from '../../../scim/errors.js'
import * as providers from '../../../services/providers.js'
import { PAGE_SIZE, pageNumber, text, textProblem } from '../forms.js'
import {
  Badge,
  Csrf,
  FormPanel,
  NewButton,
  Notice,
  PostButton,
  page,
  TextField,
  UI_BASE,
  when,
} from '../layout.js'
import { doneNotice, frame } from '../request.js'
import { formBody, type UiEnv } from '../security.js'
import { PagedTable } from '../table.js'

type Provider = Awaited<ReturnType<typeof providers.getProvider>>
const href = (pk: number, rest = '') => `${UI_BASE}/providers/${pk}${rest}`

const DONE: Record<string, string> = {
  saved: 'Provider saved.',
  sync: 'Full sync requested: the sync worker starts it within a few seconds.',
  deleted: 'Provider deleted.',
}

interface ProviderForm {
  name?: string | undefined
  url?: string | undefined
  verifyCertificates: boolean
  compatibilityMode: string
  excludeUsersServiceAccount: boolean
  filterGroup?: string | undefined
  dryRun: boolean
}
type Errors = Partial<
  Record<'name' | 'url' | 'token' | 'filter_group' | 'compatibility_mode', string>
>

function readForm(body: Record<string, string>, isNew: boolean) {
  const form: ProviderForm = {
    name: text(body, 'name'),
    url: text(body, 'url'),
    verifyCertificates: body.verify_certificates === 'on',
    compatibilityMode: body.compatibility_mode ?? 'default',
    excludeUsersServiceAccount: body.exclude_users_service_account === 'on',
    filterGroup: text(body, 'filter_group'),
    dryRun: body.dry_run === 'on',
  }
  const token = body.token ?? ''
  const errors: Errors = {}
  const nameProblem = textProblem(form.name, 200)
  if (nameProblem) errors.name = nameProblem
  const urlProblem = textProblem(form.url, 2000)
  if (urlProblem) errors.url = urlProblem
  // On edit, a blank token keeps the current one (it is never shown again).
  if (isNew || token !== '') {
    const tokenProblem = textProblem(token, 4000)
    if (tokenProblem) errors.token = tokenProblem
  }
  if (!(providers.COMPATIBILITY_MODES as readonly string[]).includes(form.compatibilityMode)) {
    errors.compatibility_mode = 'Choose a compatibility mode.'
  }
  return { form, token, errors }
}

function toInput(form: ProviderForm, token: string): providers.ProviderChange {
  return {
    name: form.name as string,
    url: form.url as string,
    ...(token !== '' ? { token } : {}),
    verifyCertificates: form.verifyCertificates,
    compatibilityMode: form.compatibilityMode as providers.ProviderInput['compatibilityMode'],
    excludeUsersServiceAccount: form.excludeUsersServiceAccount,
    filterGroup: form.filterGroup ? form.filterGroup : null,
    dryRun: form.dryRun,
  }
}

function Check(props: { name: string; label: string; checked: boolean; hint?: string }) {
  return (
    <div class="field">
      <label class="check">
        <input type="checkbox" name={props.name} checked={props.checked} />
        {props.label}
      </label>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
    </div>
  )
}

function formPage(
  c: Context<UiEnv>,
  title: string,
  action: string,
  form: ProviderForm,
  errors: Errors,
  isNew: boolean,
) {
  return page({
    title,
    section: 'providers',
    ...frame(c),
    crumbs: [{ label: 'Providers', href: `${UI_BASE}/providers` }, { label: title }],
    children: (
      <FormPanel action={action} csrf={c.get('session').csrfToken} errors={errors}>
        <TextField name="name" label="Name" value={form.name} error={errors.name} required />
        <TextField
          name="url"
          label="SCIM base URL"
          type="url"
          value={form.url}
          error={errors.url}
          required
          hint="The application's SCIM endpoint, e.g. https://scim.example.com/scim/v2"
        />
        <TextField
          name="token"
          label="Bearer token"
          type="password"
          error={errors.token}
          required={isNew}
          hint={isNew ? undefined : 'Leave blank to keep the current token.'}
        />
        <div class="field">
          <label for="f-compat">Compatibility mode</label>
          <select id="f-compat" name="compatibility_mode">
            {providers.COMPATIBILITY_MODES.map((m) => (
              <option value={m} selected={m === form.compatibilityMode}>
                {m}
              </option>
            ))}
          </select>
          {errors.compatibility_mode ? <p class="error-text">{errors.compatibility_mode}</p> : null}
        </div>
        <TextField
          name="filter_group"
          label="Filter group (id)"
          value={form.filterGroup}
          error={errors.filter_group}
          hint="Optional: push only the members of this group."
        />
        <Check
          name="verify_certificates"
          label="Verify TLS certificates"
          checked={form.verifyCertificates}
        />
        <Check
          name="exclude_users_service_account"
          label="Leave out service accounts"
          checked={form.excludeUsersServiceAccount}
        />
        <Check
          name="dry_run"
          label="Dry run"
          checked={form.dryRun}
          hint="Compute and log each request, send nothing."
        />
      </FormPanel>
    ),
  })
}

/** A provider field error from the service, shown under its field. */
function fieldErrors(err: unknown): Errors | undefined {
  if (err instanceof providers.ProviderFieldError) {
    const known = ['name', 'url', 'token', 'filter_group', 'compatibility_mode'] as const
    const field = known.find((f) => f === err.field) ?? 'name'
    return { [field]: err.detail }
  }
  return undefined
}

function LogTable(props: { log: Array<{ level: string; event: string; [k: string]: unknown }> }) {
  return (
    <PagedTable
      columns={['Level', 'Event', 'Details']}
      empty="Nothing was logged."
      rows={props.log.map(({ level, event, ...rest }) => (
        <tr>
          <td>{level}</td>
          <td>{event}</td>
          <td>
            <code>{JSON.stringify(rest)}</code>
          </td>
        </tr>
      ))}
    />
  )
}

async function detailPage(c: Context<UiEnv>, provider: Provider, notice?: Child) {
  const deps = c.get('deps')
  const csrf = c.get('session').csrfToken
  const status = await providers.syncStatus(deps, String(provider.pk))
  const objectsPage = pageNumber(c.req.query('page'))
  const users = await providers.listProviderUsers(deps, {
    providerId: provider.pk,
    page: objectsPage,
    pageSize: PAGE_SIZE,
  })
  return page({
    title: provider.name,
    section: 'providers',
    ...frame(c),
    crumbs: [{ label: 'Providers', href: `${UI_BASE}/providers` }, { label: provider.name }],
    children: (
      <>
        {notice}
        <section class="panel" aria-labelledby="status">
          <h2 id="status">Sync status</h2>
          <dl class="fields">
            <dt>State</dt>
            <dd>
              {status.isRunning ? (
                <span class="badge warn">Full sync running</span>
              ) : status.fullSyncPending ? (
                <span class="badge warn">Full sync requested</span>
              ) : (
                <span class="badge ok">Idle</span>
              )}{' '}
              {provider.dryRun ? <span class="badge warn">Dry run</span> : null}
            </dd>
            <dt>Last status</dt>
            <dd>
              {status.lastSyncStatus ?? '—'}
              {status.lastSyncMessage ? `: ${status.lastSyncMessage}` : ''}
            </dd>
            <dt>Last success</dt>
            <dd>{when(status.lastSuccessfulSync)}</dd>
            <dt>Last full sync</dt>
            <dd>
              {when(status.lastFullSyncStartedAt)} → {when(status.lastFullSyncFinishedAt)}
            </dd>
            <dt>Waiting changes</dt>
            <dd>
              {status.outbox.count}
              {status.outbox.oldest ? ` (oldest ${when(status.outbox.oldest)})` : ''}
            </dd>
            <dt>Users</dt>
            <dd>
              {status.users.linked} linked, {status.users.failed} failing
            </dd>
            <dt>Groups</dt>
            <dd>
              {status.groups.linked} linked, {status.groups.failed} failing
            </dd>
          </dl>
          <div class="actions">
            <PostButton
              action={href(provider.pk, '/sync')}
              csrf={csrf}
              label="Run full sync"
              variant="primary"
            />
            <a class="button" href={href(provider.pk)}>
              Refresh
            </a>
          </div>
          {status.lastErrors.length > 0 ? (
            <>
              <h3>Last errors</h3>
              <PagedTable
                columns={['Object', 'Error', 'Attempts', 'When']}
                empty="No errors."
                rows={status.lastErrors.map((e) => (
                  <tr>
                    <td class="mono">
                      {e.kind} {e.objectId}
                    </td>
                    <td>{e.lastError}</td>
                    <td>{e.attempts}</td>
                    <td>{when(e.updatedAt)}</td>
                  </tr>
                ))}
              />
            </>
          ) : null}
        </section>
        <section class="panel" aria-labelledby="one">
          <h2 id="one">Sync one object</h2>
          <form class="filters" method="post" action={href(provider.pk, '/sync-object')}>
            <Csrf token={csrf} />
            <div class="field">
              <label for="f-model">Kind</label>
              <select id="f-model" name="model">
                <option value="user">User</option>
                <option value="group">Group</option>
              </select>
            </div>
            <div class="field">
              <label for="f-object">User pk or UUID, or group id</label>
              <input type="text" id="f-object" name="object_id" required />
            </div>
            <div class="field">
              <label class="check">
                <input type="checkbox" name="override_dry_run" />
                Send even in dry run
              </label>
            </div>
            <button type="submit">Sync now</button>
          </form>
        </section>
        <section aria-labelledby="pushed">
          <h2 id="pushed">Users pushed ({users.count})</h2>
          <PagedTable
            columns={[
              'User',
              'Remote id',
              'Last error',
              provider.dryRun ? 'Request (dry run)' : 'Updated',
            ]}
            empty="Nothing pushed yet."
            rows={users.items.map(({ link, user }) => (
              <tr>
                <td>
                  {user ? (
                    <a href={`${UI_BASE}/users/${user.pk}`}>{user.username}</a>
                  ) : (
                    link.objectId
                  )}
                </td>
                <td class="mono">{link.remoteId ?? '—'}</td>
                <td>{link.lastError ?? '—'}</td>
                <td>
                  {link.lastRequest ? (
                    <details>
                      <summary>{when(link.updatedAt)}</summary>
                      <pre>
                        <code>{JSON.stringify(link.lastRequest, null, 2)}</code>
                      </pre>
                    </details>
                  ) : (
                    when(link.updatedAt)
                  )}
                </td>
              </tr>
            ))}
            pager={{ base: href(provider.pk), page: objectsPage, count: users.count }}
          />
        </section>
        <section class="panel" aria-labelledby="settings">
          <h2 id="settings">Settings</h2>
          <dl class="fields">
            <dt>URL</dt>
            <dd class="mono">{provider.url}</dd>
            <dt>Compatibility</dt>
            <dd>{provider.compatibilityMode}</dd>
            <dt>Certificates</dt>
            <dd>{provider.verifyCertificates ? 'Verified' : 'Not verified'}</dd>
            <dt>Service accounts</dt>
            <dd>{provider.excludeUsersServiceAccount ? 'Left out' : 'Pushed'}</dd>
            <dt>Filter group</dt>
            <dd class="mono">{provider.filterGroup ?? '—'}</dd>
          </dl>
          <div class="actions">
            <a class="button" href={href(provider.pk, '/edit')}>
              Edit
            </a>
            <PostButton
              action={href(provider.pk, '/delete')}
              csrf={csrf}
              label="Delete"
              variant="danger"
              confirm={`Delete provider ${provider.name}? What it pushed stays in the application.`}
            />
          </div>
        </section>
      </>
    ),
  })
}

export function providerPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => {
    const pageNo = pageNumber(c.req.query('page'))
    const list = await providers.listProviders(c.get('deps'), {
      filter: {},
      order: [],
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    return c.html(
      page({
        title: 'Providers',
        section: 'providers',
        ...frame(c),
        actions: <NewButton href={`${UI_BASE}/new/provider`} label="New provider" />,
        children: (
          <>
            {doneNotice(c, DONE)}
            <p class="muted">Applications scimd pushes its directory to over SCIM.</p>
            <PagedTable
              columns={['Name', 'URL', 'Mode', 'Last sync']}
              empty="No providers yet."
              rows={list.items.map((p) => (
                <tr>
                  <td>
                    <a href={href(p.pk)}>{p.name}</a>
                  </td>
                  <td class="mono">{p.url}</td>
                  <td>
                    <Badge on={!p.dryRun} yes={p.compatibilityMode} no="dry run" />
                  </td>
                  <td>
                    {p.lastSyncStatus ?? '—'} {when(p.lastSuccessfulSync)}
                  </td>
                </tr>
              ))}
              pager={{ base: `${UI_BASE}/providers`, page: pageNo, count: list.count }}
            />
          </>
        ),
      }),
    )
  })

  app.get('/:pk', async (c) => {
    const provider = await providers.getProvider(c.get('deps'), c.req.param('pk'))
    return c.html(await detailPage(c, provider, doneNotice(c, DONE)))
  })

  app.get('/:pk/edit', async (c) => {
    const p = await providers.getProvider(c.get('deps'), c.req.param('pk'))
    const form: ProviderForm = {
      name: p.name,
      url: p.url,
      verifyCertificates: p.verifyCertificates,
      compatibilityMode: p.compatibilityMode,
      excludeUsersServiceAccount: p.excludeUsersServiceAccount,
      filterGroup: p.filterGroup ?? '',
      dryRun: p.dryRun,
    }
    return c.html(formPage(c, `Edit ${p.name}`, href(p.pk, '/edit'), form, {}, false))
  })

  app.post('/:pk/edit', async (c) => {
    const p = await providers.getProvider(c.get('deps'), c.req.param('pk'))
    const { form, token, errors } = readForm(await formBody(c), false)
    const render = (errs: Errors) =>
      c.html(formPage(c, `Edit ${p.name}`, href(p.pk, '/edit'), form, errs, false), 400)
    if (Object.keys(errors).length > 0) return render(errors)
    try {
      await providers.updateProvider(c.get('deps'), String(p.pk), toInput(form, token))
      return c.redirect(href(p.pk, '?done=saved'), 303)
    } catch (err) {
      const errs = fieldErrors(err)
      if (errs) return render(errs)
      throw err
    }
  })

  app.post('/:pk/sync', async (c) => {
    const p = await providers.requestFullSync(c.get('deps'), c.req.param('pk'))
    return c.redirect(href(p.pk, '?done=sync'), 303)
  })

  app.post('/:pk/sync-object', async (c) => {
    const deps = c.get('deps')
    const provider = await providers.getProvider(deps, c.req.param('pk'))
    const body = await formBody(c)
    const model = body.model === 'group' ? 'group' : 'user'
    const objectId = text(body, 'object_id') ?? ''
    try {
      if (textProblem(objectId, 200))
        throw new providers.ProviderFieldError('sync_object_id', 'Enter an id.')
      const log = await providers.syncObject(
        deps,
        String(provider.pk),
        model,
        objectId,
        body.override_dry_run === 'on',
      )
      return c.html(
        await detailPage(
          c,
          provider,
          <div class="panel">
            <h2>
              Sync log: {model} {objectId}
            </h2>
            <LogTable log={log} />
          </div>,
        ),
      )
    } catch (err) {
      if (err instanceof ScimError && err.status === 400) {
        return c.html(
          await detailPage(c, provider, <Notice kind="error">{err.detail}</Notice>),
          400,
        )
      }
      throw err
    }
  })

  app.post('/:pk/delete', async (c) => {
    await providers.deleteProvider(c.get('deps'), c.req.param('pk'))
    return c.redirect(`${UI_BASE}/providers?done=deleted`, 303)
  })

  return app
}

/**
 * The form that creates a provider. Served at its own path, not under `${UI_BASE}/providers/`: a
 * static segment beside `:param` there would make Hono's fast RegExpRouter refuse the whole app.
 */
export function newProviderPage(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  const blank: ProviderForm = {
    verifyCertificates: true,
    compatibilityMode: 'default',
    excludeUsersServiceAccount: true,
    dryRun: false,
  }

  app.get('/', (c) =>
    c.html(formPage(c, 'New provider', `${UI_BASE}/new/provider`, blank, {}, true)),
  )

  app.post('/', async (c) => {
    const { form, token, errors } = readForm(await formBody(c), true)
    const render = (errs: Errors) =>
      c.html(formPage(c, 'New provider', `${UI_BASE}/new/provider`, form, errs, true), 400)
    if (Object.keys(errors).length > 0) return render(errors)
    try {
      const created = await providers.createProvider(
        c.get('deps'),
        toInput(form, token) as providers.ProviderInput,
      )
      return c.redirect(href(created.pk, '?done=saved'), 303)
    } catch (err) {
      const errs = fieldErrors(err)
      if (errs) return render(errs)
      throw err
    }
  })

  return app
}
