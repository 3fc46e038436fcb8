/**
 * Property mappings (source and provider kinds): list, create, edit, delete, copy a managed
 * one, and test one against a directory user or group.
 */
import { type Context, Hono } from 'hono'
import type { Child } from 'hono/jsx'
import type { DirectoryUser } from '../../../core/domain.js'
import { FieldErrors } from '../../../core/field-errors.js'
import { ScimError } from '../../../scim/errors.js'
import * as directory from '../../../services/directory.js'
import * as mappings from '../../../services/property-mappings.js'
import { PAGE_SIZE, text, textProblem } from '../forms.js'
import {
  Csrf,
  DeleteOrCancel,
  FormPanel,
  NewButton,
  Notice,
  page,
  TextField,
  UI_BASE,
  when,
} from '../layout.js'
import { doneNotice, frame, listParams } from '../request.js'
import { formBody, type UiEnv } from '../security.js'
import { PagedTable } from '../table.js'

type Kind = mappings.MappingKind
type Mapping = mappings.PropertyMapping

const KINDS: Record<Kind, { label: string; sees: Child }> = {
  provider: {
    label: 'Provider mappings',
    sees: (
      <>
        A provider mapping sees <code>user</code> or <code>group</code> and returns (part of) the
        SCIM body a provider sends.
      </>
    ),
  },
  source: {
    label: 'Source mappings',
    sees: (
      <>
        A source mapping sees <code>data</code> (what the identity provider sent),{' '}
        <code>source</code> and <code>properties</code>, and returns directory fields.
      </>
    ),
  },
}

/** How many users sharing a username the test panel offers to pick from. */
const CHOICES = 10

/** The longest expression the form takes (the UI's body limit is 64 KiB). */
const MAX_EXPRESSION = 32_000

const listHref = (kind: Kind) => `${UI_BASE}/mappings?kind=${kind}`
const href = (m: { kind: Kind; id: string }, rest = '') =>
  `${UI_BASE}/mappings/${m.kind}/${encodeURIComponent(m.id)}${rest}`
const newHref = (kind: Kind) => `${UI_BASE}/new/mapping/${kind}`

const DONE: Record<string, string> = {
  saved: 'Mapping saved.',
  created: 'Mapping created.',
  deleted: 'Mapping deleted.',
}

/** A kind from a path segment or query; anything else is no such page. */
function kindOf(raw: string | undefined): Kind {
  if (raw === 'source' || raw === 'provider') return raw
  throw ScimError.notFound('No such kind of property mapping')
}

interface MappingForm {
  name?: string | undefined
  expression?: string | undefined
}
type Errors = Partial<Record<'name' | 'expression' | 'form', string>>

function readForm(body: Record<string, string>): { form: MappingForm; errors: Errors } {
  // The expression keeps its own spacing; only the name is trimmed.
  const form = { name: text(body, 'name'), expression: body.expression }
  const errors: Errors = {}
  const name = textProblem(form.name, 200)
  if (name) errors.name = name
  const expression = textProblem(form.expression?.trim(), MAX_EXPRESSION)
  if (expression) errors.expression = expression
  return { form, errors }
}

/** The service's field errors (a taken name, an expression that does not parse). */
function serviceErrors(err: unknown): Errors | undefined {
  if (!(err instanceof FieldErrors)) return undefined
  const errors: Errors = {}
  for (const [field, messages] of Object.entries(err.fields)) {
    const key = field === 'name' || field === 'expression' ? field : 'form'
    errors[key] = messages.join(' ')
  }
  return errors
}

function ExpressionField(props: { value?: string | undefined; error?: string | undefined }) {
  const described = ['f-expression-hint', props.error ? 'f-expression-error' : '']
    .filter(Boolean)
    .join(' ')
  return (
    <div class="field">
      <label for="f-expression">Expression (JSONata)</label>
      <textarea
        id="f-expression"
        name="expression"
        class="code"
        rows={14}
        spellcheck={false}
        required
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described}
      >
        {props.value ?? ''}
      </textarea>
      <p class="hint" id="f-expression-hint">
        A JSONata expression returning an object, merged over what the earlier mappings made.
      </p>
      {props.error ? (
        <p class="error-text" id="f-expression-error">
          {props.error}
        </p>
      ) : null}
    </div>
  )
}

function MappingFields(props: { form: MappingForm; errors: Errors }) {
  return (
    <>
      {Object.keys(props.errors).length > 0 ? (
        <Notice kind="error">{props.errors.form ?? 'Please correct the fields below.'}</Notice>
      ) : null}
      <TextField
        name="name"
        label="Name"
        value={props.form.name}
        error={props.errors.name}
        required
      />
      <ExpressionField value={props.form.expression} error={props.errors.expression} />
    </>
  )
}

function formPage(
  c: Context<UiEnv>,
  kind: Kind,
  title: string,
  action: string,
  form: MappingForm,
  errors: Errors,
) {
  return page({
    title,
    section: 'mappings',
    ...frame(c),
    crumbs: [{ label: KINDS[kind].label, href: listHref(kind) }, { label: title }],
    children: (
      <FormPanel action={action} csrf={c.get('session').csrfToken}>
        <p class="muted">{KINDS[kind].sees}</p>
        <MappingFields form={form} errors={errors} />
      </FormPanel>
    ),
  })
}

interface TestState {
  object: 'user' | 'group'
  name: string
  result?: { text: string; ok: boolean }
  error?: string
  /** Users that share the username typed (several sources may provision one): pick one. */
  choices?: DirectoryUser[]
}

/** "Test against this user/group": a username or group name, and what the mapping made. */
function TestPanel(props: { mapping: Mapping; csrf: string; state: TestState }) {
  const { state } = props
  return (
    <section class="panel" aria-labelledby="test">
      <h2 id="test">Test against a user or group</h2>
      <form class="filters" method="post" action={href(props.mapping, '/test')}>
        <Csrf token={props.csrf} />
        <div class="field">
          <label for="f-object">Test against</label>
          <select id="f-object" name="object">
            <option value="user" selected={state.object === 'user'}>
              User (by username)
            </option>
            <option value="group" selected={state.object === 'group'}>
              Group (by name)
            </option>
          </select>
        </div>
        <div class="field">
          <label for="f-test-name">Username or group name</label>
          <input
            type="text"
            id="f-test-name"
            name="name"
            value={state.name}
            required
            aria-invalid={state.error ? 'true' : undefined}
            aria-describedby={state.error ? 'f-test-error' : undefined}
          />
        </div>
        <button type="submit">Run test</button>
      </form>
      {state.error ? (
        <p class="error-text" id="f-test-error" role="alert">
          {state.error}
        </p>
      ) : null}
      {state.choices ? (
        <>
          <p role="status">
            {state.choices.length} users have this username (sources may share one): pick one.
          </p>
          <ul class="plain">
            {state.choices.map((u) => (
              <li>
                <form class="inline" method="post" action={href(props.mapping, '/test')}>
                  <Csrf token={props.csrf} />
                  <input type="hidden" name="object" value="user" />
                  <input type="hidden" name="name" value={u.username} />
                  <input type="hidden" name="pk" value={String(u.pk)} />
                  <button type="submit">
                    Test with {u.username} ({u.path})
                  </button>
                </form>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {state.result ? (
        state.result.ok ? (
          <>
            <h3>Result</h3>
            <pre>
              <code id="test-result">{state.result.text}</code>
            </pre>
          </>
        ) : (
          <Notice kind="error">
            <span id="test-result">The mapping failed: {state.result.text}</span>
          </Notice>
        )
      ) : null}
    </section>
  )
}

async function detailPage(
  c: Context<UiEnv>,
  mapping: Mapping,
  options: {
    form?: MappingForm
    errors?: Errors
    test?: TestState
    notice?: Child
  } = {},
) {
  const deps = c.get('deps')
  const csrf = c.get('session').csrfToken
  const usedBy =
    mapping.kind === 'source' ? await mappings.mappingUsedBy(deps, mapping.kind, mapping.id) : []
  const form = options.form ?? { name: mapping.name, expression: mapping.expression }
  return page({
    title: mapping.name,
    section: 'mappings',
    ...frame(c),
    crumbs: [
      { label: KINDS[mapping.kind].label, href: listHref(mapping.kind) },
      { label: mapping.name },
    ],
    actions: (
      <div class="actions">
        <a class="button" href={`${newHref(mapping.kind)}?copy=${encodeURIComponent(mapping.id)}`}>
          Copy
        </a>
        {mapping.managed ? null : (
          <a class="button" href={href(mapping, '/delete')}>
            Delete…
          </a>
        )}
      </div>
    ),
    children: (
      <>
        {options.notice}
        {mapping.managed ? (
          <section class="panel" aria-labelledby="def">
            <Notice kind="warn">
              <strong>Read-only.</strong> Managed by scimd ({mapping.managed}): it states the
              built-in behaviour. Copy it into a new mapping to change it.
            </Notice>
            <h2 id="def">Expression</h2>
            <pre>
              <code>{mapping.expression}</code>
            </pre>
          </section>
        ) : (
          <FormPanel action={href(mapping, '/edit')} csrf={csrf}>
            <p class="muted">{KINDS[mapping.kind].sees}</p>
            <MappingFields form={form} errors={options.errors ?? {}} />
          </FormPanel>
        )}
        <TestPanel
          mapping={mapping}
          csrf={csrf}
          state={options.test ?? { object: 'user', name: '' }}
        />
        <section class="panel" aria-labelledby="about">
          <h2 id="about">About</h2>
          <dl class="fields">
            <dt>Kind</dt>
            <dd>{mapping.kind}</dd>
            <dt>ID</dt>
            <dd class="mono">{mapping.id}</dd>
            <dt>Managed</dt>
            <dd class="mono">{mapping.managed ?? '—'}</dd>
            {mapping.kind === 'source' ? (
              <>
                <dt>Used by</dt>
                <dd>
                  {usedBy.length === 0
                    ? 'No source'
                    : usedBy.map((u, i) => (
                        <>
                          {i > 0 ? ', ' : ''}
                          {u.name}
                        </>
                      ))}
                </dd>
              </>
            ) : null}
            <dt>Last changed</dt>
            <dd>{when(mapping.updatedAt)}</dd>
          </dl>
        </section>
      </>
    ),
  })
}

/**
 * Runs the test: the user by exact username or the group by exact name (index probes), then
 * the service's test. A name that finds nothing, or several users, is said in the panel.
 */
async function runTest(c: Context<UiEnv>, mapping: Mapping, body: Record<string, string>) {
  const deps = c.get('deps')
  const object = body.object === 'group' ? 'group' : 'user'
  const name = text(body, 'name') ?? ''
  const state: TestState = { object, name }
  const problem = textProblem(name, 300)
  if (problem) return { ...state, error: problem }
  if (object === 'user') {
    // A pk picked among users that share a username; it must still carry that username.
    const picked = directory.parseUserPk(body.pk ?? '')
    const users = await directory.findUsersByUsername(deps, name, CHOICES)
    const chosen = picked === undefined ? undefined : users.find((u) => u.pk === picked)
    const [user] = users
    if (!user) return { ...state, error: `No user has the username "${name}".` }
    if (!chosen && users.length > 1) return { ...state, choices: users }
    const pk = (chosen ?? user).pk
    const out = await mappings.testMapping(deps, mapping.kind, mapping.id, { user: pk })
    return { ...state, result: { text: out.result, ok: out.successful } }
  }
  const group = await directory.findGroupByName(deps, name)
  if (!group) return { ...state, error: `No group is named "${name}".` }
  const out = await mappings.testMapping(deps, mapping.kind, mapping.id, { group: group.id })
  return { ...state, result: { text: out.result, ok: out.successful } }
}

export function mappingPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => {
    const kind = c.req.query('kind') === 'source' ? 'source' : 'provider'
    const { q, page: pageNo } = listParams(c)
    const list = await mappings.listMappings(c.get('deps'), kind, {
      filter: { search: q || undefined },
      order: [],
      page: pageNo,
      pageSize: PAGE_SIZE,
    })
    const base = `${UI_BASE}/mappings`
    return c.html(
      page({
        title: 'Property mappings',
        section: 'mappings',
        ...frame(c),
        actions: <NewButton href={newHref(kind)} label={`New ${kind} mapping`} />,
        children: (
          <>
            {doneNotice(c, DONE)}
            <nav class="tabs" aria-label="Kinds">
              {(['provider', 'source'] as const).map((k) => (
                <a href={listHref(k)} aria-current={k === kind ? 'page' : undefined}>
                  {KINDS[k].label}
                </a>
              ))}
            </nav>
            <p class="muted">{KINDS[kind].sees}</p>
            <form class="bar" method="get" action={base}>
              <input type="hidden" name="kind" value={kind} />
              <label class="grow" for="q">
                <span class="skip">Search mapping names</span>
                <input type="search" id="q" name="q" value={q} placeholder="Search mapping names" />
              </label>
              <button type="submit">Search</button>
            </form>
            <PagedTable
              columns={['Name', 'Managed', 'Last changed']}
              empty={q ? 'No mappings match.' : 'No mappings yet.'}
              rows={list.items.map((m) => (
                <tr>
                  <td>
                    <a href={href(m)}>{m.name}</a>
                  </td>
                  <td class="mono">{m.managed ?? '—'}</td>
                  <td>{when(m.updatedAt)}</td>
                </tr>
              ))}
              pager={{ base, q, page: pageNo, count: list.count, extra: { kind } }}
            />
          </>
        ),
      }),
    )
  })

  app.get('/:kind/:id', async (c) => {
    const kind = kindOf(c.req.param('kind'))
    const mapping = await mappings.getMapping(c.get('deps'), kind, c.req.param('id'))
    return c.html(await detailPage(c, mapping, { notice: doneNotice(c, DONE) }))
  })

  app.post('/:kind/:id/edit', async (c) => {
    const deps = c.get('deps')
    const kind = kindOf(c.req.param('kind'))
    const mapping = await mappings.getMapping(deps, kind, c.req.param('id'))
    const { form, errors } = readForm(await formBody(c))
    if (mapping.managed) {
      // The service's 403, whatever was typed.
      await mappings.updateMapping(deps, kind, mapping.id, {})
    }
    if (Object.keys(errors).length > 0) {
      return c.html(await detailPage(c, mapping, { form, errors }), 400)
    }
    try {
      await mappings.updateMapping(deps, kind, mapping.id, {
        name: form.name,
        expression: form.expression,
      })
      return c.redirect(href(mapping, '?done=saved'), 303)
    } catch (err) {
      const errs = serviceErrors(err)
      if (errs) return c.html(await detailPage(c, mapping, { form, errors: errs }), 400)
      throw err
    }
  })

  app.post('/:kind/:id/test', async (c) => {
    const kind = kindOf(c.req.param('kind'))
    const mapping = await mappings.getMapping(c.get('deps'), kind, c.req.param('id'))
    const test = await runTest(c, mapping, await formBody(c))
    return c.html(await detailPage(c, mapping, { test }), test.error ? 400 : 200)
  })

  app.get('/:kind/:id/delete', async (c) => {
    const deps = c.get('deps')
    const kind = kindOf(c.req.param('kind'))
    const mapping = await mappings.getMapping(deps, kind, c.req.param('id'))
    if (mapping.managed) {
      throw ScimError.forbidden(
        `Property mapping '${mapping.name}' is managed by scimd (${mapping.managed}): it cannot be deleted.`,
      )
    }
    const usedBy = kind === 'source' ? await mappings.mappingUsedBy(deps, kind, mapping.id) : []
    const csrf = c.get('session').csrfToken
    return c.html(
      page({
        title: `Delete ${mapping.name}?`,
        section: 'mappings',
        ...frame(c),
        crumbs: [
          { label: KINDS[kind].label, href: listHref(kind) },
          { label: mapping.name, href: href(mapping) },
          { label: 'Delete' },
        ],
        children: (
          <div class="panel">
            <Notice kind="warn">This cannot be undone.</Notice>
            <ul class="plain">
              {kind === 'source' ? (
                <li>
                  {usedBy.length === 0
                    ? 'No source uses it.'
                    : `It is taken out of the mapping lists of ${usedBy.length} source${usedBy.length === 1 ? '' : 's'}: ${usedBy.map((u) => u.name).join(', ')}.`}
                </li>
              ) : (
                <li>Providers that list it stop applying it.</li>
              )}
            </ul>
            <DeleteOrCancel href={href(mapping)} csrf={csrf} label={`Delete ${mapping.name}`} />
          </div>
        ),
      }),
    )
  })

  app.post('/:kind/:id/delete', async (c) => {
    const kind = kindOf(c.req.param('kind'))
    await mappings.deleteMapping(c.get('deps'), kind, c.req.param('id'))
    return c.redirect(`${listHref(kind)}&done=deleted`, 303)
  })

  return app
}

/**
 * The form that creates a mapping, at `/new/mapping/<kind>` (`?copy=<id>` starts from a copy
 * of another): a static segment beside `/mappings/:kind` would refuse Hono's RegExpRouter.
 */
export function newMappingPage(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/:kind', async (c) => {
    const kind = kindOf(c.req.param('kind'))
    const copyId = c.req.query('copy')
    const from = copyId ? await mappings.getMapping(c.get('deps'), kind, copyId) : undefined
    const form = from ? { name: `Copy of ${from.name}`, expression: from.expression } : {}
    const title = from ? `Copy ${from.name}` : `New ${kind} mapping`
    return c.html(formPage(c, kind, title, newHref(kind), form, {}))
  })

  app.post('/:kind', async (c) => {
    const kind = kindOf(c.req.param('kind'))
    const { form, errors } = readForm(await formBody(c))
    const title = `New ${kind} mapping`
    if (Object.keys(errors).length > 0) {
      return c.html(formPage(c, kind, title, newHref(kind), form, errors), 400)
    }
    try {
      const created = await mappings.createMapping(c.get('deps'), kind, {
        name: form.name as string,
        expression: form.expression as string,
      })
      return c.redirect(href(created, '?done=created'), 303)
    } catch (err) {
      const errs = serviceErrors(err)
      if (errs) return c.html(formPage(c, kind, title, newHref(kind), form, errs), 400)
      throw err
    }
  })

  return app
}
