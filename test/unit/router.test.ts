/**
 * Every route of the app fits Hono's RegExpRouter. SmartRouter silently falls back to the
 * slower TrieRouter for the whole app when one route does not (a static segment such as
 * `/sources/new` beside `/sources/:slug`); in round 14 that cost every SCIM request.
 */
import { RegExpRouter } from 'hono/router/reg-exp-router'
import { describe, expect, it } from 'vitest'
import { startTestRuntime } from '../support/runtime.js'

describe('routing', () => {
  it('registers only routes the RegExpRouter accepts', async () => {
    const { app } = await startTestRuntime('sqlite')
    const router = new RegExpRouter<number>()
    for (const [i, route] of app.routes.entries()) router.add(route.method, route.path, i)
    // RegExpRouter compiles (and throws UnsupportedPathError) on its first match.
    expect(() => router.match('GET', '/source/scim/test/v2/Users')).not.toThrow()
  })

  it('serves requests through the RegExpRouter', async () => {
    const { app } = await startTestRuntime('sqlite')
    await app.request('/-/health/live/')
    const smart = app.router as unknown as { activeRouter: { name: string } }
    expect(smart.activeRouter.name).toBe('RegExpRouter')
  })
})
