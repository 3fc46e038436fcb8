/** A second scimd on a real port: the generic RFC 7644 target (its source receives the push). */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { onTestFinished } from 'vitest'
import type { TestApp } from '../app.js'

/** Serves the test app on 127.0.0.1 and returns its source's SCIM base URL. */
export async function serveScimd(t: TestApp): Promise<string> {
  const server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/source/scim/${t.slug}/v2`
}
