/** Admin tokens: the API tokens, which of them are admins' and which sources', and new admin tokens. */
import { type Context, Hono } from 'hono'
import { ScimError } from '../../../scim/errors.js'
import * as sources from '../../../services/sources.js'
import * as tokens from '../../../services/tokens.js'
import { PAGE_SIZE, pageNumber, searchTerm, text, textProblem } from '../forms.js'
import {
  CopyField,
  Csrf,
  Notice,
  Pager,
  page,
  SearchForm,
  TextField,
  UI_BASE,
  when,
} from '../layout.js'
import { formBody, type UiEnv } from '../security.js'

/** How long a new admin token lives, as offered by the form. */
const LIFETIMES: Record<string, number | null> = {
  never: null,
  '1d': 1,
  '30d': 30,
  '90d': 90,
  '365d': 365,
}

const SOURCE_MANAGED = 'goauthentik.io/sources/scim/'

function kindOf(detail: tokens.TokenDetail): string {
  if (detail.token.managed?.startsWith(SOURCE_MANAGED)) return 'Source'
  return detail.user.isSuperuser ? 'Admin' : 'Other'
}

async function tokensPage(
  c: Context<UiEnv>,
  extra: { key?: string; identifier?: string; error?: string; form?: string } = {},
) {
  const q = searchTerm(c.req.query('q'))
  const pageNo = pageNumber(c.req.query('page'))
  const list = await tokens.listTokens(c.get('deps'), {
    filter: { intent: 'api', search: q || undefined },
    order: [],
    page: pageNo,
    pageSize: PAGE_SIZE,
  })
  const csrf = c.get('session').csrfToken
  const base = `${UI_BASE}/tokens`
  return page({
    title: 'Admin tokens',
    section: 'tokens',
    csrf,
    username: c.get('session').user.username,
    children: (
      <>
        {extra.key !== undefined ? (
          <div class="panel">
            <Notice>
              Token <code>{extra.identifier}</code> created. Copy it now: it signs in here and opens
              the whole admin API.
            </Notice>
            <CopyField id="new-token" label="New admin token" value={extra.key} />
          </div>
        ) : null}
        <form class="panel" method="post" action={base}>
          <h2>New admin token</h2>
          {extra.error ? <Notice kind="error">{extra.error}</Notice> : null}
          <Csrf token={csrf} />
          <TextField
            name="identifier"
            label="Identifier"
            value={extra.form}
            hint="Optional; a unique name. Left blank, one is made up."
          />
          <div class="field">
            <label for="f-expires">Expires</label>
            <select id="f-expires" name="expires">
              <option value="never">Never</option>
              <option value="1d">In 1 day</option>
              <option value="30d">In 30 days</option>
              <option value="90d" selected>
                In 90 days
              </option>
              <option value="365d">In 1 year</option>
            </select>
          </div>
          <button type="submit" class="primary">
            Create token
          </button>
        </form>
        <h2>API tokens</h2>
        <SearchForm action={base} q={q} label="Search identifiers, descriptions, users" />
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Identifier</th>
                <th scope="col">Kind</th>
                <th scope="col">User</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.items.length === 0 ? (
                <tr>
                  <td colspan={5} class="empty">
                    No tokens match.
                  </td>
                </tr>
              ) : (
                list.items.map((d) => (
                  <tr>
                    <td class="mono">{d.token.identifier}</td>
                    <td>{kindOf(d)}</td>
                    <td>
                      <a href={`${UI_BASE}/users/${d.user.user.pk}`}>{d.user.user.username}</a>
                    </td>
                    <td>{d.token.expiring ? when(d.token.expires) : 'Never'}</td>
                    <td>{when(d.token.createdAt)}</td>
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
  })
}

export function tokenPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => c.html(await tokensPage(c)))

  app.post('/', async (c) => {
    const body = await formBody(c)
    const identifier = text(body, 'identifier') ?? ''
    const lifetime = LIFETIMES[body.expires ?? '']
    if (lifetime === undefined) {
      return c.html(await tokensPage(c, { error: 'Choose when the token expires.' }), 400)
    }
    if (identifier !== '') {
      const problem = textProblem(identifier, 200)
      if (problem) {
        return c.html(
          await tokensPage(c, { error: `Identifier: ${problem}`, form: identifier }),
          400,
        )
      }
    }
    const expires =
      lifetime === null ? null : new Date(Date.now() + lifetime * 86_400_000).toISOString()
    try {
      const created = await sources.createAdminToken(c.get('deps'), {
        ...(identifier ? { identifier } : {}),
        expires,
      })
      return c.html(
        await tokensPage(c, { key: created.key, identifier: created.token.identifier }),
        201,
      )
    } catch (err) {
      if (err instanceof ScimError && err.scimType === 'uniqueness') {
        return c.html(
          await tokensPage(c, { error: 'A token with this identifier exists.', form: identifier }),
          409,
        )
      }
      throw err
    }
  })

  return app
}
