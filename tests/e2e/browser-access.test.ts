// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Access grants in the browser, on a fresh install (quickstart, `access.default: none`) with an
 * RGW backend added by the admin and the S3 listener on:
 * - an admin grants access from a user's Access tab and from a bucket's Access tab, changes and
 *   revokes a grant;
 * - two users with a grant each see only their own bucket: on the backends and buckets pages, in
 *   search, and through the S3 key each mints;
 * - a user granted read only sees "You have read-only access here" and no control that writes.
 * Screenshots (desktop and 375 px phone, light and dark) go to $STOWAGE_SCREENSHOTS.
 */
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import type { Browser, Page } from 'playwright-core'
import { apiCall, clear, firstAdminSignIn, launchBrowser, openPage, signIn, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'
import { s3Env } from '../helpers/s3.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')
const PASSWORD = 'granite willow ember 5'
const TOKEN = `zk${Math.random().toString(36).slice(2, 7)}`
const suffix = Math.random().toString(36).slice(2, 8)
const ANN_S3 = `ann-s3-${suffix}`
const BOB_S3 = `bob-s3-${suffix}`

let stowage: Stowage
let browser: Browser
let admin: Watched
let proxy = ''
const ids: Record<string, string> = {}

async function ok(page: Page, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await apiCall(page, method, path, body, headers)
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`)
  return res.json
}

/** A full-page screenshot; a drawer is a modal over the viewport, so it is taken as the viewport shows it. */
async function shot(page: Page, name: string, o: { dialog?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: !o.dialog })
}

beforeAll(async () => {
  const rgw = s3Env()
  ;[stowage, browser] = await Promise.all([startStowage({ STOWAGE_S3_PROXY__ENABLED: 'true', STOWAGE_S3_PROXY__LISTEN: '127.0.0.1:0' }), launchBrowser()])
  for (const deadline = Date.now() + 10_000; !proxy && Date.now() < deadline; await Bun.sleep(20)) {
    const address = /"msg":"listening","listener":"s3-proxy","address":"([^"]+)"/.exec(stowage.run.stdout())?.[1]
    if (address) proxy = `http://127.0.0.1:${address.slice(address.lastIndexOf(':') + 1)}`
  }
  if (!proxy) throw new Error(`the S3 listener did not report its address:\n${stowage.run.stdout()}`)
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  const page = admin.page
  await ok(page, 'POST', '/api/admin/backends', {
    id: 'rgw',
    name: 'Ceph RGW',
    endpoint: rgw.endpoint,
    region: rgw.region,
    path_style: true,
    access_key: rgw.accessKey,
    secret_key: rgw.secretKey,
  })
  for (const [backend, name] of [
    ['local', 'ann-photos'],
    ['local', 'bob-accounts'],
    ['rgw', ANN_S3],
    ['rgw', BOB_S3],
  ] as const) {
    await ok(page, 'POST', `/api/backends/${backend}/buckets`, { name })
    const bytes = new TextEncoder().encode(`${name}\n`)
    await ok(page, 'POST', `/api/backends/${backend}/buckets/${name}/object?key=${encodeURIComponent(`docs/${TOKEN}-${name}.txt`)}`, bytes, {
      'content-type': 'text/plain',
    })
  }
  await ok(page, 'POST', '/api/backends/local/buckets/ann-photos/object?key=holiday/beach.txt', new TextEncoder().encode('sand\n'), {
    'content-type': 'text/plain',
  })
  for (const name of ['ann', 'bob', 'carol'])
    ids[name] = ((await ok(page, 'POST', '/api/admin/users', { username: name, password: PASSWORD, role: 'user', must_change_pw: false })) as { id: string }).id
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test("an admin grants, changes and revokes access from a user's Access tab and from a bucket's", async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/admin/users`)
  const row = page.getByRole('row').filter({ hasText: 'ann' }).first()
  await row.getByRole('button', { name: 'Access of ann' }).click()
  const drawer = page.getByRole('dialog', { name: 'ann' })
  await drawer.getByRole('tab', { name: 'Access', selected: true }).waitFor()
  await drawer.getByText('No grants: this account sees no storage.').waitFor()

  // Where: backend, bucket, and a folder suggested from the bucket.
  await drawer.getByLabel('Backend').selectOption('local')
  await drawer.getByLabel('Bucket').selectOption('ann-photos')
  await drawer.getByRole('radio', { name: 'Read and write' }).check()
  await drawer.getByRole('button', { name: 'Grant access' }).click()
  await page.getByText('Access granted to ann.').waitFor()
  const granted = drawer.getByRole('row').filter({ hasText: 'local / ann-photos' })
  await granted.waitFor()
  expect(await granted.getByLabel('Access for ann to local / ann-photos').inputValue()).toBe('read-write')
  await drawer.getByLabel('Backend').selectOption('rgw')
  await drawer.getByLabel('Bucket').selectOption(ANN_S3)
  await drawer.getByRole('radio', { name: 'Read and write' }).check()
  await drawer.getByRole('button', { name: 'Grant access' }).click()
  await drawer
    .getByRole('row')
    .filter({ hasText: `rgw / ${ANN_S3}` })
    .waitFor()
  await shot(page, 'access-user-drawer', { dialog: true })
  await drawer.getByRole('tab', { name: 'Details' }).click()
  await drawer.getByText('Groups at the latest sign-in').waitFor()
  await page.keyboard.press('Escape')

  // The bucket's Access tab: grant bob, then change his access and revoke a second grant.
  await page.goto(`${stowage.url}/b/local/bob-accounts/settings`)
  await page.getByRole('tab', { name: 'Access' }).click()
  const panel = page.getByRole('tabpanel')
  await panel.getByText('Nobody but admins has access to this bucket yet.').waitFor()
  await panel.getByLabel('User', { exact: true }).selectOption({ label: 'bob (User)' })
  await panel.getByRole('radio', { name: 'Read', exact: true }).check()
  await panel.getByRole('button', { name: 'Grant access' }).click()
  const bobRow = panel.getByRole('row').filter({ hasText: 'bob' })
  await bobRow.waitFor()
  await bobRow.getByLabel('Access for bob to The whole bucket').selectOption('read-write')
  await page.getByText('Access changed.').waitFor()
  await panel.getByLabel('User', { exact: true }).selectOption({ label: 'carol (User)' })
  await panel.getByLabel('Folder').fill('reports/')
  await panel.getByRole('button', { name: 'Grant access' }).click()
  const carolRow = panel.getByRole('row').filter({ hasText: 'carol' })
  await carolRow.getByText('reports/', { exact: true }).waitFor()
  await shot(page, 'access-bucket-tab')
  await carolRow.getByRole('button', { name: 'Revoke access of carol to reports/' }).click()
  await page.getByRole('dialog', { name: 'Revoke access?' }).getByRole('button', { name: 'Revoke' }).click()
  await page.getByText('Access revoked.').waitFor()
  // The table is fetched again after the toast; its row goes once that answer arrives.
  await panel.getByRole('row').filter({ hasText: 'carol' }).waitFor({ state: 'detached' })
  expect(await panel.getByRole('row').filter({ hasText: 'carol' }).count()).toBe(0)

  const audit = (await ok(page, 'GET', '/api/admin/audit?action=grant.')) as { events: Array<{ action: string }> }
  expect(audit.events.map((e) => e.action).sort()).toEqual(['grant.create', 'grant.create', 'grant.create', 'grant.create', 'grant.delete', 'grant.update'])
  await ok(page, 'POST', '/api/admin/grants', { user_id: ids.bob, backend_id: 'rgw', bucket: BOB_S3, access: 'read-write' })

  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 120_000)

test('two users with a grant each see only their own bucket: pages, search and S3 keys', async () => {
  for (const [name, own, other, ownS3, otherS3] of [
    ['ann', 'ann-photos', 'bob-accounts', ANN_S3, BOB_S3],
    ['bob', 'bob-accounts', 'ann-photos', BOB_S3, ANN_S3],
  ] as const) {
    const user = await openPage(browser)
    const { page, problems } = user
    await signIn(page, stowage.url, name, PASSWORD)
    await page.getByRole('heading', { level: 1, name: 'Backends' }).waitFor()
    await page
      .getByRole('link', { name: 'Local disk' })
      .or(page.getByRole('link', { name: 'local' }))
      .first()
      .click()
    await page.getByRole('link', { name: own, exact: true }).waitFor()
    expect(await page.getByRole('link', { name: other, exact: true }).count()).toBe(0)
    expect(await page.getByRole('table').getByRole('link').count()).toBe(1)
    if (name === 'ann') await shot(page, 'access-user-buckets')

    await page.goto(`${stowage.url}/search?q=${TOKEN}`)
    await page.getByText(`docs/${TOKEN}-${own}.txt`).waitFor()
    await page.getByText(`docs/${TOKEN}-${ownS3}.txt`).waitFor()
    expect(await page.getByText(`docs/${TOKEN}-${other}.txt`).count()).toBe(0)
    expect(await page.getByText(`docs/${TOKEN}-${otherS3}.txt`).count()).toBe(0)

    // Someone else's bucket by its URL: refused, saying so.
    await page.goto(`${stowage.url}/b/local/${other}/`)
    await page.getByText('You have no access to this. Ask an administrator for access.').waitFor()

    const key = (await ok(page, 'POST', '/api/me/s3-credentials', { backend_id: 'rgw', buckets: [ownS3], description: `${name}'s key` })) as {
      access_key: string
      secret_key: string
    }
    const s3 = new S3Client({
      endpoint: proxy,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: key.access_key, secretAccessKey: key.secret_key },
    })
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([ownS3])
    expect((await s3.send(new ListObjectsV2Command({ Bucket: ownS3 }))).Contents?.map((o) => o.Key)).toEqual([`docs/${TOKEN}-${ownS3}.txt`])
    const denied = await s3.send(new GetObjectCommand({ Bucket: otherS3, Key: `docs/${TOKEN}-${otherS3}.txt` })).then(
      () => 200,
      (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
    )
    expect(denied).toBe(403)
    const theirs = await apiCall(page, 'POST', '/api/me/s3-credentials', { backend_id: 'rgw', buckets: [otherS3] })
    expect(theirs.status).toBe(403)

    expect(unexpected(problems, { statuses: [403] })).toEqual([])
    expect(problems.csp).toEqual([])
    await user.context.close()
  }
}, 120_000)

test('read-only access says so and hides every control that writes, on desktop and phone, light and dark', async () => {
  await ok(admin.page, 'POST', '/api/admin/grants', { user_id: ids.carol, backend_id: 'local', bucket: 'ann-photos', prefix: 'holiday/', access: 'read' })
  for (const [scheme, viewport] of [
    ['light', { width: 1280, height: 800 }],
    ['dark', { width: 1280, height: 800 }],
    ['light', { width: 375, height: 800 }],
    ['dark', { width: 375, height: 800 }],
  ] as const) {
    const carol = await openPage(browser, { viewport, colorScheme: scheme })
    const { page, problems } = carol
    await signIn(page, stowage.url, 'carol', PASSWORD)
    // Above the granted folder, only the way down to it shows.
    await page.goto(`${stowage.url}/b/local/ann-photos/`)
    await page.getByText('Only the folders shared with you are shown here.').waitFor()
    await page.getByRole('link', { name: 'holiday/', exact: true }).waitFor()
    expect(await page.getByRole('link', { name: 'docs/', exact: true }).count()).toBe(0)
    await page.getByRole('link', { name: 'holiday/', exact: true }).click()
    await page.getByText('You have read-only access here').waitFor()
    await page.getByRole('button', { name: 'beach.txt', exact: true }).waitFor()
    for (const name of ['Upload files', 'Upload folder', 'New folder']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0)
    await page.getByRole('checkbox', { name: 'Select beach.txt' }).check()
    const bar = page.getByRole('toolbar', { name: 'Actions for the selection' })
    await bar.getByRole('button', { name: 'Share' }).waitFor()
    for (const name of ['Delete', 'Copy or move', 'Rename']) expect(await bar.getByRole('button', { name }).count()).toBe(0)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
    await shot(page, `access-read-only-${viewport.width}-${scheme}`)
    expect(unexpected(problems)).toEqual([])
    expect(problems.csp).toEqual([])
    await carol.context.close()
  }
  // The admin's views at phone size, light and dark.
  for (const scheme of ['light', 'dark'] as const) {
    const phone = await openPage(browser, { viewport: { width: 375, height: 800 }, colorScheme: scheme })
    await signIn(phone.page, stowage.url, 'admin', 'tidy harbour lantern 4821')
    await phone.page.goto(`${stowage.url}/admin/users`)
    await phone.page.getByRole('button', { name: 'Access of ann' }).click()
    const drawer = phone.page.getByRole('dialog', { name: 'ann' })
    await drawer.getByRole('row').filter({ hasText: 'local / ann-photos' }).waitFor()
    // The tab row keeps its height in a full-screen drawer whose content is taller than the screen.
    expect((await drawer.getByRole('tab', { name: 'Access' }).boundingBox())!.height).toBeGreaterThan(30)
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await shot(phone.page, `access-user-drawer-375-${scheme}`, { dialog: true })
    await phone.page.goto(`${stowage.url}/b/local/bob-accounts/settings#access`)
    await phone.page.getByRole('tabpanel').getByRole('row').filter({ hasText: 'bob' }).waitFor()
    await shot(phone.page, `access-bucket-tab-375-${scheme}`)
    expect(unexpected(phone.problems)).toEqual([])
    await phone.context.close()
  }
}, 180_000)
