/** Sign-in with an admin API token (exchanged for a session cookie) and sign-out. */
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import * as uiSessions from '../../../services/ui-sessions.js'
import { Notice, page, TextField, UI_BASE } from '../layout.js'
import {
  CsrfError,
  clearSessionCookie,
  formBody,
  isSameOrigin,
  SESSION_COOKIE,
  safeNext,
  setSessionCookie,
  type UiEnv,
} from '../security.js'

function SignInForm(props: { next: string; error?: string | undefined }) {
  return (
    <div class="panel">
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action={`${UI_BASE}/sign-in`}>
        <input type="hidden" name="next" value={props.next} />
        <TextField
          name="token"
          label="Admin token"
          type="password"
          required
          autocomplete="current-password"
          hint="An admin API token (SCIMD_BOOTSTRAP_TOKEN, or one made with `scimd admin-token create`). A source's SCIM token cannot sign in."
        />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </div>
  )
}

function signInPage(next: string, error?: string) {
  return page({
    title: 'Sign in',
    section: 'none',
    narrow: true,
    children: <SignInForm next={next} error={error} />,
  })
}

/** The routes that need no session: the sign-in form and its POST. */
export function signInRoutes(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()

  app.get('/sign-in', async (c) => {
    const next = safeNext(c.req.query('next'))
    const session = await uiSessions.resolveSession(c.get('deps'), getCookie(c, SESSION_COOKIE))
    if (session) return c.redirect(next, 303)
    return c.html(signInPage(next))
  })

  // No session yet, so no session CSRF token: the Origin check and SameSite=Strict are what
  // stop another site from signing a browser in (and it would need an admin token to do so).
  app.post('/sign-in', async (c) => {
    if (!isSameOrigin(c)) throw new CsrfError('cross-origin sign-in')
    const body = await formBody(c)
    const next = safeNext(body.next)
    const key = body.token ?? ''
    const result = key === '' ? undefined : await uiSessions.signIn(c.get('deps'), key)
    if (!result?.ok) {
      const forbidden = result?.reason === 'forbidden'
      c.get('deps').logger.info('ui sign-in refused', { requestId: c.get('requestId') })
      return c.html(
        signInPage(
          next,
          forbidden
            ? 'This token cannot sign in: only an admin token can (a source’s token cannot).'
            : 'That is not a valid admin token, or it has expired.',
        ),
        forbidden ? 403 : 401,
      )
    }
    setSessionCookie(c, result.sessionId, result.expiresAt)
    return c.redirect(next, 303)
  })

  return app
}

/** Sign-out (behind the session and CSRF checks): the session row is deleted. */
export function signOutRoutes(): Hono<UiEnv> {
  const app = new Hono<UiEnv>()
  app.post('/sign-out', async (c) => {
    await uiSessions.signOut(c.get('deps'), c.get('sessionId'))
    clearSessionCookie(c)
    return c.redirect(`${UI_BASE}/sign-in`, 303)
  })
  return app
}
