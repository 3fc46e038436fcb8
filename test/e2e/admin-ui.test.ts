/**
 * The admin UI in a real browser: sign in, create a source, copy its token, provision a user
 * through SCIM with it, find the user, rotate the token. With SCIMD_SCREENSHOTS=<dir>, the
 * main pages are saved there (docs/screenshots).
 */
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ADMIN_KEY } from '../support/app.js'
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

describe.runIf(hasChromium || required)('admin UI in Chromium', () => {
  it('signs in, creates a source, provisions with its copied token, finds the user, rotates', async () => {
    const { origin, browser } = await serveWithBrowser()
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

    // The other main pages, for the screenshots and for console errors.
    await page.goto(`${origin}/if/admin/sources`)
    await shot(page, 'sources')
    await page.goto(`${origin}/if/admin/groups?q=Engineering`)
    await page.getByRole('link', { name: 'Engineering' }).click()
    await page.getByText('Members (1)').waitFor()
    await shot(page, 'group')
    await page.goto(`${origin}/if/admin/tokens`)
    await shot(page, 'tokens')
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
  })

  it('works without JavaScript: sign in, create a source, view its token', async () => {
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
  })
})
