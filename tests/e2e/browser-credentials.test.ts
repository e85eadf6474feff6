// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * S3 credentials end to end: the compiled binary serves the dashboard and the S3 proxy in front of
 * a real Ceph RGW. In Chromium a user creates a credential scoped to one bucket and reads the access
 * key and secret from the one-time panel; real S3 clients then put, list and get objects through
 * the proxy with it: @aws-sdk/client-s3 in this process, the AWS CLI v2, and the panel's AWS CLI,
 * rclone and s3cmd snippets used exactly as pasted. Narrowing the scope to read, disabling and
 * revoking it in the UI are each felt by the clients at once (403). The admin's S3 proxy page shows
 * every credential with its owner, mints one for another user, binds a bucket for anonymous reads
 * and fits a 375 px phone; a read-only user sees the list without controls; and with the proxy
 * turned off both pages say how to turn it on. Every page runs without CSP violations or console
 * errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import type { Browser, Page } from 'playwright-core'
import { isolatedBinary, startBinary, type Running } from '../helpers/binary.ts'
import { apiCall, firstAdminSignIn, launchBrowser, NEW_PASSWORD, openPage, signIn, startStowage, unexpected, type Watched } from '../helpers/browser.ts'
import { s3Env, testBucket } from '../helpers/s3.ts'

const AWS = '/usr/bin/aws'
const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')
const rgw = s3Env()
const BUCKET = testBucket('cred-ui')
/** A tenant namespace of this run only (RGW is shared). */
const PREFIX = `${testBucket('ns').slice(0, 40)}-`
const PYTHON = '/usr/bin/python3'

let dir: string
let run: Running
let proxy: string
let browser: Browser
let admin: Watched
let alice: Watched
/** The credential alice makes in the first test; later tests change it. */
let key: { accessKey: string; secret: string }

type Key = { accessKey: string; secret: string }

function client(k: Key, endpoint = proxy): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: k.accessKey, secretAccessKey: k.secret },
    maxAttempts: 1,
  })
}

/** The HTTP status an SDK call failed with; fails the test when the call succeeds. */
async function refused(call: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await call()
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  }
  throw new Error('the S3 client succeeded where the proxy must refuse it')
}

/** Runs the AWS CLI (or a shell snippet calling it) with the key in its environment and nothing from the host's ~/.aws. */
async function shell(cmd: string[], k: Key, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const home = join(dir, 'aws-home')
  mkdirSync(home, { recursive: true })
  const proc = Bun.spawn(cmd, {
    env: {
      PATH: '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_ACCESS_KEY_ID: k.accessKey,
      AWS_SECRET_ACCESS_KEY: k.secret,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
      AWS_PAGER: '',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out: out + err }
}

const aws = (k: Key, ...args: string[]): Promise<{ code: number; out: string }> => shell([AWS, '--endpoint-url', proxy, ...args], k)

/** A user with read-write on the RGW backend (a readonly account only reads there). */
async function createUser(username: string, role: 'user' | 'readonly'): Promise<string> {
  const res = await apiCall(admin.page, 'POST', '/api/admin/users', { username, password: NEW_PASSWORD, role, must_change_pw: false })
  if (res.status !== 201) throw new Error(`create ${username}: ${res.status} ${JSON.stringify(res.json)}`)
  const id = (res.json as { id: string }).id
  const grant = await apiCall(admin.page, 'POST', '/api/admin/grants', { user_id: id, backend_id: 'rgw', access: 'read-write' })
  if (grant.status !== 201) throw new Error(`grant ${username}: ${grant.status} ${JSON.stringify(grant.json)}`)
  return id
}

/** Reads the one-time panel in the open drawer, checks what it promises, and closes it. */
async function readSecretPanel(page: Page): Promise<Key & { endpoint: string }> {
  const panel = page.getByRole('dialog', { name: 'Credential created' })
  await panel.waitFor()
  await panel.getByText('This is the only time the secret key is shown').waitFor()
  const out = {
    accessKey: await panel.getByLabel('Access key').inputValue(),
    secret: await panel.getByLabel('Secret key').inputValue(),
    endpoint: await panel.getByLabel('Endpoint URL').inputValue(),
  }
  expect(out.accessKey).toMatch(/^STW[A-Z2-7]{17}$/)
  expect(out.secret).toMatch(/^[A-Za-z0-9]{40}$/)
  return out
}

async function snippetText(page: Page, clientName: string): Promise<string> {
  const panel = page.getByRole('dialog', { name: 'Credential created' })
  await panel.getByRole('button', { name: clientName, exact: true }).click()
  return (await panel.getByRole('group', { name: 'Client' }).locator('xpath=following-sibling::pre[1]').textContent()) ?? ''
}

async function toast(page: Page, text: string): Promise<void> {
  await page.getByText(text).first().waitFor()
}

/** No CSP violation, no console error and no failed request. */
function clean(w: Watched, allow: { statuses?: number[] } = {}): void {
  expect(unexpected(w.problems, allow)).toEqual([])
  expect(w.problems.csp).toEqual([])
}

beforeAll(async () => {
  const bin = isolatedBinary()
  dir = bin.dir
  mkdirSync(join(dir, 'objects'), { recursive: true })
  const config = join(dir, 'stowage.yaml')
  writeFileSync(
    config,
    [
      'server:',
      '  listen: "127.0.0.1:0"',
      `  secret_key_file: "${join(dir, 'stowage.key')}"`,
      'db:',
      '  sqlite:',
      `    path: "${join(dir, 'stowage.db')}"`,
      'ratelimit:',
      '  login_per_ip: 0',
      'backends:',
      '  - id: rgw',
      '    name: Ceph RGW',
      '    type: s3',
      `    endpoint: "${rgw.endpoint}"`,
      `    region: "${rgw.region}"`,
      '    path_style: true',
      '    access_key_env: RGW_AK',
      '    secret_key_env: RGW_SK',
      '  - id: local',
      '    name: Local disk',
      '    type: fs',
      `    root: "${join(dir, 'objects')}"`,
      's3_proxy:',
      '  enabled: true',
      '  listen: "127.0.0.1:0"',
      '  anonymous_enabled: true',
      '',
    ].join('\n'),
  )
  const env = { RGW_AK: rgw.accessKey, RGW_SK: rgw.secretKey }
  const made = Bun.spawn([bin.bin, 'create-admin', '--username', 'admin', '--config', config, '--password-stdin'], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir, ...env },
    stdin: new TextEncoder().encode(NEW_PASSWORD),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if ((await made.exited) !== 0) throw new Error(`create-admin failed: ${await new Response(made.stderr).text()}`)
  ;[run, browser] = await Promise.all([startBinary(bin.bin, dir, ['serve', '--config', config], env), launchBrowser()])
  for (const deadline = Date.now() + 10_000; !proxy && Date.now() < deadline; await Bun.sleep(20)) {
    const address = /"msg":"listening","listener":"s3-proxy","address":"([^"]+)"/.exec(run.stdout())?.[1]
    if (address) proxy = `http://127.0.0.1:${address.slice(address.lastIndexOf(':') + 1)}`
  }
  if (!proxy) throw new Error(`the S3 proxy did not report its address:\n${run.stdout()}`)
  admin = await openPage(browser)
  await signIn(admin.page, run.url, 'admin', NEW_PASSWORD)
  expect((await apiCall(admin.page, 'POST', '/api/backends/rgw/buckets', { name: BUCKET })).status).toBe(201)
  await createUser('alice', 'user')
  alice = await openPage(browser)
  await signIn(alice.page, run.url, 'alice', NEW_PASSWORD)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  run?.proc.kill('SIGTERM')
  await run?.proc.exited
  // The bucket lives on the shared RGW: empty and remove it with the RGW's own key.
  const direct = client({ accessKey: rgw.accessKey, secret: rgw.secretKey }, rgw.endpoint)
  for (const bucket of [BUCKET, `${PREFIX}example`]) {
    const listed = await direct.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined)
    const objects = (listed?.Contents ?? []).map((o) => ({ Key: o.Key! }))
    if (objects.length > 0) await direct.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }))
    await direct.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined)
  }
}, 30_000)

describe('S3 credentials with the proxy on', () => {
  test('a user creates a credential in the browser and real S3 clients use it through the proxy', async () => {
    const { page } = alice
    // The nav has the page for everyone; the admin's proxy page is not offered to a user.
    await page.getByRole('link', { name: 'S3 credentials' }).click()
    await page.waitForURL('**/credentials')
    await page.getByRole('heading', { name: 'S3 credentials', level: 1 }).waitFor()
    expect(await page.getByRole('link', { name: 'S3 proxy' }).count()).toBe(0)
    await page.getByText('No S3 credentials yet. Create one').waitFor()

    await page.getByRole('button', { name: 'New credential' }).click()
    const drawer = page.getByRole('dialog', { name: 'New S3 credential' })
    await drawer.waitFor()
    // Only the backend alice holds a grant on is offered ("local" exists too); the form says any backend's buckets work.
    const backend = drawer.getByLabel('Backend')
    expect(await backend.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual(['rgw'])
    await drawer.getByText('S3 clients reach the buckets of any backend').waitFor()
    // Users grant exact buckets only: no owner level, no prefixes.
    expect(await drawer.getByRole('group', { name: 'Bucket-name prefixes' }).count()).toBe(0)
    await drawer.getByRole('checkbox', { name: BUCKET }).check()
    expect(await drawer.getByLabel(`Access to ${BUCKET}`).inputValue()).toBe('read-write')
    expect(await drawer.getByLabel(`Access to ${BUCKET}`).locator('option').allTextContents()).toEqual(['read', 'read-write'])
    await drawer.getByLabel('Description').fill('browser test key')
    await drawer.getByRole('radio', { name: 'In 30 days' }).check()
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-create.png') })
    await drawer.getByRole('button', { name: 'Create credential' }).click()

    const created = await readSecretPanel(page)
    expect(created.endpoint).toBe(proxy)
    key = { accessKey: created.accessKey, secret: created.secret }
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-secret.png'), fullPage: true })

    // The snippets carry this key and endpoint in each client's own format.
    const cli = await snippetText(page, 'AWS CLI')
    expect(cli).toContain(`export AWS_SECRET_ACCESS_KEY='${key.secret}'`)
    expect(cli).toContain(`aws --endpoint-url '${proxy}' s3 ls 's3://${BUCKET}/'`)
    const rclone = await snippetText(page, 'rclone')
    expect(rclone).toContain(`access_key_id = ${key.accessKey}\nsecret_access_key = ${key.secret}\nendpoint = ${proxy}`)
    const s3cmd = await snippetText(page, 's3cmd')
    expect(s3cmd).toContain(`host_base = ${new URL(proxy).host}\nhost_bucket = ${new URL(proxy).host}\nuse_https = False`)
    const sdk = await snippetText(page, 'AWS SDK for JavaScript')
    expect(sdk).toContain(`endpoint: "${proxy}"`)
    expect(sdk).toContain('forcePathStyle: true')

    await page.getByRole('button', { name: 'I have saved the secret' }).click()
    await page.getByRole('dialog', { name: 'Credential created' }).waitFor({ state: 'hidden' })
    const row = page.getByRole('row').filter({ hasText: key.accessKey })
    await row.getByText('browser test key').waitFor()
    await row.getByText('Active').waitFor()
    await row.getByText('read-write').waitFor()
    await page.getByText(`${proxy}`, { exact: true }).waitFor()

    // @aws-sdk/client-s3: the scope is the one bucket; put, list, get back the same bytes.
    const s3 = client(key)
    const body = randomBytes(200_000)
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([BUCKET])
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin', Body: body }))
    expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }))).Contents?.map((o) => o.Key)).toEqual(['sdk/hello.bin'])
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' }))
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true)

    // The AWS CLI v2: cp up, ls, cp down, same bytes.
    const file = join(dir, 'cli.bin')
    const data = randomBytes(300_000)
    writeFileSync(file, data)
    const up = await aws(key, 's3', 'cp', '--no-progress', file, `s3://${BUCKET}/cli/file.bin`)
    expect(up.code, up.out).toBe(0)
    const ls = await aws(key, 's3', 'ls', `s3://${BUCKET}/cli/`)
    expect(ls.code, ls.out).toBe(0)
    expect(ls.out).toContain('file.bin')
    const back = join(dir, 'cli.back')
    const down = await aws(key, 's3', 'cp', '--no-progress', `s3://${BUCKET}/cli/file.bin`, back)
    expect(down.code, down.out).toBe(0)
    expect(readFileSync(back).equals(data)).toBe(true)

    // The panel's AWS CLI snippet itself, pasted into a shell with nothing else set, lists the bucket.
    const pasted = await shell(['bash', '-euc', cli], { accessKey: '', secret: '' }, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' })
    expect(pasted.code, pasted.out).toBe(0)
    expect(pasted.out).toContain('cli/')
    expect(pasted.out).toContain('sdk/')
    // The rclone and s3cmd snippets, saved as those clients' config files, work as they are.
    writeFileSync(join(dir, 'rclone.conf'), rclone + '\n')
    const viaRclone = await shell(
      ['rclone', '--config', join(dir, 'rclone.conf'), '--retries', '1', '--low-level-retries', '1', 'copyto', file, `stowage:${BUCKET}/rclone/file.bin`],
      key,
    )
    expect(viaRclone.code, viaRclone.out).toBe(0)
    const rcloneLs = await shell(['rclone', '--config', join(dir, 'rclone.conf'), 'ls', `stowage:${BUCKET}`], key)
    expect(rcloneLs.code, rcloneLs.out).toBe(0)
    expect(rcloneLs.out).toContain('rclone/file.bin')
    writeFileSync(join(dir, 's3cfg'), s3cmd + '\n')
    const s3cmdLs = await shell(['s3cmd', '-c', join(dir, 's3cfg'), 'ls', '--recursive', `s3://${BUCKET}/`], key)
    expect(s3cmdLs.code, s3cmdLs.out).toBe(0)
    expect(s3cmdLs.out).toContain(`s3://${BUCKET}/rclone/file.bin`)
    expect(s3cmdLs.out).toContain(`s3://${BUCKET}/sdk/hello.bin`)

    clean(alice)
  }, 120_000)

  test('narrowing the scope, disabling and revoking in the UI are refused by the clients at once', async () => {
    const { page } = alice
    const s3 = client(key)
    const row = page.getByRole('row').filter({ hasText: key.accessKey })

    await row.getByRole('button', { name: `Edit ${key.accessKey}` }).click()
    const drawer = page.getByRole('dialog', { name: `Edit ${key.accessKey}` })
    await drawer.waitFor()
    await drawer.getByLabel(`Access to ${BUCKET}`).selectOption('read')
    await drawer.getByRole('button', { name: 'Save changes' }).click()
    await toast(page, `Credential ${key.accessKey} saved.`)
    await row.getByText('read', { exact: true }).waitFor()
    expect(await refused(() => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/denied.txt', Body: 'no' })))).toBe(403)
    expect((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' }))).$metadata.httpStatusCode).toBe(200)

    const toggle = row.getByRole('switch', { name: `Enabled: ${key.accessKey}` })
    expect(await toggle.isChecked()).toBe(true)
    await toggle.uncheck()
    await toast(page, `Credential ${key.accessKey} disabled.`)
    await row.getByText('Disabled', { exact: true }).waitFor()
    expect(await refused(() => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' })))).toBe(403)
    const cli = await aws(key, 's3', 'ls', `s3://${BUCKET}/`)
    expect(cli.code).not.toBe(0)
    expect(cli.out).toMatch(/403|InvalidAccessKeyId|AccessDenied/)

    await row.getByRole('switch', { name: `Enabled: ${key.accessKey}` }).check()
    await toast(page, `Credential ${key.accessKey} enabled.`)
    await row.getByText('Active', { exact: true }).waitFor()
    expect((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' }))).$metadata.httpStatusCode).toBe(200)

    await row.getByRole('button', { name: `Revoke ${key.accessKey}` }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke this credential?' })
    await confirm.getByRole('button', { name: 'Revoke credential' }).click()
    await toast(page, `Credential ${key.accessKey} revoked.`)
    await page.getByText('No S3 credentials yet. Create one').waitFor()
    expect(await refused(() => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' })))).toBe(403)

    clean(alice)
  }, 60_000)

  test('the admin page lists every credential with its owner, mints one for a user and manages anonymous reads', async () => {
    const { page } = admin
    await page.goto(`${run.url}/backends`)
    await page.getByRole('link', { name: 'S3 proxy' }).click()
    await page.waitForURL('**/admin/s3-proxy')
    await page.getByRole('heading', { name: 'S3 proxy', level: 1 }).waitFor()

    await page.getByRole('button', { name: 'New credential' }).click()
    const drawer = page.getByRole('dialog', { name: 'New S3 credential' })
    await drawer.getByLabel('Owner').selectOption({ label: 'alice (User)' })
    await drawer.getByLabel('Backend').selectOption('rgw')
    await drawer.getByRole('checkbox', { name: BUCKET }).check()
    await drawer.getByLabel(`Access to ${BUCKET}`).selectOption('read')
    await drawer.getByLabel('Description').fill('made by the admin')
    await drawer.getByRole('button', { name: 'Create credential' }).click()
    const made = await readSecretPanel(page)
    await page.getByRole('button', { name: 'I have saved the secret' }).click()

    const row = page.getByRole('row').filter({ hasText: made.accessKey })
    await row.getByText('alice', { exact: true }).waitFor()
    await row.getByText('Stowage', { exact: true }).waitFor()
    await row.getByText('made by the admin').waitFor()
    const s3 = client(made)
    expect((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' }))).$metadata.httpStatusCode).toBe(200)
    expect(await refused(() => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'admin/denied.txt', Body: 'no' })))).toBe(403)

    // The owner sees it on her own page.
    await alice.page.reload()
    await alice.page.getByRole('row').filter({ hasText: made.accessKey }).getByText('made by the admin').waitFor()

    // Anonymous reads: bind the bucket, read it unsigned through the proxy, unbind, refused again.
    const unsigned = `${proxy}/${BUCKET}/sdk/hello.bin`
    expect((await fetch(unsigned)).status).toBe(403)
    await page.getByRole('button', { name: 'Add binding' }).click()
    const dialog = page.getByRole('dialog', { name: 'Allow anonymous reads' })
    expect(
      await dialog
        .getByLabel('Backend')
        .locator('option')
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(['local', 'rgw'])
    await dialog.getByLabel('Backend').selectOption('rgw')
    await dialog.getByLabel('Bucket').selectOption(BUCKET)
    await dialog.getByLabel('Requests per second per client IP').fill('5')
    await dialog.getByRole('button', { name: 'Save binding' }).click()
    await toast(page, `${BUCKET} is readable without a key.`)
    const binding = page.getByRole('row').filter({ hasText: `${proxy}/${BUCKET}` })
    await binding.getByText('5 requests/s').waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-admin.png'), fullPage: true })
    // The same page on a dark 375 px phone: both tables become cards, nothing scrolls sideways.
    const phone = await openPage(browser, { viewport: { width: 375, height: 812 }, colorScheme: 'dark' })
    await phone.context.addCookies(await admin.context.cookies())
    await phone.page.goto(`${run.url}/admin/s3-proxy`, { waitUntil: 'networkidle' })
    await phone.page.getByRole('row').filter({ hasText: made.accessKey }).getByText('alice', { exact: true }).waitFor()
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBe(375)
    await phone.page.screenshot({ path: join(SCREENSHOTS, 'credentials-admin-375-dark.png'), fullPage: true })
    clean(phone)
    await phone.context.close()
    const open = await fetch(unsigned)
    expect(open.status).toBe(200)
    expect((await open.bytes()).length).toBe(200_000)

    await binding.getByRole('button', { name: `Remove binding of ${BUCKET}` }).click()
    await page.getByRole('dialog', { name: 'Remove anonymous access?' }).getByRole('button', { name: 'Remove binding' }).click()
    await toast(page, `Anonymous access to ${BUCKET} removed.`)
    await page.getByText('No bucket is readable without a key.').waitFor()
    expect((await fetch(unsigned)).status).toBe(403)

    await row.getByRole('button', { name: `Revoke ${made.accessKey}` }).click()
    await page.getByRole('dialog', { name: 'Revoke this credential?' }).getByRole('button', { name: 'Revoke credential' }).click()
    await page.getByText('Nobody has an S3 credential yet.').waitFor()
    expect(await refused(() => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/hello.bin' })))).toBe(403)

    clean(admin)
    clean(alice)
  }, 90_000)

  test('an admin grants a tenant namespace in the scope editor; its restic, AWS CLI profile and boto3 snippets work as pasted', async () => {
    const { page } = admin
    await page.goto(`${run.url}/admin/s3-proxy`)
    await page.getByRole('button', { name: 'New credential' }).click()
    const drawer = page.getByRole('dialog', { name: 'New S3 credential' })
    await drawer.getByLabel('Owner').selectOption({ label: 'alice (User)' })
    await drawer.getByLabel('Backend').selectOption('rgw')
    const prefixes = drawer.getByRole('group', { name: 'Bucket-name prefixes' })
    // A bad prefix is caught in the form, next to the field.
    await prefixes.getByLabel('New bucket-name prefix').fill('Team_A')
    await prefixes.getByRole('button', { name: 'Add prefix' }).click()
    await prefixes.getByText('A prefix has 1–62 characters').waitFor()
    await prefixes.getByLabel('New bucket-name prefix').fill(PREFIX)
    expect(await prefixes.getByLabel('Access for the new prefix').inputValue()).toBe('owner')
    await prefixes.getByRole('button', { name: 'Add prefix' }).click()
    expect(await prefixes.getByLabel(`Access to buckets starting with ${PREFIX}`).inputValue()).toBe('owner')
    expect(await drawer.getByRole('checkbox', { name: BUCKET }).isChecked()).toBe(false)
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-namespace.png') })
    await drawer.getByLabel('Description').fill('team namespace')
    await drawer.getByRole('button', { name: 'Create credential' }).click()
    const made = await readSecretPanel(page)
    const bucket = `${PREFIX}example`
    await page.getByText(`${bucket} is an example name`).waitFor()
    const resticSnippet = await snippetText(page, 'restic')
    const profileSnippet = await snippetText(page, 'AWS CLI profile')
    const boto3Snippet = await snippetText(page, 'boto3 (Python)')
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-namespace-secret.png'), fullPage: true })
    await page.getByRole('button', { name: 'I have saved the secret' }).click()
    const row = page.getByRole('row').filter({ hasText: made.accessKey })
    await row.getByText(`${PREFIX}*`).waitFor()
    await row.getByText('owner', { exact: true }).waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-namespace-table.png') })

    // restic, as pasted: init creates the bucket inside the namespace (owner access) and the repository in it.
    const noKey = { accessKey: '', secret: '' }
    const restic = await shell(['bash', '-euc', resticSnippet], noKey, {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      RESTIC_PASSWORD: 'restic repository password',
      RESTIC_CACHE_DIR: join(dir, 'restic-cache'),
    })
    expect(restic.code, restic.out).toBe(0)
    expect(restic.out).toContain('created restic repository')
    // The AWS CLI profile, as pasted: saved in ~/.aws, then the bucket is listed through it.
    const profile = await shell(['bash', '-euc', profileSnippet], noKey, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' })
    expect(profile.code, profile.out).toBe(0)
    expect(profile.out).toContain('PRE restic/')
    expect(readFileSync(join(dir, 'aws-home', 'config'), 'utf8')).toContain('addressing_style = path')
    // boto3, as pasted.
    const boto3 = await shell([PYTHON, '-c', boto3Snippet], noKey, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' })
    expect(boto3.code, boto3.out).toBe(0)
    expect(boto3.out).toContain('restic/config')
    // The namespace ends at its prefix.
    expect(await refused(() => client(made).send(new ListObjectsV2Command({ Bucket: BUCKET })))).toBe(403)
    expect((await client(made).send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([bucket])

    // The owner sees the prefix on her page; she can lower or drop it, never add one.
    await alice.page.goto(`${run.url}/credentials`)
    const mine = alice.page.getByRole('row').filter({ hasText: made.accessKey })
    await mine.getByRole('button', { name: `Edit ${made.accessKey}` }).click()
    const edit = alice.page.getByRole('dialog', { name: `Edit ${made.accessKey}` })
    const granted = edit.getByRole('group', { name: 'Bucket-name prefixes' })
    await granted.getByText('An administrator gave this key').waitFor()
    expect(await granted.getByLabel(`Access to buckets starting with ${PREFIX}`).locator('option').allTextContents()).toEqual(['read', 'read-write', 'owner'])
    expect(await granted.getByLabel('New bucket-name prefix').count()).toBe(0)
    await granted.getByLabel(`Access to buckets starting with ${PREFIX}`).selectOption('read')
    await edit.getByRole('button', { name: 'Save changes' }).click()
    await toast(alice.page, `Credential ${made.accessKey} saved.`)
    expect(await refused(() => client(made).send(new PutObjectCommand({ Bucket: bucket, Key: 'denied', Body: 'no' })))).toBe(403)

    // The scope editor on a 375 px phone and on a dark desktop, for the screenshots.
    for (const [name, viewport, colorScheme] of [
      ['credentials-namespace-375-light.png', { width: 375, height: 812 }, 'light'],
      ['credentials-namespace-375-dark.png', { width: 375, height: 812 }, 'dark'],
      ['credentials-namespace-dark.png', { width: 1280, height: 900 }, 'dark'],
    ] as const) {
      const w = await openPage(browser, { viewport, colorScheme })
      await w.context.addCookies(await admin.context.cookies())
      await w.page.goto(`${run.url}/admin/s3-proxy`, { waitUntil: 'networkidle' })
      await w.page.getByRole('button', { name: 'New credential' }).click()
      const form = w.page.getByRole('dialog', { name: 'New S3 credential' })
      await form.getByLabel('Backend').selectOption('rgw')
      await form.getByRole('checkbox', { name: BUCKET }).check()
      await form.getByLabel(`Access to ${BUCKET}`).selectOption('owner')
      await form.getByLabel('New bucket-name prefix').fill('team-a-')
      await form.getByRole('button', { name: 'Add prefix' }).click()
      await form.getByLabel('New bucket-name prefix').fill('shared-')
      await form.getByLabel('Access for the new prefix').selectOption('read')
      await form.getByRole('button', { name: 'Add prefix' }).click()
      await form.getByLabel('Access to buckets starting with shared-').waitFor()
      expect(await w.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
      await w.page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true })
      clean(w)
      await w.context.close()
    }

    clean(admin)
    clean(alice)
  }, 120_000)

  test('a read-only user sees their credentials but no create, switch, edit or revoke controls, on a phone too', async () => {
    const ritaId = await createUser('rita', 'readonly')
    const res = await apiCall(admin.page, 'POST', '/api/admin/s3-credentials', {
      backend_id: 'rgw',
      buckets: [{ bucket: BUCKET, access: 'read' }],
      user_id: ritaId,
      description: 'rita reads',
    })
    expect(res.status).toBe(201)
    const accessKey = (res.json as { access_key: string }).access_key

    const rita = await openPage(browser, { viewport: { width: 375, height: 800 } })
    const { page } = rita
    await signIn(page, run.url, 'rita', NEW_PASSWORD)
    await page.goto(`${run.url}/credentials`)
    const row = page.getByRole('row').filter({ hasText: accessKey })
    await row.getByText('rita reads').waitFor()
    await row.getByText('Active', { exact: true }).waitFor()
    await page.getByText('Your account is read-only').waitFor()
    expect(await page.getByRole('button', { name: 'New credential' }).count()).toBe(0)
    expect(await page.getByRole('switch').count()).toBe(0)
    expect(await page.getByRole('button', { name: /^(Edit|Revoke) / }).count()).toBe(0)
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0)
    // The table turns into cards: nothing scrolls sideways at 375 px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.screenshot({ path: join(SCREENSHOTS, 'credentials-phone.png'), fullPage: true })
    clean(rita)
    await rita.context.close()
  }, 60_000)
})

describe('S3 credentials with the proxy off', () => {
  test('both pages say the proxy is disabled and how to turn it on', async () => {
    const stowage = await startStowage({}, ['--no-s3'])
    try {
      const w = await openPage(browser)
      await firstAdminSignIn(w.page, stowage)
      await w.page.goto(`${stowage.url}/credentials`)
      await w.page.getByText('The S3 proxy is disabled (set s3_proxy.enabled: true').waitFor()
      expect(await w.page.getByRole('button', { name: 'New credential' }).count()).toBe(0)
      await w.page.getByRole('link', { name: 'S3 proxy' }).click()
      await w.page.waitForURL('**/admin/s3-proxy')
      await w.page.getByRole('heading', { name: 'S3 proxy', level: 1 }).waitFor()
      await w.page.getByText('The S3 proxy is disabled (set s3_proxy.enabled: true').waitFor()
      expect(await w.page.getByRole('button', { name: 'New credential' }).count()).toBe(0)
      expect(await w.page.getByRole('button', { name: 'Add binding' }).count()).toBe(0)
      // Chrome logs the expected 503 answers as console errors; nothing else may appear.
      clean(w, { statuses: [503] })
      await w.context.close()
    } finally {
      await stowage.stop()
    }
  }, 60_000)
})
