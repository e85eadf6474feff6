// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The object browser end to end on the quickstart's `local` disk backend, in Chromium against the
 * compiled binary: bucket creation, uploads (one request and multipart with progress), downloads
 * compared byte for byte, image preview, resume after a reload, folders (upload, copy, delete
 * with streamed progress), drag and drop, the phone layout, sorting by column, and a folder of
 * 3000 objects staying responsive.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { longestFrame, msToSort, rowNames, watchFrames, writeDiskObjects } from '../helpers/object-browser.ts'
import { png } from '../helpers/png.ts'

const MiB = 1024 * 1024
/** Where the phone screenshot goes, for a person to look at. */
const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

let stowage: Stowage
let browser: Browser
let tab: Watched
let files: string

const sha256 = (bytes: Uint8Array): string => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')

async function downloadRow(page: Page, name: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Download ${name}` }).click()])
  return readFileSync((await download.path())!)
}

/** The upload panel's entry for one file. */
function uploadRow(page: Page, name: string) {
  return page.getByRole('listitem').filter({ hasText: name })
}

async function uploadFiles(page: Page, paths: string[]): Promise<void> {
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Upload files' }).click()
  await (await chooser).setFiles(paths)
}

/** The object keys of a bucket, read through the API (what the server really holds). */
async function keysOf(page: Page, bucket: string): Promise<string[]> {
  const result = await apiCall(page, 'GET', `/api/backends/local/buckets/${bucket}/objects?delimiter=`)
  return (result.json as { objects: { key: string }[] }).objects.map((object) => object.key)
}

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  files = mkdtempSync(join(tmpdir(), 'stowage-e2e-files-'))
  writeFileSync(join(files, 'notes.txt'), 'Stowage notes\nsecond line\n')
  writeFileSync(join(files, 'pixel.png'), png(64, 48, [200, 30, 30]))
  const big = Buffer.alloc(40 * MiB)
  for (let i = 0; i < big.length; i += 65536) big.set(crypto.getRandomValues(new Uint8Array(65536)), i)
  writeFileSync(join(files, 'big.bin'), big)
  writeFileSync(join(files, 'resume.bin'), big.subarray(0, 40 * MiB - 12345))
  writeFileSync(join(files, 'flaky.bin'), big.subarray(0, 16 * MiB + 4096))
  mkdirSync(join(files, 'album', 'day 2'), { recursive: true })
  writeFileSync(join(files, 'album', 'a.txt'), 'alpha\n')
  writeFileSync(join(files, 'album', 'b.txt'), 'bravo\n')
  writeFileSync(join(files, 'album', 'day 2', 'c.txt'), 'charlie\n')
  tab = await openPage(browser)
  await firstAdminSignIn(tab.page, stowage)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
  if (files) rmSync(files, { recursive: true, force: true })
}, 30_000)

test('create a bucket, upload, list, download the same bytes, preview an image, delete', async () => {
  const { page, problems } = tab
  clear(problems)
  // Signing in landed on the only backend's buckets.
  await page.getByRole('heading', { level: 1, name: 'Local disk' }).waitFor()

  await page.getByRole('button', { name: 'New bucket' }).click()
  const dialog = page.getByRole('dialog', { name: 'New bucket' })
  await dialog.getByLabel('Name').fill('Holiday_Photos')
  await dialog.getByRole('button', { name: 'Create bucket' }).click()
  // The rules are explained before anything is sent.
  await dialog.getByText('Use lowercase letters only.').waitFor()
  await dialog.getByLabel('Name').fill('holiday-photos')
  await dialog.getByRole('button', { name: 'Create bucket' }).click()
  await dialog.waitFor({ state: 'hidden' })
  await page.getByRole('link', { name: 'holiday-photos', exact: true }).click()
  await page.waitForURL('**/b/local/holiday-photos/')
  await page.getByText('This folder is empty.', { exact: false }).waitFor()

  await uploadFiles(page, [join(files, 'notes.txt'), join(files, 'pixel.png')])
  await page.getByText('2 of 2 done').waitFor()
  await page.getByRole('button', { name: 'notes.txt', exact: true }).waitFor()
  await page.getByRole('button', { name: 'pixel.png', exact: true }).waitFor()
  expect((await keysOf(page, 'holiday-photos')).sort()).toEqual(['notes.txt', 'pixel.png'])

  expect((await downloadRow(page, 'notes.txt')).toString()).toBe(readFileSync(join(files, 'notes.txt')).toString())

  await page.getByRole('button', { name: 'pixel.png', exact: true }).click()
  const drawer = page.getByRole('dialog', { name: 'pixel.png' })
  const image = drawer.getByRole('img', { name: 'Preview of pixel.png' })
  await image.waitFor()
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('img[alt="Preview of pixel.png"]')
    return img !== null && img.complete && img.naturalWidth > 0
  })
  expect(await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([64, 48])
  await drawer.getByText('image/png').waitFor()
  await page.keyboard.press('Escape')
  await drawer.waitFor({ state: 'hidden' })

  await page.getByRole('checkbox', { name: 'Select all shown' }).check()
  await page.getByRole('toolbar', { name: 'Actions for the selection' }).getByRole('button', { name: 'Delete' }).click()
  const confirm = page.getByRole('dialog', { name: 'Delete 2 items?' })
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
  // A job that did everything closes its dialog and says what it did.
  await page.locator('[aria-live="polite"]').getByText('2 objects deleted').last().waitFor()
  await confirm.waitFor({ state: 'hidden' })
  await page.getByText('This folder is empty.', { exact: false }).waitFor()
  expect(await keysOf(page, 'holiday-photos')).toEqual([])

  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('a 40 MiB file goes up as 16 MiB parts with visible progress and downloads identical', async () => {
  const { page, problems, context } = tab
  clear(problems)
  const calls: string[] = []
  page.on('request', (request) => {
    if (request.url().includes('/multipart'))
      calls.push(`${request.method()} ${new URL(request.url()).pathname.replace('/api/backends/local/buckets/holiday-photos', '')}`)
  })
  // A slower uplink (about 16 MiB/s) keeps the upload on screen long enough to watch its progress.
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 * MiB })

  await uploadFiles(page, [join(files, 'big.bin')])
  const bar = page.getByRole('progressbar', { name: 'Upload of big.bin' })
  await bar.waitFor()
  const seen = new Set<number>()
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await Bun.sleep(50)) {
    const value = Number(await bar.getAttribute('aria-valuenow'))
    seen.add(value)
    if (value === 100 && (await uploadRow(page, 'big.bin').getByText('Uploaded', { exact: true }).count()) > 0) break
  }
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  expect([...seen].some((value) => value > 5 && value < 95)).toBe(true)
  await uploadRow(page, 'big.bin').getByText('Uploaded', { exact: true }).waitFor()

  expect(calls.filter((call) => call.startsWith('POST /multipart') && !call.includes('complete'))).toHaveLength(1)
  expect(calls.filter((call) => call.startsWith('PUT /multipart/parts/')).sort()).toEqual([
    'PUT /multipart/parts/1',
    'PUT /multipart/parts/2',
    'PUT /multipart/parts/3',
  ])
  expect(calls).toContain('POST /multipart/complete')

  const info = await apiCall(page, 'GET', '/api/backends/local/buckets/holiday-photos/object/info?key=big.bin')
  expect((info.json as { size: number }).size).toBe(40 * MiB)
  expect(sha256(await downloadRow(page, 'big.bin'))).toBe(sha256(readFileSync(join(files, 'big.bin'))))
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 120_000)

test('an interrupted multipart upload resumes after a reload, sending only the missing parts', async () => {
  const { page, problems, context } = tab
  clear(problems)
  await page.getByRole('button', { name: 'Clear finished' }).click()
  // A slow uplink, so the page can be reloaded while some parts are stored and others are not.
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 12 * MiB })
  await uploadFiles(page, [join(files, 'resume.bin')])
  const record = await page.waitForFunction(() => {
    const records = JSON.parse(localStorage.getItem('stowage.uploads.v1') ?? '[]') as { key: string; uploadId: string }[]
    return records.find((r) => r.key === 'resume.bin')?.uploadId ?? false
  })
  const uploadId = (await record.jsonValue()) as string
  const partsListed = async (): Promise<{ part_number: number; size: number }[]> => {
    const result = await apiCall(
      page,
      'GET',
      `/api/backends/local/buckets/holiday-photos/multipart/parts?key=resume.bin&upload_id=${encodeURIComponent(uploadId)}`,
    )
    return (result.json as { parts: { part_number: number; size: number }[] }).parts
  }
  const partsOnServer = async (): Promise<number[]> => (await partsListed()).map((part) => part.part_number).sort()
  const percentOf = (parts: { size: number }[]): number =>
    Math.round((parts.reduce((sum, part) => sum + part.size, 0) / statSync(join(files, 'resume.bin')).size) * 100)
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && (await partsOnServer()).length === 0;) await Bun.sleep(50)

  // The reload cuts off the parts still in flight.
  await page.reload()
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  const storedAtReload = await partsListed()
  const stored = storedAtReload.map((part) => part.part_number).sort()
  expect(stored.length).toBeGreaterThan(0)
  expect(stored.length).toBeLessThan(3)
  const missing = [1, 2, 3].filter((n) => !stored.includes(n))

  const after: string[] = []
  page.on('request', (request) => {
    if (request.url().includes('/multipart')) after.push(`${request.method()} ${new URL(request.url()).pathname.split('/holiday-photos')[1]}`)
  })
  // After the reload the upload is listed as interrupted until the same file is chosen again.
  const row = uploadRow(page, 'resume.bin')
  await row.getByText('Interrupted (', { exact: false }).waitFor()
  // Its bar shows the parts the server already holds: at least those stored when the page went away,
  // at most those stored now (a part whose last bytes had left before the reload may land after it).
  const bar = row.getByRole('progressbar')
  for (const deadline = Date.now() + 5000; Date.now() < deadline && Number(await bar.getAttribute('aria-valuenow')) === 0;) await Bun.sleep(50)
  const shown = Number(await bar.getAttribute('aria-valuenow'))
  expect(shown).toBeGreaterThanOrEqual(percentOf(storedAtReload) - 1)
  expect(shown).toBeLessThanOrEqual(percentOf(await partsListed()) + 1)
  // A different file is refused: resuming must never mix two files' parts.
  let chooser = page.waitForEvent('filechooser')
  await row.getByRole('button', { name: 'Choose file to resume' }).click()
  await (await chooser).setFiles(join(files, 'big.bin'))
  const wrongFile = row.getByText('That is not the same file', { exact: false })
  await wrongFile.waitFor()
  chooser = page.waitForEvent('filechooser')
  await row.getByRole('button', { name: 'Choose file to resume' }).click()
  await (await chooser).setFiles(join(files, 'resume.bin'))
  await row.getByText('Uploaded', { exact: true }).waitFor({ timeout: 60_000 })
  // The warning was about the other file; once the right one finished, it is gone.
  expect(await page.getByText('That is not the same file', { exact: false }).count()).toBe(0)
  // The parts cut off by the reload were the client going away, not a failing backend.
  expect(stowage.run.stdout()).not.toContain('storage backend failure')

  // Only parts missing at the reload are sent again (one that landed after it need not be).
  const resent = after.filter((call) => call.startsWith('PUT')).map((call) => Number(call.split('/').pop()))
  expect(resent.length).toBeGreaterThan(0)
  expect(resent.filter((n) => !missing.includes(n))).toEqual([])
  expect(after).toContain('GET /multipart/parts')
  expect(after).toContain('POST /multipart/complete')
  expect(await page.evaluate(() => localStorage.getItem('stowage.uploads.v1'))).toBeNull()
  expect(sha256(await downloadRow(page, 'resume.bin'))).toBe(sha256(readFileSync(join(files, 'resume.bin'))))
  // The part uploads cut off by the reload are aborted requests; nothing else failed.
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 150_000)

test('a part that fails is retried on its own and the upload still completes', async () => {
  const { page, problems } = tab
  clear(problems)
  await page.getByRole('button', { name: 'Clear finished' }).click()
  // The first attempt at part 2 meets a 503, as from a restarting proxy; the second goes through.
  let attempts = 0
  await page.route('**/multipart/parts/2?*', (route) => {
    attempts += 1
    return attempts === 1
      ? route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"backend_unavailable","message":"down"}}' })
      : route.continue()
  })
  await uploadFiles(page, [join(files, 'flaky.bin')])
  await uploadRow(page, 'flaky.bin').getByText('Uploaded', { exact: true }).waitFor({ timeout: 60_000 })
  await page.unrouteAll({ behavior: 'ignoreErrors' })
  expect(attempts).toBe(2)
  expect(sha256(await downloadRow(page, 'flaky.bin'))).toBe(sha256(readFileSync(join(files, 'flaky.bin'))))
  expect(unexpected(problems, { statuses: [503] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 120_000)

test('folders: upload a folder, copy it to another bucket with progress, then delete it recursively', async () => {
  const { page, problems } = tab
  clear(problems)
  expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'archive' })).status).toBe(201)
  await page.getByRole('button', { name: 'Clear finished' }).click()

  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Upload folder' }).click()
  await (await chooser).setFiles(join(files, 'album'))
  await page.getByText('3 of 3 done').waitFor()
  await page.getByRole('link', { name: 'album/', exact: true }).waitFor()
  expect((await keysOf(page, 'holiday-photos')).filter((key) => key.startsWith('album/')).sort()).toEqual(['album/a.txt', 'album/b.txt', 'album/day 2/c.txt'])

  await page.getByRole('checkbox', { name: 'Select album' }).check()
  await page.getByRole('toolbar', { name: 'Actions for the selection' }).getByRole('button', { name: 'Copy or move' }).click()
  const transfer = page.getByRole('dialog', { name: 'Copy album/' })
  await transfer.getByLabel('Destination bucket').selectOption('archive')
  await transfer.getByLabel('Destination folder').fill('2024/')
  await transfer.getByRole('button', { name: 'Copy', exact: true }).click()
  // A job that did everything closes its dialog and says what it did.
  await page.locator('[aria-live="polite"]').getByText('3 objects copied').last().waitFor()
  await transfer.waitFor({ state: 'hidden' })
  expect((await keysOf(page, 'archive')).sort()).toEqual(['2024/album/a.txt', '2024/album/b.txt', '2024/album/day 2/c.txt'])

  await page.getByRole('checkbox', { name: 'Select album' }).check()
  await page.getByRole('toolbar', { name: 'Actions for the selection' }).getByRole('button', { name: 'Delete' }).click()
  const confirm = page.getByRole('dialog', { name: 'Delete album/?' })
  await confirm.getByText('Folders are deleted with everything inside them', { exact: false }).waitFor()
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
  // A job that did everything closes its dialog and says what it did.
  await page.locator('[aria-live="polite"]').getByText('3 objects deleted').last().waitFor()
  await confirm.waitFor({ state: 'hidden' })
  expect(await page.getByRole('link', { name: 'album/', exact: true }).count()).toBe(0)
  expect((await keysOf(page, 'holiday-photos')).filter((key) => key.startsWith('album/'))).toEqual([])

  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('files dropped on the folder are uploaded into it', async () => {
  const { page, problems } = tab
  clear(problems)
  await page.getByRole('button', { name: 'Clear finished' }).click()
  const region = page.getByRole('region', { name: 'Objects in holiday-photos' })
  const transfer = await page.evaluateHandle(() => {
    const data = new DataTransfer()
    data.items.add(new File(['dropped text\n'], 'dropped.txt', { type: 'text/plain' }))
    return data
  })
  await region.dispatchEvent('dragover', { dataTransfer: transfer })
  await page.getByText('Drop to upload into holiday-photos').waitFor()
  await region.dispatchEvent('drop', { dataTransfer: transfer })
  await page.getByRole('button', { name: 'dropped.txt', exact: true }).waitFor()
  expect(await keysOf(page, 'holiday-photos')).toContain('dropped.txt')
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('at 375 px the object browser fits the screen, in light and dark', async () => {
  const phone = await openPage(browser, { viewport: { width: 375, height: 812 } })
  await phone.context.addCookies(await tab.context.cookies())
  mkdirSync(SCREENSHOTS, { recursive: true })
  for (const scheme of ['light', 'dark'] as const) {
    await phone.page.emulateMedia({ colorScheme: scheme })
    await phone.page.goto(`${stowage.url}/b/local/holiday-photos/`)
    await phone.page.getByRole('button', { name: 'big.bin', exact: true }).waitFor()
    // Nothing sticks out sideways, and each entry is a compact two-line row, not a tall card.
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    const heights = await phone.page.locator('tbody tr[data-index]').evaluateAll((rows) => rows.map((row) => row.getBoundingClientRect().height))
    expect(heights.length).toBeGreaterThan(0)
    expect(Math.max(...heights)).toBeLessThanOrEqual(64)
    // "Select all" and the three sort buttons share one line.
    const tops = await phone.page
      .locator('thead th')
      .evaluateAll((cells) => cells.filter((cell) => getComputedStyle(cell).display !== 'none').map((cell) => cell.getBoundingClientRect().top))
    expect(tops).toHaveLength(4)
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(8)
    await phone.page.getByRole('button', { name: 'Upload files' }).waitFor()
    await phone.page.screenshot({ path: join(SCREENSHOTS, `object-browser-375-${scheme}.png`), fullPage: true })
  }
  console.log(`phone screenshots in ${SCREENSHOTS}`)
  expect(unexpected(phone.problems)).toEqual([])
  expect(phone.problems.csp).toEqual([])
  await phone.context.close()
}, 60_000)

test('columns sort by size and date with folders first; the sort survives a reload; selection follows the key', async () => {
  const { page, problems } = tab
  clear(problems)
  expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'sorting' })).status).toBe(201)
  const day = (n: number): Date => new Date(Date.UTC(2024, 0, n))
  // name → [size, day of January]; each file holds its first letter repeated, to tell downloads apart.
  const files: Record<string, [number, number]> = {
    'a-large.txt': [3000, 1],
    'b-medium.txt': [500, 3],
    'c-small.txt': [10, 2],
    'file10.txt': [200, 5],
    'file2.txt': [100, 4],
    'docs/inner.txt': [1, 6],
  }
  writeDiskObjects(
    stowage,
    'sorting',
    Object.entries(files).map(([key, [size, n]]) => ({ key, bytes: Buffer.alloc(size, key[0]), modified: day(n) })),
  )
  const header = (name: string) => page.getByRole('columnheader', { name })
  const sortState = async () =>
    Object.fromEntries(await Promise.all(['Name', 'Size', 'Modified'].map(async (name) => [name, await header(name).getAttribute('aria-sort')])))

  await page.goto(`${stowage.url}/b/local/sorting/`)
  await page.getByRole('button', { name: 'file2.txt', exact: true }).waitFor()
  // Until a column is chosen the rows keep S3's key order, which is by name, ascending.
  expect(await rowNames(page)).toEqual(['docs', 'a-large.txt', 'b-medium.txt', 'c-small.txt', 'file10.txt', 'file2.txt'])
  expect(await sortState()).toEqual({ Name: 'ascending', Size: null, Modified: null })

  await header('Size').getByRole('button').click()
  expect(await sortState()).toEqual({ Name: null, Size: 'ascending', Modified: null })
  expect(await rowNames(page)).toEqual(['docs', 'c-small.txt', 'file2.txt', 'file10.txt', 'b-medium.txt', 'a-large.txt'])
  expect(
    await header('Size')
      .locator('svg')
      .evaluate((svg) => getComputedStyle(svg).visibility),
  ).toBe('visible')
  expect(
    await header('Name')
      .locator('svg')
      .evaluate((svg) => getComputedStyle(svg).visibility),
  ).toBe('hidden')
  await header('Size').getByRole('button').click()
  expect(await header('Size').getAttribute('aria-sort')).toBe('descending')
  expect(await rowNames(page)).toEqual(['docs', 'a-large.txt', 'b-medium.txt', 'file10.txt', 'file2.txt', 'c-small.txt'])

  // From the keyboard: the header is a real button, and it keeps the focus while the rows move.
  await header('Modified').getByRole('button').focus()
  await page.keyboard.press('Enter')
  expect(await rowNames(page)).toEqual(['docs', 'a-large.txt', 'c-small.txt', 'b-medium.txt', 'file2.txt', 'file10.txt'])
  await page.keyboard.press('Space')
  expect(await sortState()).toEqual({ Name: null, Size: null, Modified: 'descending' })
  expect(await rowNames(page)).toEqual(['docs', 'file10.txt', 'file2.txt', 'b-medium.txt', 'c-small.txt', 'a-large.txt'])
  expect(await page.evaluate(() => document.activeElement?.closest('th')?.textContent?.trim())).toBe('Modified')

  await page.reload()
  await page.getByRole('button', { name: 'file2.txt', exact: true }).waitFor()
  expect(await sortState()).toEqual({ Name: null, Size: null, Modified: 'descending' })
  expect(await rowNames(page)).toEqual(['docs', 'file10.txt', 'file2.txt', 'b-medium.txt', 'c-small.txt', 'a-large.txt'])
  // Everything is loaded, so there is nothing to say about a partial sort.
  expect(await page.getByText('The sort covers only the items loaded so far', { exact: false }).count()).toBe(0)

  // A selection is by key: it stays on the same object when the rows move under it.
  await page.getByRole('checkbox', { name: 'Select c-small.txt' }).check()
  await header('Size').getByRole('button').click()
  expect(await rowNames(page)).toEqual(['docs', 'c-small.txt', 'file2.txt', 'file10.txt', 'b-medium.txt', 'a-large.txt'])
  expect(await page.getByRole('checkbox', { name: 'Select c-small.txt' }).isChecked()).toBe(true)
  expect(await page.getByRole('checkbox', { name: 'Select file2.txt' }).isChecked()).toBe(false)
  const toolbar = page.getByRole('toolbar', { name: 'Actions for the selection' })
  await toolbar.getByText('1 selected').waitFor()
  const [download] = await Promise.all([page.waitForEvent('download'), toolbar.getByRole('button', { name: 'Download', exact: true }).click()])
  expect(readFileSync((await download.path())!).toString()).toBe('c'.repeat(10))
  expect((await downloadRow(page, 'b-medium.txt')).toString()).toBe('b'.repeat(500))
  await page.getByRole('button', { name: 'Details of file10.txt' }).click()
  const drawer = page.getByRole('dialog', { name: 'file10.txt' })
  await drawer.getByText('200 B').first().waitFor()
  await page.keyboard.press('Escape')
  await drawer.waitFor({ state: 'hidden' })

  await toolbar.getByRole('button', { name: 'Delete' }).click()
  const confirm = page.getByRole('dialog', { name: 'Delete c-small.txt?' })
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
  // A job that did everything closes its dialog and says what it did.
  await page.locator('[aria-live="polite"]').getByText('1 object deleted').last().waitFor()
  await confirm.waitFor({ state: 'hidden' })
  expect((await keysOf(page, 'sorting')).sort()).toEqual(['a-large.txt', 'b-medium.txt', 'docs/inner.txt', 'file10.txt', 'file2.txt'])

  // Names sort naturally: file2 before file10, where S3's byte order puts file10 first.
  await header('Name').getByRole('button').click()
  expect(await sortState()).toEqual({ Name: 'ascending', Size: null, Modified: null })
  expect(await rowNames(page)).toEqual(['docs', 'a-large.txt', 'b-medium.txt', 'file2.txt', 'file10.txt'])
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('a folder of 3000 objects: every page loaded, then re-sorted, without long stalls', async () => {
  const { page, problems } = tab
  clear(problems)
  const count = 3000
  expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'many' })).status).toBe(201)
  const key = (i: number): string => `photo-${String(i).padStart(4, '0')}.jpg`
  const size = (i: number): number => ((i * 7919) % 4999) + 1
  writeDiskObjects(
    stowage,
    'many',
    Array.from({ length: count }, (_, i) => ({
      key: key(i),
      bytes: new Uint8Array(size(i)),
      modified: new Date(Date.UTC(2024, 0, 1) + ((i * 104729) % 100_000) * 60_000),
    })),
  )
  const largest = key(Array.from({ length: count }, (_, i) => i).reduce((best, i) => (size(i) > size(best) ? i : best), 0))
  const rows = page.getByRole('table', { name: 'Folders and objects' }).locator('tbody tr')

  await page.goto(`${stowage.url}/b/local/many/`)
  await page.getByText('1,000 items loaded; there are more.').waitFor()
  await watchFrames(page)
  const hint = page.getByText('The sort covers only the items loaded so far; load more to include the rest.')
  await page.getByRole('columnheader', { name: 'Modified' }).getByRole('button').click()
  await hint.waitFor()

  const loads: string[] = []
  for (const loaded of ['2,000 items loaded; there are more.', '3,000 items.']) {
    const started = Date.now()
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.getByText(loaded).waitFor()
    loads.push(`${Date.now() - started} ms (longest frame ${await longestFrame(page)} ms)`)
  }
  await hint.waitFor({ state: 'hidden' })

  const sortMs = [await msToSort(page, 'Size'), await msToSort(page, 'Size')]
  const sortFrame = await longestFrame(page)
  expect(await page.getByRole('columnheader', { name: 'Size' }).getAttribute('aria-sort')).toBe('descending')
  expect((await rowNames(page))[0]).toBe(largest)
  // Only the rows on screen are in the page.
  const rendered = await rows.count()
  expect(rendered).toBeLessThan(count)
  await page.getByRole('button', { name: `Details of ${largest}` }).waitFor()
  // Scrolling moves the window: other rows are drawn, never all of them.
  for (let i = 0; i < 5; i++) await page.mouse.wheel(0, 5000)
  await page.waitForFunction((top) => document.querySelector('tbody tr[data-index] .name span')?.textContent !== top, largest)
  expect(await rows.count()).toBeLessThan(200)

  console.log(
    `${count} objects: pages 2 and 3 loaded and drawn in ${loads.join(', ')}; re-sorted in ${sortMs.join(' and ')} ms (longest frame ${sortFrame} ms) with ${rendered} rows drawn`,
  )
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 120_000)
