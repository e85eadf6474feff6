// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket settings and versions in the browser against the real S3 server (Ceph RGW) behind the
 * compiled binary: a lifecycle rule starts empty and one that deletes asks first, spelling out its
 * scope; on the local disk backend the card offers only what a directory applies; CORS rules
 * reach the backend; an older version is restored and a deleted key undeleted.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { emptyAndDelete, rgwBackend, s3Env, testBucket } from '../helpers/s3.ts'

let stowage: Stowage
let browser: Browser
let admin: Watched
const BUCKET = testBucket('settings-ui')
const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  const s3 = s3Env()
  const added = await apiCall(admin.page, 'POST', '/api/admin/backends', {
    id: 'rgw',
    name: 'Ceph RGW',
    endpoint: s3.endpoint,
    region: s3.region,
    path_style: true,
    access_key: s3.accessKey,
    secret_key: s3.secretKey,
  })
  expect(added.status).toBe(201)
  expect((await apiCall(admin.page, 'POST', '/api/backends/rgw/buckets', { name: BUCKET })).status).toBe(201)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
  const rgw = rgwBackend()
  await emptyAndDelete(rgw, BUCKET, ['notes.txt']).catch(() => undefined)
  await rgw.close()
}, 30_000)

test('a new lifecycle rule starts empty, and a rule that deletes is saved only after a confirmation naming its scope', async () => {
  const { page, problems } = admin
  clear(problems)
  const lifecycle = `/api/backends/rgw/buckets/${BUCKET}/lifecycle`
  await page.goto(`${stowage.url}/b/rgw/${BUCKET}/settings`)
  const section = page.getByRole('region', { name: 'Lifecycle rules' })
  await section.getByRole('button', { name: 'Add rule' }).click()
  for (const label of [
    'Delete objects after (days)',
    'Delete old versions after (days)',
    'Abort unfinished uploads after (days)',
    'Move to another storage class after (days)',
  ]) {
    expect(await section.getByLabel(label).inputValue()).toBe('')
  }

  // An empty rule does nothing, so the server refuses it and nothing is deleted.
  await section.getByRole('button', { name: 'Save rules' }).click()
  await section.getByText('needs at least one action', { exact: false }).waitFor()
  expect(await apiCall(page, 'GET', lifecycle)).toMatchObject({ status: 200, json: { rules: [] } })

  await section.getByLabel('Delete objects after (days)').fill('30')
  await section.getByRole('button', { name: 'Save rules' }).click()
  const confirm = page.getByRole('dialog', { name: 'Save rules that delete objects?' })
  await confirm.getByText(`Rule 1: deletes every object in bucket “${BUCKET}” 30 days after it was written.`).waitFor()
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  await confirm.waitFor({ state: 'hidden' })
  expect(await apiCall(page, 'GET', lifecycle)).toMatchObject({ status: 200, json: { rules: [] } })

  await section.getByLabel('Only keys starting with').fill('logs/')
  await section.getByRole('button', { name: 'Save rules' }).click()
  await confirm.getByText(`Rule 1: deletes objects whose keys start with “logs/” in bucket “${BUCKET}” 30 days after they were written.`).waitFor()
  await confirm.getByRole('button', { name: 'Save and delete as described' }).click()
  await page.getByText('Lifecycle rules saved.').waitFor()
  expect(await apiCall(page, 'GET', lifecycle)).toMatchObject({ status: 200, json: { rules: [{ prefix: 'logs/', expiration_days: 30, enabled: true }] } })
  expect(unexpected(problems, { statuses: [400] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('on the local disk backend the lifecycle card offers what a directory applies (no storage classes), and the rule is kept', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/b/local`)
  expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'lifecycle-local' })).status).toBe(201)
  await page.goto(`${stowage.url}/b/local/lifecycle-local/settings`)
  const section = page.getByRole('region', { name: 'Lifecycle rules' })
  await section.getByRole('button', { name: 'Add rule' }).click()
  await section.getByLabel('Delete objects after (days)').waitFor()
  await section.getByLabel('Abort unfinished uploads after (days)').waitFor()
  await section.getByLabel('Delete old versions after (days)').waitFor()
  for (const absent of ['Move to another storage class after (days)', 'Storage class']) expect(await section.getByLabel(absent).count()).toBe(0)
  await section.getByLabel('Only keys starting with').fill('tmp/')
  await section.getByLabel('Delete objects after (days)').fill('7')
  await section.getByRole('button', { name: 'Save rules' }).click()
  const confirm = page.getByRole('dialog', { name: 'Save rules that delete objects?' })
  await confirm.getByRole('button', { name: 'Save and delete as described' }).click()
  await page.getByText('Lifecycle rules saved.').waitFor()
  await page.screenshot({ path: join(SCREENSHOTS, 'settings-lifecycle-local.png'), fullPage: true })
  expect(await apiCall(page, 'GET', '/api/backends/local/buckets/lifecycle-local/lifecycle')).toMatchObject({
    status: 200,
    json: { rules: [{ prefix: 'tmp/', expiration_days: 7, enabled: true }] },
  })
  expect(unexpected(problems)).toEqual([])
}, 60_000)

test('the CORS card says which requests its rules govern, and saved rules reach the S3 backend', async () => {
  const { page, problems } = admin
  clear(problems)
  const preflight = (): Promise<Response> =>
    fetch(`${s3Env().endpoint}/${BUCKET}/any-key`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' },
    })
  expect((await preflight()).status).toBe(403)
  await page.goto(`${stowage.url}/b/rgw/${BUCKET}/settings`)
  const section = page.getByRole('region', { name: 'CORS' })
  await section.getByText('These rules govern browser requests to Stowage’s S3 endpoint', { exact: false }).waitFor()
  await section.getByText('they are also applied to the storage backend itself', { exact: false }).waitFor()
  await section.getByRole('button', { name: 'Add rule' }).click()
  await section.getByLabel('Allowed origins').fill('https://app.example.com')
  await section.getByRole('checkbox', { name: 'PUT' }).check()
  await section.getByRole('button', { name: 'Save CORS rules' }).click()
  await page.getByText('CORS rules saved.').waitFor()
  const answer = await preflight()
  expect(answer.status).toBe(200)
  expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com')

  // The local disk backend keeps no rules of its own, and the card says so.
  await page.goto(`${stowage.url}/b/local`)
  if ((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: 'cors-local' })).status !== 201) throw new Error('bucket not created')
  await page.goto(`${stowage.url}/b/local/cors-local/settings`)
  await page.getByRole('region', { name: 'CORS' }).getByText('This backend does not take CORS rules of its own', { exact: false }).waitFor()
  // Leaving a page at once cancels its favicon request: an abort, not a failure.
  expect(unexpected(problems)).toEqual([])
}, 60_000)

test.each([
  ['rgw', BUCKET],
  ['local', 'versions-local'],
])(
  'on a versioned bucket of %s an older version is restored as current, and a deleted key is undeleted from its folder',
  async (backend, bucket) => {
    const { page, problems } = admin
    clear(problems)
    if (backend === 'local') {
      await page.goto(`${stowage.url}/b/local`)
      expect((await apiCall(page, 'POST', '/api/backends/local/buckets', { name: bucket })).status).toBe(201)
    }
    const base = `/api/backends/${backend}/buckets/${bucket}`
    expect((await apiCall(page, 'PUT', `${base}/versioning`, { enabled: true })).status).toBe(200)
    for (const body of ['first words\n', 'second words\n']) {
      expect(
        (await apiCall(page, 'POST', `${base}/object?key=${encodeURIComponent('notes.txt')}`, new TextEncoder().encode(body), { 'content-type': 'text/plain' }))
          .status,
      ).toBe(201)
    }
    await page.goto(`${stowage.url}/b/${backend}/${bucket}`)
    await page.getByRole('button', { name: 'notes.txt', exact: true }).click()
    const drawer = page.getByRole('dialog', { name: 'notes.txt' })
    await drawer.getByText('second words').waitFor()
    await drawer.getByRole('button', { name: /^Restore version / }).click()
    await page.getByText('Version restored as the current one.').waitFor()
    await drawer.getByText('first words').waitFor()
    const current = await page.request.get(`${stowage.url}${base}/object?key=notes.txt`)
    expect(await current.text()).toBe('first words\n')
    // The restore is a new version; the two it came from stay.
    await drawer
      .getByRole('link', { name: /^Download version / })
      .nth(2)
      .waitFor()
    await page.keyboard.press('Escape')

    const row = page.getByRole('row').filter({ has: page.getByRole('button', { name: 'notes.txt', exact: true }) })
    await row.getByRole('checkbox').check()
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    const remove = page.getByRole('dialog', { name: /^Delete/ })
    await remove.getByText('The bucket keeps versions, so they can be brought back', { exact: false }).waitFor()
    expect(await remove.getByText('cannot be undone', { exact: false }).count()).toBe(0)
    await remove.getByRole('button', { name: 'Delete', exact: true }).click()
    // Finished, the dialog closes by itself.
    await remove.waitFor({ state: 'hidden' })
    await row.waitFor({ state: 'detached' })

    await page.getByText('1 deleted object in this folder can be brought back').click()
    await page.getByRole('button', { name: 'Undelete notes.txt' }).click()
    await page.getByText('“notes.txt” is back.').waitFor()
    await row.waitFor()
    expect(await (await page.request.get(`${stowage.url}${base}/object?key=notes.txt`)).text()).toBe('first words\n')
    expect(await page.getByText('deleted object in this folder').count()).toBe(0)
    expect(unexpected(problems)).toEqual([])
  },
  60_000,
)
