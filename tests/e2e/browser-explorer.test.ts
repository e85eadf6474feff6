// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The API explorer (Swagger UI, embedded in the binary) at /openapi and /swagger: the first screen
 * shows the operations list within a second, the document is rendered once, nothing offers to send
 * it elsewhere, no request leaves the origin, and "Try it out" works as the signed-in user (session
 * cookie, CSRF header on mutations).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, type Stowage, type Watched } from '../helpers/browser.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

let stowage: Stowage
let browser: Browser
let admin: Watched
/** Every URL the admin's pages asked for that is not on the Stowage origin. */
const offsite: string[] = []

/** Records, from the page itself, when the first operation of the list was put on screen. */
async function recordFirstOperation(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { firstOperationMs?: number }
    new MutationObserver((_, observer) => {
      if (w.firstOperationMs === undefined && document.querySelector('.opblock .opblock-summary-path')) {
        w.firstOperationMs = performance.now()
        observer.disconnect()
      }
    }).observe(document, { childList: true, subtree: true })
  })
}

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  const origin = new URL(stowage.url).origin
  admin.page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) offsite.push(request.url())
  })
  await recordFirstOperation(admin.context)
  await firstAdminSignIn(admin.page, stowage)
  mkdirSync(SCREENSHOTS, { recursive: true })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('the first screen shows the operations list within a second, rendered once, with nothing that sends the document away', async () => {
  const { page, problems } = admin
  // The dashboard page left behind by the sign-in may abort its own requests on the way out.
  clear(problems)
  // The first load fills the browser's cache as any visit after the first one has it; then the
  // median of five, as other work on the machine can stall any single load.
  const times: number[] = []
  for (let i = 0; i < 6; i++) {
    await page.goto(`${stowage.url}/openapi`)
    await page.waitForFunction(() => (window as unknown as { firstOperationMs?: number }).firstOperationMs !== undefined, undefined, { timeout: 20_000 })
    if (i > 0) times.push(await page.evaluate(() => (window as unknown as { firstOperationMs: number }).firstOperationMs))
  }
  times.sort((a, b) => a - b)
  console.log(`explorer: first operation on screen after ${times.map((ms) => Math.round(ms)).join(', ')} ms (median ${Math.round(times[2]!)} ms)`)
  expect(times[2]!).toBeLessThan(1000)

  // In the first screen, not below the fold.
  const first = page.locator('.opblock').first()
  expect(await first.isVisible()).toBe(true)
  expect((await first.boundingBox())!.y).toBeLessThan(900)
  // The document is drawn once.
  expect(await page.locator('.swagger-ui .information-container').count()).toBe(1)
  expect(await page.locator('.opblock-summary-path[data-path="/api/me"]').count()).toBe(1)
  await page.getByText('Dashboard API of Stowage.', { exact: false }).waitFor()
  for (const text of ['Ask AI', 'Generate MCP', 'Loading']) expect(await page.getByText(text, { exact: false }).count()).toBe(0)

  await page.screenshot({ path: join(SCREENSHOTS, 'explorer.png') })
  const dark = await openPage(browser, { colorScheme: 'dark' })
  await dark.page.goto(`${stowage.url}/swagger`)
  await dark.page.locator('.opblock').first().waitFor()
  await dark.page.screenshot({ path: join(SCREENSHOTS, 'explorer-dark.png') })
  const phone = await openPage(browser, { viewport: { width: 375, height: 812 } })
  await phone.page.goto(`${stowage.url}/swagger`)
  await phone.page.locator('.opblock').first().waitFor()
  await phone.page.screenshot({ path: join(SCREENSHOTS, 'explorer-375.png') })
  expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  for (const other of [dark, phone]) {
    expect(other.problems.csp).toEqual([])
    await other.context.close()
  }

  expect(offsite).toEqual([])
  expect(problems.csp).toEqual([])
  // Reloads cancel what the last load still fetched (the favicon, a lazy chunk): aborts, not failures.
  expect(problems.failed.filter((text) => !text.endsWith('net::ERR_ABORTED'))).toEqual([])
  expect(problems.exceptions).toEqual([])
}, 90_000)

test('"Try it out" runs a mutation as the signed-in user, with the CSRF header', async () => {
  const { page, problems } = admin
  await page.goto(`${stowage.url}/swagger`)
  const operation = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/api/backends/{bid}/buckets"]') })
  await operation.locator('.opblock-summary').click()
  await operation.getByRole('button', { name: 'Try it out' }).click()
  await operation.locator('tr[data-param-name="bid"] input').fill('local')
  await operation.locator('textarea.body-param__text').fill(JSON.stringify({ name: 'from-explorer' }))
  const sent = page.waitForRequest((request) => request.method() === 'POST' && request.url().endsWith('/api/backends/local/buckets'))
  await operation.getByRole('button', { name: 'Execute' }).click()
  const request = await sent
  expect((await request.allHeaders())['x-csrf-token']).toBeTruthy()
  await operation.locator('.live-responses-table .response-col_status').getByText('201').waitFor()
  const buckets = (await apiCall(page, 'GET', '/api/backends/local/buckets')).json as { buckets: { name: string }[] }
  expect(buckets.buckets.map((bucket) => bucket.name)).toContain('from-explorer')
  expect(offsite).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)
