/** Admin tokens: the API tokens, which are admins' and which sources', new admin tokens, revoking one. */
import { type Context, Hono } from 'hono'
import { ScimError } from '../../../scim/errors.js'
import * as sources from '../../../services/sources.js'
import * as tokens from '../../../services/tokens.js'
import { PAGE_SIZE, text, textProblem } from '../forms.js'
import {
  CopyField,
  Csrf,
  Notice,
  PostButton,
  page,
  SearchForm,
  TextField,
  UI_BASE,
  when,
} from '../layout.js'
import { frame, listParams } from '../request.js'
import { formBody, type UiEnv } from '../security.js'
import { PagedTable } from '../table.js'

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

const revokeHref = (identifier: string) =>
  `${UI_BASE}/tokens/revoke?identifier=${encodeURIComponent(identifier)}`

/** What can be done to a token from the list: revoke it, unless it is a source's or this session's. */
function TokenAction(props: { detail: tokens.TokenDetail; sessionTokenId: string }) {
  const { token } = props.detail
  if (token.id === props.sessionTokenId) {
    return <span class="muted">You are signed in with this token</span>
  }
  if (token.managed !== null) {
    return <span class="muted">Rotate it from its source</span>
  }
  return (
    <a class="button" href={revokeHref(token.identifier)}>
      Revoke…
    </a>
  )
}

/** The confirmation before a revocation, naming the token, its user and what stops working. */
async function revokePage(c: Context<UiEnv>, identifier: string, error?: string) {
  const detail = await tokens.getToken(c.get('deps'), identifier)
  const csrf = c.get('session').csrfToken
  const isSession = detail.token.id === c.get('session').tokenId
  return page({
    title: `Revoke token ${detail.token.identifier}?`,
    section: 'tokens',
    ...frame(c),
    crumbs: [{ label: 'Admin tokens', href: `${UI_BASE}/tokens` }, { label: 'Revoke' }],
    children: (
      <div class="panel">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {isSession ? (
          <Notice kind="warn">
            You are signed in with this token: revoking it would end this session. Sign in with
            another admin token to revoke it.
          </Notice>
        ) : detail.token.managed !== null ? (
          <Notice kind="warn">
            This token belongs to {detail.token.managed}: rotate it from its source instead.
          </Notice>
        ) : (
          <Notice kind="warn">
            This cannot be undone. The token of <strong>{detail.user.user.username}</strong> stops
            opening the admin API at once, and every UI session signed in with it ends.
          </Notice>
        )}
        <dl class="fields">
          <dt>Identifier</dt>
          <dd class="mono">{detail.token.identifier}</dd>
          <dt>User</dt>
          <dd>{detail.user.user.username}</dd>
          <dt>Expires</dt>
          <dd>{detail.token.expiring ? when(detail.token.expires) : 'Never'}</dd>
          <dt>Created</dt>
          <dd>{when(detail.token.createdAt)}</dd>
        </dl>
        <div class="actions">
          {isSession || detail.token.managed !== null ? null : (
            <PostButton
              action={`${UI_BASE}/tokens/revoke`}
              csrf={csrf}
              label={`Revoke ${detail.token.identifier}`}
              variant="danger"
              fields={{ identifier: detail.token.identifier }}
            />
          )}
          <a class="button" href={`${UI_BASE}/tokens`}>
            Cancel
          </a>
        </div>
      </div>
    ),
  })
}

async function tokensPage(
  c: Context<UiEnv>,
  extra: { key?: string; identifier?: string; error?: string; form?: string } = {},
) {
  const done = c.req.query('done') === 'revoked' ? c.req.query('identifier') : undefined
  const { q, page: pageNo } = listParams(c)
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
    ...frame(c),
    children: (
      <>
        {done !== undefined ? (
          <Notice>
            Token <code>{done}</code> revoked: it no longer opens the API or this UI.
          </Notice>
        ) : null}
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
        <PagedTable
          columns={['Identifier', 'Kind', 'User', 'Expires', 'Created', 'Actions']}
          empty="No tokens match."
          rows={list.items.map((d) => (
            <tr>
              <td class="mono">{d.token.identifier}</td>
              <td>{kindOf(d)}</td>
              <td>
                <a href={`${UI_BASE}/users/${d.user.user.pk}`}>{d.user.user.username}</a>
              </td>
              <td>{d.token.expiring ? when(d.token.expires) : 'Never'}</td>
              <td>{when(d.token.createdAt)}</td>
              <td>
                <TokenAction detail={d} sessionTokenId={c.get('session').tokenId} />
              </td>
            </tr>
          ))}
          pager={{ base, q, page: pageNo, count: list.count }}
        />
      </>
    ),
  })
}

export function tokenPages(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/', async (c) => c.html(await tokensPage(c)))

  // The identifier is a query parameter and a form field, not a path segment: identifiers
  // may hold '/' and other characters a path would decode into another route.
  app.get('/revoke', async (c) => {
    const identifier = c.req.query('identifier')
    if (!identifier) throw ScimError.notFound('Token not found')
    return c.html(await revokePage(c, identifier))
  })

  app.post('/revoke', async (c) => {
    const identifier = (await formBody(c)).identifier
    if (!identifier) throw ScimError.notFound('Token not found')
    try {
      const revoked = await tokens.revokeToken(c.get('deps'), identifier, {
        callerTokenId: c.get('session').tokenId,
      })
      return c.redirect(
        `${UI_BASE}/tokens?done=revoked&identifier=${encodeURIComponent(revoked.identifier)}`,
        303,
      )
    } catch (err) {
      // The session's own token and a source's token are refused (400) with the reason.
      if (err instanceof ScimError && err.status === 400) {
        return c.html(await revokePage(c, identifier, err.detail), 400)
      }
      throw err
    }
  })

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
