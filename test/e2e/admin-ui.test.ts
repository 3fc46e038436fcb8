/**
 * The admin UI in a real browser: sign in, create a source, copy its token, provision a user
 * through SCIM with it, find the user, rotate the token, create a provider and watch its
 * sync, add the user to a new local group, create a provider mapping and test it against
 * the user. With SCIMD_SCREENSHOTS=<dir>, the
 * main pages are saved there (docs/screenshots).
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY } from '../support/app.js'
import { startMemoryTarget } from '../support/targets/memory-target.js'
import { hasChromium, required, SCREENSHOTS, serveWithBrowser } from './support.js'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'

async function shot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

function scim(
  origin: string,
  slug: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
) {
  return fetch(`${origin}/source/scim/${slug}/v2${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/scim+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

/** A browser on a busy two-core machine: generous, where vitest's default is 30 s. */
const BROWSER_TEST_MS = 180_000

describe.runIf(hasChromium || required)('admin UI in Chromium', () => {
  it(
    'signs in, creates a source, provisions with its copied token, finds the user, rotates, syncs a provider',
    async () => {
      const { t, origin, browser } = await serveWithBrowser()
      const page = await browser.newPage()
      const errors: string[] = []
      // A CSP violation or script error shows in the console: the pages must have none.
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text())
      })
      page.on('pageerror', (e) => errors.push(e.message))

      await page.goto(`${origin}/`)
      await expect.poll(() => page.url()).toContain('/if/admin/sign-in')
      await shot(page, 'sign-in')
      await page.getByLabel('Admin token').fill(ADMIN_KEY)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(/\/if\/admin\/sources$/)

      // Create a source with the keyboard only.
      await page.getByRole('link', { name: 'New source' }).click()
      await page.getByLabel('Name').fill('Microsoft Entra ID')
      await page.getByLabel('Slug').focus()
      await page.keyboard.type('entra')
      await page.keyboard.press('Enter')
      await page.getByText('Source created.').waitFor()
      await shot(page, 'source-created')

      // Copy the token with its button and read the clipboard back.
      await page.getByRole('button', { name: 'Copy Token' }).click()
      await page.getByRole('button', { name: 'Copy Token' }).getByText('Copied').waitFor()
      const copied = String(await page.evaluate('navigator.clipboard.readText()'))
      expect(copied).toBe(await page.locator('#token').inputValue())
      await page.getByRole('button', { name: 'Copy SCIM URL' }).click()
      const url = String(await page.evaluate('navigator.clipboard.readText()'))
      expect(url).toBe(`${origin}/source/scim/entra/v2`)

      // Provision through SCIM with the copied token.
      const created = await scim(origin, 'entra', copied, 'POST', '/Users', {
        schemas: [USER],
        userName: 'grace.hopper@example.com',
        externalId: '7f3c2a-entra',
        name: { givenName: 'Grace', familyName: 'Hopper' },
        displayName: 'Grace Hopper',
        emails: [{ value: 'grace.hopper@example.com', type: 'work', primary: true }],
        active: true,
      })
      expect(created.status).toBe(201)
      const { id } = (await created.json()) as { id: string }
      for (const name of ['ada.lovelace', 'linus.torvalds', 'barbara.liskov']) {
        await scim(origin, 'entra', copied, 'POST', '/Users', {
          schemas: [USER],
          userName: `${name}@example.com`,
          displayName: name.replace('.', ' '),
          active: true,
        })
      }
      const group = await scim(origin, 'entra', copied, 'POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Engineering',
        members: [{ value: id }],
      })
      expect(group.status).toBe(201)

      // Find the user in the UI: the source's users, searched on the server.
      await page.goto(`${origin}/if/admin/sources/entra`)
      await shot(page, 'source')
      await page.getByRole('link', { name: 'Users', exact: true }).last().click()
      await shot(page, 'source-users')
      await page.getByLabel(/Start of userName/).fill('grace')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.waitForURL(/q=grace/)
      await expect.poll(() => page.locator('tbody tr').count()).toBe(1)
      await page.getByRole('link', { name: 'grace.hopper@example.com' }).click()
      await page.getByText('Stored SCIM document').waitFor()
      expect(await page.locator('pre').textContent()).toContain('"givenName": "Grace"')
      await shot(page, 'source-user')

      // Rotate the token: confirm the dialog; the old token stops, the new one works.
      page.once('dialog', (d) => void d.accept())
      await page.goto(`${origin}/if/admin/sources/entra`)
      await page.getByRole('button', { name: 'Rotate token' }).click()
      await page.getByText('Token rotated').waitFor()
      const rotated = await page.locator('#token').inputValue()
      expect(rotated).not.toBe(copied)
      expect((await scim(origin, 'entra', copied, 'GET', '/Users')).status).toBe(401)
      expect((await scim(origin, 'entra', rotated, 'GET', '/Users')).status).toBe(200)

      // A provider that pushes this directory into another SCIM application over HTTP (a
      // provider into this scimd's own source is refused: every user would be listed twice);
      // a full sync is requested, and its status page shows the users linked.
      const target = await startMemoryTarget()
      await page.goto(`${origin}/if/admin/providers`)
      await page.getByRole('link', { name: 'New provider' }).click()
      await page.getByLabel('Name').fill('Remote app')
      await page.getByLabel('SCIM base URL').fill(target.url)
      await page.getByLabel('Bearer token').fill(target.token)
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByText('Provider saved.').waitFor()
      await page.getByRole('button', { name: 'Run full sync' }).click()
      await page.getByText('Full sync requested').first().waitFor()
      await expect
        .poll(
          async () => {
            await page.getByRole('link', { name: 'Refresh' }).click()
            return page.locator('dd', { hasText: 'linked' }).first().textContent()
          },
          { timeout: 60_000, interval: 500 },
        )
        .toMatch(/^[1-9]\d* linked, 0 failing/)
      expect(await page.getByText('grace.hopper@example.com').count()).toBeGreaterThan(0)
      await shot(page, 'provider')
      expect([...target.users.values()].map((u) => u.userName)).toContain(
        'grace.hopper@example.com',
      )
      // A second identity provider (the 'seed' source) provisions the same username: two
      // directory users share it, told apart by their path below.
      const twin = await scim(origin, 'seed', t.key, 'POST', '/Users', {
        userName: 'grace.hopper@example.com',
        name: { givenName: 'Grace', familyName: 'Hopper' },
      })
      expect(twin.status).toBe(201)

      // A local group, and the SCIM-provisioned user added to it by a username search.
      await page.goto(`${origin}/if/admin/groups`)
      await page.getByRole('link', { name: 'New group' }).click()
      await page.getByLabel('Name').fill('App admins')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByText('Created.').waitFor()
      await page.getByLabel('Start of a username, or a UUID').fill('grace')
      await page.getByRole('button', { name: 'Find users' }).click()
      // Two users share the username (the 'seed' source's and the 'entra' source's), told
      // apart by their path.
      await page
        .locator('tr', { hasText: 'sources/entra' })
        .getByRole('button', { name: 'Add grace.hopper@example.com' })
        .click()
      await page.getByText('Member added.').waitFor()
      await page.getByText('Members (1)').waitFor()
      expect(
        await page.locator('section[aria-labelledby="members"] tbody').textContent(),
      ).toContain('grace.hopper@example.com')
      await shot(page, 'local-group')

      // A provider mapping, tested against that user.
      await page.getByRole('link', { name: 'Mappings' }).click()
      await shot(page, 'mappings')
      await page.getByRole('link', { name: 'New provider mapping' }).click()
      await page.getByLabel('Name').fill('Department from path')
      await page
        .getByLabel('Expression (JSONata)')
        .fill('{ "title": user.name, "userType": user.type }')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByText('Mapping created.').waitFor()
      await page.getByLabel('Username or group name').fill('grace.hopper@example.com')
      await page.getByRole('button', { name: 'Run test' }).click()
      await page.getByText('2 users have this username').waitFor()
      await page
        .getByRole('button', { name: /Test with .* \(goauthentik.io\/sources\/entra\)/ })
        .click()
      const result = JSON.parse(String(await page.locator('#test-result').textContent()))
      expect(result).toEqual({ title: 'Grace Hopper', userType: 'internal' })
      await shot(page, 'mapping')

      // The other main pages, for the screenshots and for console errors.
      await page.goto(`${origin}/if/admin/sources`)
      await shot(page, 'sources')
      await page.goto(`${origin}/if/admin/groups?q=Engineering`)
      await page.getByRole('link', { name: 'Engineering' }).first().click()
      await page.getByText('Members (1)').waitFor()
      await shot(page, 'group')
      await page.goto(`${origin}/if/admin/tokens`)
      await shot(page, 'tokens')
      await page.goto(`${origin}/if/admin/events`)
      await shot(page, 'events')
      await page.goto(`${origin}/if/admin/sources/entra/delete`)
      await shot(page, 'delete-source')

      // A narrow screen: nothing wider than the viewport.
      await page.setViewportSize({ width: 390, height: 844 })
      await page.goto(`${origin}/if/admin/sources/entra`)
      // Strings, not functions: the test is compiled without the DOM library.
      const overflow = Number(
        await page.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        ),
      )
      expect(overflow).toBeLessThanOrEqual(0)
      await shot(page, 'source-narrow')

      // Sign out: back to the sign-in page, and the pages are closed.
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.waitForURL(/sign-in/)
      await page.goto(`${origin}/if/admin/sources`)
      expect(page.url()).toContain('/if/admin/sign-in')
      expect(errors).toEqual([])
    },
    BROWSER_TEST_MS,
  )

  it(
    'works without JavaScript: sign in, create a source, view its token, add a group member',
    async () => {
      const { origin, browser } = await serveWithBrowser()
      const page = await browser.newPage()
      await page.route('**/*.js', (route) => route.abort())
      await page.goto(`${origin}/if/admin/sign-in`)
      await page.getByLabel('Admin token').fill(ADMIN_KEY)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(/sources$/)
      await page.getByRole('link', { name: 'New source' }).click()
      await page.getByLabel('Name').fill('Okta')
      await page.getByLabel('Slug').fill('okta')
      await page.getByRole('button', { name: 'Save' }).click()
      const key = await page.locator('#token').inputValue()
      expect(key.length).toBeGreaterThan(20)
      // Without the script, copy buttons stay hidden (the field can still be selected).
      expect(await page.getByRole('button', { name: 'Copy Token' }).isVisible()).toBe(false)
      await page.goto(`${origin}/if/admin/sources/okta`)
      expect(await page.locator('#token').count()).toBe(0)
      await page.getByRole('button', { name: 'View token' }).click()
      expect(await page.locator('#token').inputValue()).toBe(key)
      // A local group and a member, with plain forms.
      await page.goto(`${origin}/if/admin/new/group`)
      await page.getByLabel('Name').fill('No-script group')
      await page.getByRole('button', { name: 'Save' }).click()
      await page.getByLabel('Start of a username, or a UUID').fill('akadmin')
      await page.getByRole('button', { name: 'Find users' }).click()
      await page.getByRole('button', { name: 'Add akadmin' }).click()
      await page.getByText('Members (1)').waitFor()
    },
    BROWSER_TEST_MS,
  )
})
