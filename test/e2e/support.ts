/**
 * Headless Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by
 * playwright-core. Without it the tests are skipped (one line says so), unless
 * SCIMD_E2E_REQUIRED=1 (set by .ci/run), which makes a missing browser a failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { type BrowserContext, chromium } from 'playwright-core'
import { onTestFinished } from 'vitest'
import { createTestApp, type TestApp } from '../support/app.js'

export const CHROMIUM = process.env.SCIMD_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const required = process.env.SCIMD_E2E_REQUIRED === '1'

if (!hasChromium && !required) {
  console.warn(`e2e: ${CHROMIUM} not found, browser tests skipped (apt-get install chromium)`)
}

/** Where screenshots go when SCIMD_SCREENSHOTS names a directory (docs/screenshots). */
export const SCREENSHOTS = process.env.SCIMD_SCREENSHOTS

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export interface Served {
  t: TestApp
  origin: string
  browser: BrowserContext
}

/** A real app on a fresh database, listening on 127.0.0.1, and a fresh headless browser. */
export async function serveWithBrowser(): Promise<Served> {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const t = await createTestApp({ slug: 'seed', env: { SCIMD_BASE_URL: origin } })
  const server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const profile = mkdtempSync(join(tmpdir(), 'scimd-e2e-chromium-'))
  // A persistent context on a new, empty directory: the fresh --user-data-dir (Playwright
  // passes it to Chromium itself and refuses it among the args).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 800 },
    // The copy buttons write to the clipboard; the test reads it back.
    permissions: ['clipboard-read', 'clipboard-write'],
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  // Registered after createTestApp's own teardown, so it runs first (vitest runs them in
  // reverse): the browser and server stop before the database closes.
  onTestFinished(async () => {
    await browser.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(profile, { recursive: true, force: true })
  })
  return { t, origin, browser }
}
