// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Previews in the object drawer stay inside their box, whatever their kind (PDF, a large image,
 * long text), so the object's details below are never drawn over; screenshots of the drawer with a
 * PDF at desktop and phone widths, light and dark.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { apiCall, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { writeDiskObjects } from '../helpers/object-browser.ts'
import { pdf } from '../helpers/pdf.ts'
import { png } from '../helpers/png.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

let stowage: Stowage
let browser: Browser
let admin: Watched

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name: 'papers' })).status).toBe(201)
  const modified = new Date('2026-03-01T10:00:00Z')
  writeDiskObjects(stowage, 'papers', [
    { key: 'report.pdf', bytes: pdf('Quarterly report'), modified },
    { key: 'poster.png', bytes: png(1600, 2400, [40, 120, 200]), modified },
    { key: 'notes.txt', bytes: new TextEncoder().encode(Array.from({ length: 400 }, (_, i) => `line ${i + 1} of the notes`).join('\n')), modified },
  ])
  mkdirSync(SCREENSHOTS, { recursive: true })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

/** How far the preview's content reaches past its box, and whether the box reaches into the details below it. */
async function overflow(page: Page): Promise<{ content: number; intoDetails: number }> {
  return page.evaluate(() => {
    const box = document.querySelector('dialog[open] section.preview')!.getBoundingClientRect()
    const media = document.querySelector('dialog[open] section.preview > :is(iframe, img, video, audio, pre, p)')!.getBoundingClientRect()
    const details = document.querySelector('dialog[open] dl')!.getBoundingClientRect()
    return {
      content: Math.max(0, media.bottom - box.bottom, media.right - box.right, box.top - media.top, box.left - media.left),
      intoDetails: Math.max(0, box.bottom - details.top),
    }
  })
}

async function openDrawer(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name, exact: true }).click()
  await page.getByRole('dialog', { name }).locator('dl').waitFor()
}

test('a PDF, a tall image and long text each stay inside the preview box, above the details', async () => {
  const { page, problems } = admin
  await page.goto(`${stowage.url}/b/local/papers`)
  for (const name of ['report.pdf', 'poster.png', 'notes.txt']) {
    await openDrawer(page, name)
    const drawer = page.getByRole('dialog', { name })
    if (name === 'poster.png') await page.waitForFunction(() => document.querySelector<HTMLImageElement>('dialog[open] img')?.complete === true)
    if (name === 'notes.txt') await drawer.getByText('line 400 of the notes').waitFor({ state: 'attached' })
    expect({ name, ...(await overflow(page)) }).toEqual({ name, content: 0, intoDetails: 0 })
    await page.keyboard.press('Escape')
    await drawer.waitFor({ state: 'hidden' })
  }
  // Closing a drawer cancels what its preview was still loading (Chrome's PDF viewer included).
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('screenshots of the drawer with a PDF: desktop and phone, light and dark', async () => {
  for (const [label, viewport, colorScheme] of [
    ['desktop-light', { width: 1280, height: 900 }, 'light'],
    ['desktop-dark', { width: 1280, height: 900 }, 'dark'],
    ['375-light', { width: 375, height: 812 }, 'light'],
    ['375-dark', { width: 375, height: 812 }, 'dark'],
  ] as const) {
    const view = await openPage(browser, { viewport, colorScheme })
    await view.context.addCookies(await admin.context.cookies())
    await view.page.goto(`${stowage.url}/b/local/papers`)
    await openDrawer(view.page, 'report.pdf')
    expect(await overflow(view.page)).toEqual({ content: 0, intoDetails: 0 })
    await view.page.screenshot({ path: join(SCREENSHOTS, `drawer-pdf-${label}.png`) })
    await view.context.close()
  }
}, 90_000)
