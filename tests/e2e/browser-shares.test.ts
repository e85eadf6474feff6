// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Share links end to end in Chromium against the compiled binary: a password-protected share made
 * through the API is opened by a visitor without an account (wrong password, unlock, image
 * preview, download compared byte for byte, one download counted for preview and download); a
 * share made from the object browser's dialog shows on the Shares page, where revoking it turns
 * the recipient page into "Link revoked"; a folder shared from the browser lists its files and
 * downloads one file and the whole folder as a zip; and the Shares page and the recipient page
 * fit a 375 px phone.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { png } from '../helpers/png.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')
const BUCKET = 'shared-things'
const PASSWORD = 'open sesame 42'

let stowage: Stowage
let browser: Browser
let admin: Watched

const PICTURE = png(64, 48, [30, 120, 200])
const FILES: Record<string, string> = { 'album/a.txt': 'alpha\n', 'album/b.txt': 'bravo\n', 'album/day 2/c.txt': 'charlie\n' }

async function upload(page: Page, key: string, body: Uint8Array, type: string): Promise<void> {
  const res = await apiCall(page, 'POST', `/api/backends/local/buckets/${BUCKET}/object?key=${encodeURIComponent(key)}`, body, { 'content-type': type })
  if (res.status !== 201) throw new Error(`upload ${key}: ${res.status} ${JSON.stringify(res.json)}`)
}

type Share = { id: string; code: string; url: string; download_count: number; status: string }

async function share(page: Page, body: Record<string, unknown>): Promise<Share> {
  const res = await apiCall(page, 'POST', '/api/shares', { backend_id: 'local', bucket: BUCKET, ...body })
  if (res.status !== 201) throw new Error(`share: ${res.status} ${JSON.stringify(res.json)}`)
  return res.json as Share
}

async function shareById(page: Page, id: string): Promise<Share> {
  return ((await apiCall(page, 'GET', '/api/shares')).json as { shares: Share[] }).shares.find((s) => s.id === id)!
}

async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [event] = await Promise.all([page.waitForEvent('download'), click()])
  return { name: event.suggestedFilename(), bytes: readFileSync((await event.path())!) }
}

function unzip(bytes: Uint8Array): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-share-zip-'))
  const file = join(dir, 'a.zip')
  writeFileSync(file, bytes)
  const script =
    'import sys,json,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({n: z.read(n).decode("latin1") for n in z.namelist()}))'
  const proc = Bun.spawnSync([Bun.which('python3', { PATH: '/usr/bin:/bin' }) ?? 'python3', '-c', script, file])
  if (proc.exitCode !== 0) throw new Error(`bad zip: ${proc.stderr.toString()}`)
  return JSON.parse(proc.stdout.toString()) as Record<string, string>
}

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage({ STOWAGE_RATELIMIT__SHARE_PER_MINUTE: '0' }), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name: BUCKET })).status).toBe(201)
  await upload(admin.page, 'photos/pixel.png', PICTURE, 'image/png')
  for (const [key, text] of Object.entries(FILES)) await upload(admin.page, key, new TextEncoder().encode(text), 'text/plain')
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('a password-protected share: wrong password, unlock, preview, download the same bytes', async () => {
  const s = await share(admin.page, { key: 'photos/pixel.png', password: PASSWORD, max_downloads: 2 })
  const visitor = await openPage(browser)
  const { page, problems } = visitor
  const referers: Array<string | null> = []
  page.on('request', (request) => {
    if (request.url().includes(`/s/${s.code}/raw`)) void request.headerValue('referer').then((value) => referers.push(value))
  })
  await page.goto(`${stowage.url}/s/${s.code}`)
  await page.getByRole('heading', { name: 'This link is protected' }).waitFor()
  // Nothing about the file shows before the password.
  expect(await page.getByText('pixel.png').count()).toBe(0)

  await page.getByLabel('Password', { exact: true }).fill('not the password')
  await page.getByRole('button', { name: 'Open' }).click()
  await page.getByText('The password is incorrect.').waitFor()

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: 'Open' }).click()
  await page.getByRole('heading', { level: 1, name: 'pixel.png' }).waitFor()
  await page.getByText('image/png').waitFor()
  // A capped share asks before the preview spends a download.
  await page.getByRole('button', { name: 'Show preview' }).click()
  const image = page.getByRole('img', { name: 'Preview of pixel.png' })
  await image.waitFor()
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('img[alt="Preview of pixel.png"]')
    return img !== null && img.complete && img.naturalWidth > 0
  })
  expect(await image.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([64, 48])

  const got = await download(page, () => page.getByRole('link', { name: 'Download', exact: true }).click())
  expect(got.name).toBe('pixel.png')
  expect(got.bytes.equals(PICTURE)).toBe(true)
  // Preview and download from one browser are one download.
  expect((await shareById(admin.page, s.id)).download_count).toBe(1)
  // The page's own no-referrer policy applies: even its requests for the file carry no Referer with the code.
  expect(referers.length).toBeGreaterThan(0)
  expect(referers.filter((r) => r !== null)).toEqual([])
  expect(unexpected(problems, { statuses: [401] })).toEqual([])
  expect(problems.csp).toEqual([])
  await visitor.context.close()
}, 60_000)

test('the share dialog in the object browser, the Shares page, and revoking', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/b/local/${BUCKET}/photos/`)
  await page.getByRole('checkbox', { name: 'Select pixel.png' }).check()
  await page.getByRole('toolbar', { name: 'Actions for the selection' }).getByRole('button', { name: 'Share' }).click()
  const dialog = page.getByRole('dialog', { name: 'Share “pixel.png”' })
  await dialog.getByLabel('In 1 day').check()
  await dialog.getByLabel('Download limit').fill('3')
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, 'share-dialog.png') })
  await dialog.getByRole('button', { name: 'Create link' }).click()
  await dialog.getByText('Link created').waitFor()
  await page.screenshot({ path: join(SCREENSHOTS, 'share-dialog-created.png') })
  const link = await dialog.getByLabel('Share link').inputValue()
  expect(link).toMatch(new RegExp(`^${stowage.url}/s/[a-z2-7]{20}$`))
  await dialog.getByRole('button', { name: 'Done' }).click()

  await page.getByRole('link', { name: 'Shares' }).click()
  await page.waitForURL('**/shares')
  const row = page.getByRole('row').filter({ hasText: '0 of 3' })
  await row.getByText('Active').waitFor()
  await page.screenshot({ path: join(SCREENSHOTS, 'shares-page.png'), fullPage: true })
  await row.getByRole('button', { name: 'Revoke link to pixel.png' }).click()
  await page.getByRole('dialog', { name: 'Revoke this link?' }).getByRole('button', { name: 'Revoke link' }).click()
  await page.getByRole('row').filter({ hasText: '0 of 3' }).getByText('Revoked').waitFor()
  expect(unexpected(problems)).toEqual([])

  const visitor = await openPage(browser)
  await visitor.page.goto(link)
  await visitor.page.getByRole('heading', { name: 'Link revoked' }).waitFor()
  await visitor.page.goto(`${stowage.url}/s/${'a'.repeat(20)}`)
  await visitor.page.getByRole('heading', { name: 'Link not found' }).waitFor()
  await visitor.context.close()
}, 60_000)

test('a folder shared from the browser lists its files and downloads one of them or all as a zip', async () => {
  await admin.page.goto(`${stowage.url}/b/local/${BUCKET}/album/`)
  await admin.page.getByRole('button', { name: 'Share folder' }).click()
  const dialog = admin.page.getByRole('dialog', { name: 'Share folder “album”' })
  await dialog.getByText('Recipients see every file in this folder').waitFor()
  await dialog.getByRole('button', { name: 'Create link' }).click()
  const link = await dialog.getByLabel('Share link').inputValue()
  await dialog.getByRole('button', { name: 'Done' }).click()

  const visitor = await openPage(browser)
  const { page, problems } = visitor
  await page.goto(link)
  await page.getByRole('heading', { level: 1, name: 'album' }).waitFor()
  for (const name of ['a.txt', 'b.txt', 'day 2/c.txt']) await page.getByText(name, { exact: true }).waitFor()
  expect(await page.getByText(BUCKET).count()).toBe(0)

  const one = await download(page, () => page.getByRole('link', { name: 'Download day 2/c.txt' }).click())
  expect([one.name, one.bytes.toString()]).toEqual(['c.txt', 'charlie\n'])
  const zip = await download(page, () => page.getByRole('link', { name: 'Download all (zip)' }).click())
  expect(zip.name).toBe('album.zip')
  expect(unzip(zip.bytes)).toEqual({ 'a.txt': 'alpha\n', 'b.txt': 'bravo\n', 'day 2/c.txt': 'charlie\n' })
  expect(unexpected(problems)).toEqual([])
  await visitor.context.close()
}, 60_000)

test('at 375 px the Shares page fits the screen', async () => {
  const phone = await openPage(browser, { viewport: { width: 375, height: 812 } })
  await phone.context.addCookies(await admin.context.cookies())
  await phone.page.goto(`${stowage.url}/shares`)
  await phone.page.getByRole('heading', { level: 1, name: 'Shares' }).waitFor()
  await phone.page.getByText('Revoked').first().waitFor()
  expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  mkdirSync(SCREENSHOTS, { recursive: true })
  await phone.page.screenshot({ path: join(SCREENSHOTS, 'shares-page-375.png'), fullPage: true })
  expect(unexpected(phone.problems)).toEqual([])
  await phone.context.close()
}, 60_000)

test('at 375 px the recipient page fits the screen, in light and dark', async () => {
  const s = await share(admin.page, { key: 'photos/pixel.png', disposition: 'inline' })
  mkdirSync(SCREENSHOTS, { recursive: true })
  for (const scheme of ['light', 'dark'] as const) {
    const phone = await openPage(browser, { viewport: { width: 375, height: 812 }, colorScheme: scheme })
    await phone.page.goto(`${stowage.url}/s/${s.code}`)
    await phone.page.getByRole('img', { name: 'Preview of pixel.png' }).waitFor()
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    const button = await phone.page.getByRole('link', { name: 'Download', exact: true }).boundingBox()
    expect(button!.width).toBeGreaterThan(300)
    await phone.page.screenshot({ path: join(SCREENSHOTS, `share-375-${scheme}.png`), fullPage: true })
    expect(unexpected(phone.problems)).toEqual([])
    await phone.context.close()
  }
}, 60_000)
