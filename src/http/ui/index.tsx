/** The admin web UI under /if/admin: server-rendered pages, a session from an admin token, CSRF checks. */
import type { BlockList } from 'node:net'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ScimError } from '../../scim/errors.js'
import { SCRIPT, STYLESHEET } from './assets.js'
import { Notice, page, UI_BASE } from './layout.js'
import { directoryPages } from './pages/directory.js'
import { eventPages } from './pages/events.js'
import { localDirectoryPages, newGroupPage, newUserPage } from './pages/local-directory.js'
import { mappingPages, newMappingPage } from './pages/mappings.js'
import { newProviderPage, providerPages } from './pages/providers.js'
import { signInRoutes, signOutRoutes } from './pages/sign-in.js'
import { newSourcePage, sourcePages } from './pages/sources.js'
import { tokenPages } from './pages/tokens.js'
import { CsrfError, requireCsrf, requireSession, securityHeaders, type UiEnv } from './security.js'

export { UI_BASE } from './layout.js'

/** UI forms are a few short fields: anything larger is refused before it is parsed. */
const MAX_FORM_BYTES = 64 * 1024

const ASSETS = new Map([
  [STYLESHEET.path, { body: STYLESHEET.body, type: 'text/css; charset=utf-8' }],
  [SCRIPT.path, { body: SCRIPT.body, type: 'text/javascript; charset=utf-8' }],
])

function errorPage(title: string, message: string) {
  return page({
    title,
    section: 'none',
    children: (
      <>
        <Notice kind="error">{message}</Notice>
        <p>
          <a href={`${UI_BASE}/`}>Back to scimd</a>
        </p>
      </>
    ),
  })
}

/**
 * Builds the UI; app.ts mounts it at UI_BASE. `trusted` are the proxies whose
 * X-Forwarded-For is believed (the client address of sign-in limits and events).
 */
export function adminUi(trusted: BlockList | undefined): Hono<UiEnv> {
  const ui = new Hono<UiEnv>()
  ui.use('*', securityHeaders())
  ui.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD'
      ? next()
      : bodyLimit({
          maxSize: MAX_FORM_BYTES,
          onError: () => {
            throw ScimError.payloadTooLarge(MAX_FORM_BYTES)
          },
        })(c, next),
  )

  // Content-hashed names: a new build is a new URL, so the files may be cached for a year.
  ui.get('/static/:file', (c) => {
    const asset = ASSETS.get(c.req.param('file'))
    if (!asset) throw ScimError.notFound('No such file')
    c.header('Cache-Control', 'public, max-age=31536000, immutable')
    c.header('Content-Type', asset.type)
    return c.body(asset.body)
  })

  ui.route('/', signInRoutes(trusted))

  const signedIn = new Hono<UiEnv>()
  signedIn.use('*', requireSession(trusted), requireCsrf())
  signedIn.get('/', (c) => c.redirect(`${UI_BASE}/sources`, 302))
  signedIn.route('/', signOutRoutes())
  signedIn.route('/sources', sourcePages())
  signedIn.route('/new/source', newSourcePage())
  signedIn.route('/providers', providerPages())
  signedIn.route('/new/provider', newProviderPage())
  signedIn.route('/mappings', mappingPages())
  signedIn.route('/new/mapping', newMappingPage())
  signedIn.route('/tokens', tokenPages())
  signedIn.route('/events', eventPages())
  signedIn.route('/new/user', newUserPage())
  signedIn.route('/new/group', newGroupPage())
  signedIn.route('/', directoryPages())
  signedIn.route('/', localDirectoryPages())
  signedIn.all('*', () => {
    throw ScimError.notFound('No such page')
  })
  ui.route('/', signedIn)

  ui.onError((err, c) => {
    if (err instanceof CsrfError) {
      c.get('deps').logger.warn('ui request refused', {
        requestId: c.get('requestId'),
        reason: err.message,
      })
      return c.html(
        errorPage(
          'Request refused',
          'This form was not sent from a scimd page, or the page is too old. Reload the page and try again.',
        ),
        403,
      )
    }
    if (err instanceof ScimError && err.status < 500) {
      const title = err.status === 404 ? 'Not found' : 'Request refused'
      return c.html(errorPage(title, err.detail), err.status as 400)
    }
    c.get('deps').logger.error('ui request failed', {
      requestId: c.get('requestId'),
      error: err instanceof Error ? err.message : String(err),
    })
    return c.html(
      errorPage('Something went wrong', `The server failed (request ${c.get('requestId')}).`),
      500,
    )
  })
  return ui
}
