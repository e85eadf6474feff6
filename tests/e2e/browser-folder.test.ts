// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Working in a folder of the object browser, against the compiled binary: the filter (substring,
 * any case, over what has loaded, with a way to ask the server beyond it), copy and move with a
 * destination picker and the replace / skip / keep-both choice, and the first-minutes rough edges
 * (new folder opened, finished dialogs closing, pin of a folder, shift-click ranges).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { rowNames, writeDiskObjects } from '../helpers/object-browser.ts'

let stowage: Stowage
let browser: Browser
let admin: Watched
const modified = new Date('2026-02-01T09:00:00Z')
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  for (const name of ['library', 'archive']) expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name })).status).toBe(201)
  writeDiskObjects(stowage, 'library', [
    { key: 'Annual-Report.pdf', bytes: text('pdf'), modified },
    { key: 'report-draft.txt', bytes: text('draft'), modified },
    { key: 'notes.txt', bytes: text('notes'), modified },
    { key: 'Reports/2025.txt', bytes: text('2025'), modified },
    // More than a page (1000 keys), so "zeta" is on the server but not loaded at first.
    ...Array.from({ length: 1100 }, (_, i) => ({ key: `bulk/item-${String(i).padStart(4, '0')}.txt`, bytes: text('x'), modified })),
  ])
  writeDiskObjects(
    stowage,
    'archive',
    Array.from({ length: 1100 }, (_, i) => ({ key: `log-${String(i).padStart(4, '0')}.txt`, bytes: text('x'), modified })).concat([{ key: 'zeta-report.txt', bytes: text('z'), modified }]),
  )
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('the filter matches anywhere in a name, in any case, and can ask the server for names beyond the loaded page', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/b/local/library`)
  const filter = page.getByRole('searchbox', { name: 'Filter by name' })
  expect(await filter.getAttribute('placeholder')).toBe('Filter by name')
  await filter.fill('REPORT')
  await page.getByText('3 of 5 loaded items contain “REPORT”.').waitFor()
  expect((await rowNames(page)).sort()).toEqual(['Annual-Report.pdf', 'Reports', 'report-draft.txt'])
  await filter.fill('')
  await page.getByText('5 items.', { exact: true }).waitFor()

  // A folder bigger than a page: the filter says what it covers and offers the server's prefix lookup.
  await page.goto(`${stowage.url}/b/local/archive`)
  await filter.fill('zeta')
  await page.getByText('0 of 1,000 loaded items contain “zeta”.').waitFor()
  await page.getByRole('button', { name: 'Look up names starting with “zeta” in the whole folder' }).click()
  await page.getByText('Names starting with “zeta”, from the whole folder.', { exact: false }).waitFor()
  await page.getByRole('button', { name: 'zeta-report.txt', exact: true }).waitFor()
  expect(await rowNames(page)).toEqual(['zeta-report.txt'])

  // Text with a slash is a folder to open.
  await page.goto(`${stowage.url}/b/local/library`)
  await filter.fill('Reports/')
  await page.getByText('Press Enter to open the folder “Reports/”.').waitFor()
  await filter.press('Enter')
  await page.waitForURL('**/b/local/library/Reports/')
  await page.getByRole('button', { name: '2025.txt', exact: true }).waitFor()
  expect(unexpected(problems, { aborted: true })).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)
