// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The default install, end to end: the compiled binary's quickstart serves S3 next to the
 * dashboard and prints the endpoint; in Chromium the admin makes a key for a bucket of the `local`
 * disk backend, and every client of the one-time panel works with it, each snippet used exactly as
 * pasted: the AWS CLI (environment and profile), rclone, s3cmd, restic, boto3 and the AWS SDK for
 * JavaScript. The bytes land in the quickstart's data directory.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { apiCall, firstAdminSignIn, launchBrowser, openPage, startStowage, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'

const SCREENSHOTS = process.env.STOWAGE_SCREENSHOTS ?? join(tmpdir(), 'stowage-screenshots')
const ROOT = new URL('../..', import.meta.url).pathname
const BUCKET = 'photos'

let stowage: Stowage
let browser: Browser
let admin: Watched
let home: string

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  home = join(stowage.run.dir, 'client-home')
  mkdirSync(home, { recursive: true })
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
  expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name: BUCKET })).status).toBe(201)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
})

/** Runs a command with a home of its own and no AWS settings from the host. */
async function run(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
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

async function snippetText(page: Page, clientName: string): Promise<string> {
  const panel = page.getByRole('dialog', { name: 'Credential created' })
  await panel.getByRole('button', { name: clientName, exact: true }).click()
  return (await panel.getByRole('group', { name: 'Client' }).locator('xpath=following-sibling::pre[1]').textContent()) ?? ''
}

test('quickstart prints an S3 endpoint; a key made in the UI for the local backend works with every client, as pasted', async () => {
  const printed = /S3 endpoint: (http:\/\/\S+)/.exec(stowage.run.stderr())?.[1]
  expect(printed).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

  const { page } = admin
  await page.goto(`${stowage.url}/credentials`)
  await page.getByRole('button', { name: 'New credential' }).click()
  const drawer = page.getByRole('dialog', { name: 'New S3 credential' })
  const backend = drawer.getByLabel('Backend')
  // The backends arrive after the drawer opens, and the only one is chosen then.
  for (const deadline = Date.now() + 5000; (await backend.inputValue()) !== 'local' && Date.now() < deadline;) await Bun.sleep(50)
  expect(await backend.inputValue()).toBe('local')
  await drawer.getByRole('checkbox', { name: BUCKET }).check()
  await drawer.getByLabel('Description').fill('every client')
  await drawer.getByRole('button', { name: 'Create credential' }).click()
  const panel = page.getByRole('dialog', { name: 'Credential created' })
  await panel.waitFor()
  expect(await panel.getByLabel('Endpoint URL').inputValue()).toBe(printed!)
  await page.screenshot({ path: join(SCREENSHOTS, 'credentials-local-secret.png'), fullPage: true })

  const file = join(home, 'upload.bin')
  const data = randomBytes(200_000)
  writeFileSync(file, data)
  const stored = (key: string): Buffer => readFileSync(join(stowage.run.dir, 'data', 'objects', BUCKET, key))

  // rclone and s3cmd: the snippets are their config files.
  writeFileSync(join(home, 'rclone.conf'), (await snippetText(page, 'rclone')) + '\n')
  const rclone = await run(['rclone', '--config', join(home, 'rclone.conf'), '--retries', '1', 'copyto', file, `stowage:${BUCKET}/rclone/upload.bin`])
  expect(rclone.code, rclone.out).toBe(0)
  expect(stored('rclone/upload.bin').equals(data)).toBe(true)
  writeFileSync(join(home, 's3cfg'), (await snippetText(page, 's3cmd')) + '\n')
  const s3cmd = await run(['s3cmd', '-c', join(home, 's3cfg'), 'ls', '--recursive', `s3://${BUCKET}/`])
  expect(s3cmd.code, s3cmd.out).toBe(0)
  expect(s3cmd.out).toContain(`s3://${BUCKET}/rclone/upload.bin`)

  // AWS CLI, environment variables: the snippet lists the bucket; the same shell then uploads.
  const awscli = await snippetText(page, 'AWS CLI')
  const cli = await run(['bash', '-euc', `${awscli}\naws --endpoint-url '${printed}' s3 cp --no-progress '${file}' s3://${BUCKET}/cli/upload.bin`])
  expect(cli.code, cli.out).toBe(0)
  expect(stored('cli/upload.bin').equals(data)).toBe(true)

  // AWS CLI profile: saved in ~/.aws, then used by name.
  const profile = await run(['bash', '-euc', await snippetText(page, 'AWS CLI profile')])
  expect(profile.code, profile.out).toBe(0)
  expect(profile.out).toContain('PRE cli/')
  expect(profile.out).toContain('PRE rclone/')
  const byProfile = await run(['aws', '--profile', 'stowage', '--endpoint-url', printed!, 's3', 'ls', `s3://${BUCKET}/cli/`])
  expect(byProfile.out).toContain('upload.bin')

  // restic: the snippet creates a repository in the bucket; a backup then goes into it.
  const restic = await snippetText(page, 'restic')
  const resticEnv = { RESTIC_PASSWORD: 'restic repository password', RESTIC_CACHE_DIR: join(home, 'restic-cache') }
  const init = await run(['bash', '-euc', restic], resticEnv)
  expect(init.code, init.out).toBe(0)
  expect(init.out).toContain('created restic repository')
  const exports = restic
    .split('\n')
    .filter((l) => l.startsWith('export '))
    .join('\n')
  const backup = await run(['bash', '-euc', `${exports}\nrestic -o s3.bucket-lookup=path backup '${file}'`], resticEnv)
  expect(backup.code, backup.out).toBe(0)
  expect(existsSync(join(stowage.run.dir, 'data', 'objects', BUCKET, 'restic', 'config'))).toBe(true)
  // Every pack read back and verified, then the file restored byte for byte.
  const check = await run(['bash', '-euc', `${exports}\nrestic -o s3.bucket-lookup=path check --read-data`], resticEnv)
  expect(check.code, check.out).toBe(0)
  expect(check.out).toContain('no errors were found')
  const target = join(home, 'restored')
  const restore = await run(['bash', '-euc', `${exports}\nrestic -o s3.bucket-lookup=path restore latest --target '${target}'`], resticEnv)
  expect(restore.code, restore.out).toBe(0)
  expect(readFileSync(join(target, file)).equals(data)).toBe(true)

  // boto3 and the AWS SDK for JavaScript, as pasted into a program.
  const boto3 = await run(['/usr/bin/python3', '-c', await snippetText(page, 'boto3 (Python)')])
  expect(boto3.code, boto3.out).toBe(0)
  expect(boto3.out).toContain('cli/upload.bin')
  expect(boto3.out).toContain('restic/config')
  const sdk = await run([
    process.execPath,
    '-e',
    `${await snippetText(page, 'AWS SDK for JavaScript')}\nconsole.log(listing.Contents.map((o) => o.Key).join('\\n'))`,
  ])
  expect(sdk.code, sdk.out).toBe(0)
  expect(sdk.out).toContain('rclone/upload.bin')

  await page.getByRole('button', { name: 'I have saved the secret' }).click()
  await page.getByRole('row').filter({ hasText: 'every client' }).getByText('local', { exact: true }).waitFor()
  expect(unexpected(admin.problems)).toEqual([])
  expect(admin.problems.csp).toEqual([])
}, 180_000)

test('the S3 credentials page on a dark 375 px phone, with a local-disk key', async () => {
  const phone = await openPage(browser, { viewport: { width: 375, height: 812 }, colorScheme: 'dark' })
  await phone.context.addCookies(await admin.context.cookies())
  await phone.page.goto(`${stowage.url}/credentials`, { waitUntil: 'networkidle' })
  await phone.page.getByText('every client').waitFor()
  expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
  await phone.page.screenshot({ path: join(SCREENSHOTS, 'credentials-local-375-dark.png'), fullPage: true })
  expect(unexpected(phone.problems)).toEqual([])
  await phone.context.close()
}, 60_000)
