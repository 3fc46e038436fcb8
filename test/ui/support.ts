/** Drives the admin UI in-process like a browser: cookies, forms with the CSRF field, Origin. */
import { ADMIN_KEY, BASE, createTestApp, type TestApp } from '../support/app.js'

export { ADMIN_KEY, BASE }

export interface UiClient {
  t: TestApp
  cookie: string | undefined
  get(path: string, headers?: Record<string, string>): Promise<Response>
  /** POSTs a form; `origin` defaults to scimd's own, `csrf` to the session's. */
  post(
    path: string,
    fields?: Record<string, string>,
    options?: { origin?: string | null; csrf?: string | null; headers?: Record<string, string> },
  ): Promise<Response>
  csrf: string | undefined
}

/** The value of the `csrf` hidden field in a page. */
export function csrfOf(html: string): string | undefined {
  return /name="csrf" value="([^"]+)"/.exec(html)?.[1]
}

/** The session cookie a response sets (name=value), if any. */
export function sessionCookie(res: Response): string | undefined {
  const header = res.headers.get('set-cookie') ?? ''
  return /scimd_session=([^;]*)/.exec(header)?.[0]
}

export async function uiClient(t?: TestApp): Promise<UiClient> {
  const app = t ?? (await createTestApp())
  const client: UiClient = {
    t: app,
    cookie: undefined,
    csrf: undefined,
    get: async (path, headers = {}) =>
      app.app.request(`${BASE}${path}`, {
        headers: { ...(client.cookie ? { Cookie: client.cookie } : {}), ...headers },
      }),
    post: async (path, fields = {}, options = {}) => {
      const form = new URLSearchParams(fields)
      const csrf = options.csrf === undefined ? client.csrf : options.csrf
      if (csrf !== null && csrf !== undefined) form.set('csrf', csrf)
      const origin = options.origin === undefined ? BASE : options.origin
      return app.app.request(`${BASE}${path}`, {
        method: 'POST',
        body: form.toString(),
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          ...(origin !== null ? { Origin: origin } : {}),
          ...(client.cookie ? { Cookie: client.cookie } : {}),
          ...options.headers,
        },
      })
    },
  }
  return client
}

/** A client signed in with the bootstrap admin token, its CSRF token read from a page. */
export async function signedIn(t?: TestApp): Promise<UiClient> {
  const client = await uiClient(t)
  const res = await client.post('/if/admin/sign-in', { token: ADMIN_KEY })
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`)
  client.cookie = sessionCookie(res)
  const page = await client.get('/if/admin/sources')
  client.csrf = csrfOf(await page.text())
  return client
}
