// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every page of the web UI, opened in Chromium against the compiled binary (the API explorer has
 * its own file): each must render its heading with no console error, no uncaught exception, no failed request and
 * no CSP violation, at desktop width and at 375 px in dark mode (screenshots kept for review).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

let stowage: Stowage
let browser: Browser
let admin: Watched

/** Path → the level-1 heading the page must show. */
const PAGES: Array<[string, string]> = [
  ['/backends', 'Backends'],
  ['/b/local', 'Local disk'],
  ['/b/local/site-assets/', 'site-assets'],
  ['/b/local/site-assets/css/', 'css'],
  ['/b/local/site-assets/settings', 'Settings of site-assets'],
  ['/search?q=style', 'Search'],
  ['/me', 'Profile'],
  ['/me/password', 'Change password'],
  ['/admin/dashboard', 'Dashboard'],
  ['/admin/users', 'Users'],
  ['/admin/backends', 'Manage backends'],
  ['/admin/health', 'Backend health'],
  ['/admin/audit', 'Audit log'],
  ['/no/such/page', 'Page not found'],
]

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name: 'site-assets' })).status).toBe(201)
  const css = await apiCall(
    admin.page,
    'POST',
    '/api/backends/local/buckets/site-assets/object?key=css/style.css',
    new TextEncoder().encode('body { color: teal }\n'),
    { 'content-type': 'text/css' },
  )
  expect(css.status).toBe(201)
  mkdirSync(SCREENSHOTS, { recursive: true })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('every page renders clean at desktop width', async () => {
  const { page, problems } = admin
  for (const [path, heading] of PAGES) {
    clear(problems)
    // In-app navigation would be the usual way; a full load per page also checks each deep link.
    await page.goto(`${stowage.url}${path}`, { waitUntil: 'networkidle' })
    await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor()
    expect({ path, problems: unexpected(problems) }).toEqual({ path, problems: [] })
    expect({ path, csp: problems.csp }).toEqual({ path, csp: [] })
  }
}, 120_000)

test('every page renders clean at 375 px in dark mode, without sideways scrolling', async () => {
  const phone = await openPage(browser, { viewport: { width: 375, height: 812 }, colorScheme: 'dark' })
  await phone.context.addCookies(await admin.context.cookies())
  for (const [path, heading] of PAGES) {
    clear(phone.problems)
    await phone.page.goto(`${stowage.url}${path}`, { waitUntil: 'networkidle' })
    await phone.page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor()
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth)
    expect({ path, width }).toEqual({ path, width: 375 })
    expect({ path, problems: unexpected(phone.problems) }).toEqual({ path, problems: [] })
    expect({ path, csp: phone.problems.csp }).toEqual({ path, csp: [] })
    const name = path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'root'
    await phone.page.screenshot({ path: join(SCREENSHOTS, `page-375-dark-${name}.png`), fullPage: true })
  }
  // The navigation drawer opens and closes on a phone.
  await phone.page.getByRole('button', { name: 'Open menu' }).click()
  await phone.page.getByRole('link', { name: 'Audit log' }).click()
  await phone.page.waitForURL('**/admin/audit')
  await phone.page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor()
  await phone.context.close()
}, 180_000)

test('keyboard alone reaches the object browser and opens an object', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/b/local/site-assets/css/`, { waitUntil: 'networkidle' })
  await page.getByRole('button', { name: 'style.css', exact: true }).focus()
  await page.keyboard.press('Enter')
  const drawer = page.getByRole('dialog', { name: 'style.css' })
  await drawer.getByText('body { color: teal }').waitFor()
  await page.keyboard.press('Escape')
  await drawer.waitFor({ state: 'hidden' })
  // Focus returns to where it was, so keyboard users keep their place.
  expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('style.css')
  expect(unexpected(problems)).toEqual([])
}, 60_000)
