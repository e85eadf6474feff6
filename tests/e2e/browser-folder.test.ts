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
    Array.from({ length: 1100 }, (_, i) => ({ key: `log-${String(i).padStart(4, '0')}.txt`, bytes: text('x'), modified })).concat([
      { key: 'zeta-report.txt', bytes: text('z'), modified },
      { key: 'notes.txt', bytes: text('old'), modified },
    ]),
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
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('first minutes: honest labels, no region on a local disk, a new folder opened, "Pin bucket" in a folder, a finished upload list folds away', async () => {
  const { page, problems } = admin
  clear(problems)
  // The quickstart backend has no config file to edit.
  await page.goto(`${stowage.url}/admin/backends`)
  const local = page.getByRole('row').filter({ hasText: 'Local disk' })
  await local.getByText('Set when Stowage starts', { exact: false }).waitFor()
  expect(await page.getByText('Edit in the config file').count()).toBe(0)

  await page.goto(`${stowage.url}/b/local`)
  await page.getByRole('button', { name: 'New bucket' }).click()
  const create = page.getByRole('dialog', { name: 'New bucket' })
  await create.getByLabel('Name').waitFor()
  expect(await create.getByLabel('Region').count()).toBe(0)
  await create.getByRole('button', { name: 'Cancel' }).click()

  await page.goto(`${stowage.url}/b/local/library`)
  await page.getByRole('button', { name: 'New folder' }).click()
  const folder = page.getByRole('dialog', { name: 'New folder' })
  await folder.getByLabel('Folder name').fill('2026')
  await folder.getByRole('button', { name: 'Create folder' }).click()
  // Opened at once, so the next upload lands in it.
  await page.waitForURL('**/b/local/library/2026/')
  await page.getByRole('heading', { level: 1, name: '2026' }).waitFor()
  await page.getByRole('button', { name: 'Pin bucket' }).waitFor()

  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Upload files' }).click()
  await (await chooser).setFiles([{ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('plan') }])
  const panel = page.getByRole('region', { name: 'Uploads' })
  await panel.getByText('Uploaded', { exact: true }).waitFor()
  expect(await apiCall(page, 'GET', '/api/backends/local/buckets/library/object/info?key=2026%2Fplan.txt')).toMatchObject({ status: 200 })
  // Everything went up: the list folds away by itself, the summary stays.
  await panel.getByRole('list').waitFor({ state: 'hidden', timeout: 15_000 })
  await panel.getByText('1 of 1 done').waitFor()

  // A metadata edit says what it does to the Modified time.
  await page.getByRole('button', { name: 'plan.txt', exact: true }).click()
  await page.getByRole('dialog', { name: 'plan.txt' }).getByText('its Modified time becomes the time of saving', { exact: false }).waitFor()
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('copy picks its destination from lists, and a name already there is replaced, skipped or kept as well, as chosen', async () => {
  const { page, problems } = admin
  clear(problems)
  const read = async (bucket: string, key: string): Promise<string> =>
    (await page.request.get(`${stowage.url}/api/backends/local/buckets/${bucket}/object?key=${encodeURIComponent(key)}`)).text()
  await page.goto(`${stowage.url}/b/local/library`)
  const open = async (): Promise<ReturnType<typeof page.getByRole>> => {
    await page.getByRole('checkbox', { name: 'Select notes.txt' }).check()
    await page.getByRole('toolbar', { name: 'Actions for the selection' }).getByRole('button', { name: 'Copy or move' }).click()
    return page.getByRole('dialog', { name: 'Copy notes.txt' })
  }

  let dialog = await open()
  // The folder field is empty, not a made-up example that looks filled in.
  expect(await dialog.getByLabel('Destination folder').getAttribute('placeholder')).toBeNull()
  await dialog.getByLabel('Destination bucket').selectOption('archive')
  await dialog.getByLabel('Destination folder').fill('')
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.getByText('notes.txt already exists there. What should happen to it?').waitFor()
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.getByText('Choose what to do with the names that already exist.').waitFor()
  await dialog.getByLabel('Keep both', { exact: false }).check()
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.waitFor({ state: 'hidden' })
  expect(await read('archive', 'notes (1).txt')).toBe('notes')
  expect(await read('archive', 'notes.txt')).toBe('old')

  dialog = await open()
  await dialog.getByLabel('Destination bucket').selectOption('archive')
  await dialog.getByLabel('Destination folder').fill('')
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.getByLabel('Skip them').check()
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.waitFor({ state: 'hidden' })
  expect(await read('archive', 'notes.txt')).toBe('old')

  // The picker: the bucket's folders are offered, one click goes into one.
  dialog = await open()
  await dialog.getByLabel('Destination folder').fill('')
  await dialog.getByRole('group', { name: 'Folders in library/' }).getByRole('button', { name: 'Reports/' }).click()
  expect(await dialog.getByLabel('Destination folder').inputValue()).toBe('Reports/')
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog.waitFor({ state: 'hidden' })
  expect(await read('library', 'Reports/notes.txt')).toBe('notes')
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)
