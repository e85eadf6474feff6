// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Administration in the browser against the compiled binary: adding the real S3 server (Ceph RGW)
 * as a backend with a connection test, using it (bucket, upload, versioning, a refused delete of a
 * non-empty bucket), upload conflicts, quota banners and refusals, and the audit log filters.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { s3Env } from '../helpers/s3.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

let stowage: Stowage
let browser: Browser
let admin: Watched
const suffix = Date.now().toString(36)
const BUCKET = `e2e-ui-${suffix}`

function uploadRow(page: Page, name: string) {
  return page.getByRole('listitem').filter({ hasText: name })
}

async function uploadBuffer(page: Page, name: string, body: string, mimeType = 'text/plain'): Promise<void> {
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Upload files' }).click()
  await (await chooser).setFiles([{ name, mimeType, buffer: Buffer.from(body) }])
}

beforeAll(async () => {
  // The S3 listener off (quickstart turns it on): a feature that is off is one of the refusals counted below.
  ;[stowage, browser] = await Promise.all([startStowage({}, ['--no-s3']), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('an admin adds the S3 server as a backend after a connection test, then uses it', async () => {
  const s3 = s3Env()
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/admin/backends`)
  await page.getByRole('button', { name: 'Add S3 backend' }).click()
  const form = page.getByRole('dialog', { name: 'Add an S3 backend' })
  await form.getByLabel('ID').fill('Bad ID')
  await form.getByLabel('Endpoint URL').fill('ftp://nope')
  await form.getByLabel('Access key').fill(s3.accessKey)
  await form.getByLabel('Secret key', { exact: true }).fill(s3.secretKey)
  await form.getByRole('button', { name: 'Add backend' }).click()
  await form.getByText('Use 1–64 lowercase letters', { exact: false }).waitFor()
  await form.getByText('The endpoint must start with http:// or https://.').waitFor()

  await form.getByLabel('ID').fill('rgw')
  await form.getByLabel('Display name').fill('Ceph RGW')
  await form.getByLabel('Endpoint URL').fill(s3.endpoint)
  await form.getByLabel('Region').fill(s3.region)
  await form.getByRole('button', { name: 'Test connection' }).click()
  await form.getByText('Connected in', { exact: false }).waitFor()
  await form.getByRole('button', { name: 'Add backend' }).click()
  await form.waitFor({ state: 'hidden' })
  const row = page.getByRole('row').filter({ hasText: 'Ceph RGW' })
  await row.getByText('Added here').waitFor()
  // The secret never comes back to the browser.
  const listed = await apiCall(page, 'GET', '/api/admin/backends')
  expect(JSON.stringify(listed.json)).not.toContain(s3.secretKey)

  await page.getByRole('link', { name: 'Backends', exact: true }).first().click()
  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Ceph RGW' }) })
  await card.getByText('Versioning').waitFor()
  await card.getByRole('link', { name: 'Buckets' }).click()
  await page.waitForURL('**/b/rgw')
  await page.getByRole('button', { name: 'New bucket' }).click()
  const create = page.getByRole('dialog', { name: 'New bucket' })
  await create.getByLabel('Name').fill(BUCKET)
  await create.getByRole('button', { name: 'Create bucket' }).click()
  await create.waitFor({ state: 'hidden' })

  // Versioning on, through the settings page the S3 backend supports.
  await page.getByRole('link', { name: `Settings of ${BUCKET}` }).click()
  await page.getByRole('heading', { level: 1, name: `Settings of ${BUCKET}` }).waitFor()
  await page.getByRole('switch', { name: 'Keep object versions' }).check()
  await page.getByText('Versioning turned on.').waitFor()
  await page.getByRole('link', { name: 'Back to the objects' }).click()

  await uploadBuffer(page, 'v.txt', 'version one\n')
  await uploadRow(page, 'v.txt').getByText('Uploaded', { exact: true }).waitFor()
  await page.getByRole('button', { name: 'Clear finished' }).click()
  await uploadBuffer(page, 'v.txt', 'version two\n')
  // The key exists: the upload asks instead of overwriting.
  const conflict = page.getByRole('dialog', { name: 'Replace the existing object?' })
  await conflict.getByRole('button', { name: 'Replace' }).click()
  await uploadRow(page, 'v.txt').getByText('Uploaded', { exact: true }).waitFor()

  await page.getByRole('button', { name: 'v.txt', exact: true }).click()
  const drawer = page.getByRole('dialog', { name: 'v.txt' })
  await drawer.getByText('version two').waitFor()
  await drawer.getByRole('heading', { name: 'Versions' }).waitFor()
  await drawer
    .getByRole('link', { name: /^Download version / })
    .nth(1)
    .waitFor()
  expect(await drawer.getByRole('link', { name: /^Download version / }).count()).toBe(2)
  await page.keyboard.press('Escape')

  // A bucket that still holds objects cannot be deleted, and the dialog says why.
  await page.goto(`${stowage.url}/b/rgw`)
  await page.getByRole('button', { name: `Delete ${BUCKET}` }).click()
  const remove = page.getByRole('dialog', { name: `Delete bucket ${BUCKET}?` })
  await remove.getByRole('button', { name: 'Delete bucket' }).click()
  await remove.getByText('The bucket is not empty.', { exact: false }).waitFor()
  await remove.getByRole('button', { name: 'Cancel' }).click()

  // Emptied (all versions) through the API, it goes.
  const versions = await apiCall(page, 'GET', `/api/backends/rgw/buckets/${BUCKET}/object/versions?key=v.txt`)
  const keys = (versions.json as { versions: { key: string; version_id: string }[] }).versions.map((v) => ({ key: v.key, version_id: v.version_id }))
  expect((await apiCall(page, 'POST', `/api/backends/rgw/buckets/${BUCKET}/objects/delete`, { keys })).status).toBe(200)
  await page.getByRole('button', { name: `Delete ${BUCKET}` }).click()
  await remove.getByRole('button', { name: 'Delete bucket' }).click()
  await page.getByText(`Bucket ${BUCKET} deleted.`).waitFor()

  // The admin removes the backend again.
  await page.goto(`${stowage.url}/admin/backends`)
  await page.getByRole('button', { name: 'Delete rgw' }).click()
  await page.getByRole('dialog', { name: 'Delete backend Ceph RGW?' }).getByRole('button', { name: 'Delete backend' }).click()
  await page.getByText('Backend Ceph RGW deleted.').waitFor()
  await page.getByRole('row').filter({ hasText: 'Ceph RGW' }).waitFor({ state: 'detached' })

  // 412 object_exists (the conflict) and 409 bucket_not_empty are provoked on purpose.
  expect(unexpected(problems, { statuses: [409, 412] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 120_000)

test('quota: the banner warns, and an upload past the hard limit fails visibly with the reason', async () => {
  const { page, problems } = admin
  clear(problems)
  expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'tight' })).status).toBe(201)
  await page.goto(`${stowage.url}/b/local/tight/settings`)
  await page.getByLabel('Soft limit').fill('0.5')
  await page.getByLabel('Soft limit').locator('xpath=..').getByRole('combobox').selectOption({ label: 'MiB' })
  await page.getByLabel('Hard limit').fill('1')
  await page.getByLabel('Hard limit').locator('xpath=..').getByRole('combobox').selectOption({ label: 'MiB' })
  await page.getByRole('button', { name: 'Save quota' }).click()
  await page.getByText('Quota saved.').waitFor()

  await page.getByRole('link', { name: 'Back to the objects' }).click()
  await uploadBuffer(page, 'fits.bin', 'x'.repeat(1000 * 1024), 'application/octet-stream')
  await uploadRow(page, 'fits.bin').getByText('Uploaded', { exact: true }).waitFor()
  await page.reload()
  await page.getByText('This bucket is almost full').waitFor()

  await uploadBuffer(page, 'too-much.bin', 'y'.repeat(200 * 1024), 'application/octet-stream')
  const row = uploadRow(page, 'too-much.bin')
  await row.getByText('The bucket quota is full.').waitFor()
  // The refusal's detail in words, sizes as sizes, never the JSON it came in.
  expect(await row.locator('p.error').textContent()).toMatch(
    /^The bucket quota is full\. The bucket holds 1,000 KiB of its 1 MiB hard limit; this would add 200 KiB\.$/,
  )
  // Over the soft limit is said in words in the upload panel, not only by a colour.
  await page
    .getByRole('region', { name: 'Uploads' })
    .getByText(/Bucket “tight” is over its soft quota: it uses 1,000 KiB of 512 KiB\./)
    .waitFor()
  // A full bucket stays full: no Retry, only Dismiss.
  await row.getByRole('button', { name: 'Remove too-much.bin from the list' }).waitFor()
  expect(await row.getByRole('button', { name: 'Retry too-much.bin' }).count()).toBe(0)
  // The refusal came before the request body was read; the tab must still be able to move on.
  await page.goto(`${stowage.url}/b/local`, { timeout: 10_000 })
  await page.getByRole('heading', { level: 1, name: 'Local disk' }).waitFor()
  await page.getByRole('row').filter({ hasText: 'tight' }).getByText('Over its soft quota of 512 KiB').waitFor()
  expect(unexpected(problems, { statuses: [507] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('the dashboard counts a full quota and a disabled feature as refusals, not server faults, with local times', async () => {
  const { page, problems } = admin
  clear(problems)
  // The quota test above was refused with 507; a feature that is off answers 503 s3_proxy_disabled.
  expect((await apiCall(page, 'POST', '/api/me/s3-credentials', { backend_id: 'local', buckets: ['tight'] })).status).toBe(503)
  await page.goto(`${stowage.url}/admin/dashboard`)
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor()
  const faults = page.locator('.stat').filter({ hasText: 'Server faults' })
  const refusals = page.locator('.stat').filter({ hasText: 'Refused by design' })
  expect(Number((await refusals.locator('.value').textContent())?.trim())).toBeGreaterThanOrEqual(2)
  expect((await faults.locator('.value').textContent())?.trim()).toBe('0')
  const recent = page.getByRole('table', { name: 'Recent 5xx answers' })
  await recent.getByText('quota_exceeded').first().waitFor()
  await recent.getByText('s3_proxy_disabled').first().waitFor()
  expect(await recent.getByText('Fault', { exact: true }).count()).toBe(0)
  // Times in the reader's locale, never raw ISO.
  expect(await page.locator('main').textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/)
  expect(unexpected(problems, { statuses: [503] })).toEqual([])
}, 60_000)

test('the audit log filters by action prefix and offers the same filters as CSV', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/admin/audit`)
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor()
  await page.getByLabel('Action starts with').fill('bucket.')
  const filtered = page.waitForResponse((response) => response.url().includes('/api/admin/audit?') && response.url().includes('action=bucket.'))
  await page.getByRole('button', { name: 'Apply' }).click()
  await filtered
  await page.getByRole('cell', { name: 'bucket.create' }).first().waitFor()
  const actions = await page.locator('tbody td[data-label="Action"]').allTextContents()
  expect(actions.length).toBeGreaterThan(0)
  expect(actions.every((action) => action.trim().startsWith('bucket.'))).toBe(true)
  const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href')
  expect(href).toBe('/api/admin/audit.csv?action=bucket.')
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()])
  expect(download.suggestedFilename()).toMatch(/^audit-\d{8}-\d{6}\.csv$/)
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('the audit log filters by username, names the user a user event is about, shows details as fields, and keeps its filters in the URL', async () => {
  const { page, problems } = admin
  clear(problems)
  expect((await apiCall(page, 'POST', '/api/admin/users', { username: 'erin', password: 'copper meadow stone 2', role: 'user' })).status).toBe(201)
  await page.goto(`${stowage.url}/admin/audit`)
  await page.getByLabel('User', { exact: true }).fill('ADMIN')
  await page.getByLabel('Action starts with').fill('user.')
  await page.getByRole('button', { name: 'Apply' }).click()
  await page.waitForURL((url) => url.searchParams.get('username') === 'ADMIN' && url.searchParams.get('action') === 'user.')
  const row = page.getByRole('row').filter({ hasText: 'user.create' }).first()
  await row.getByText('User erin').waitFor()
  await row.getByRole('button', { name: 'Show' }).click()
  const fields = row.locator('dl')
  await fields.getByText('target username').waitFor()
  expect(await fields.textContent()).not.toContain('{')
  expect(await row.getByRole('cell').filter({ hasText: 'role' }).getByText('user', { exact: true }).count()).toBe(1)

  // The address is the view: opened afresh (or shared), it shows the same filtered log.
  const shared = page.url()
  const other = await openPage(browser, { viewport: { width: 375, height: 812 }, colorScheme: 'dark' })
  await other.context.addCookies(await page.context().cookies())
  await other.page.goto(shared)
  await other.page.getByRole('row').filter({ hasText: 'user.create' }).first().getByText('User erin').waitFor()
  expect(await other.page.getByLabel('User', { exact: true }).inputValue()).toBe('ADMIN')
  expect((await other.page.locator('tbody td[data-label="Action"]').allTextContents()).every((action) => action.trim().startsWith('user.'))).toBe(true)
  mkdirSync(SCREENSHOTS, { recursive: true })
  await other.page.screenshot({ path: join(SCREENSHOTS, 'audit-375-dark.png'), fullPage: true })
  await other.context.close()
  await page.screenshot({ path: join(SCREENSHOTS, 'audit.png'), fullPage: true })

  // A username that acted on nothing finds nothing, and says so.
  await page.getByLabel('User', { exact: true }).fill('nobody')
  await page.getByRole('button', { name: 'Apply' }).click()
  await page.getByText('No events match these filters.').waitFor()
  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)
