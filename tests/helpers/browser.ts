// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Browser tests: Debian's Chromium driven by playwright-core against the compiled binary. Every
 * page gets a watcher that records console errors, uncaught exceptions, failed requests and CSP
 * violations, so each test can assert the page ran clean under the production CSP.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { isolatedBinary, startBinary, type Running } from './binary.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

/** The password every test account ends up with (long enough for the default policy). */
export const NEW_PASSWORD = 'tidy harbour lantern 4821'

export type Stowage = { run: Running; url: string; adminPassword: string; stop: () => Promise<void> }

/**
 * Starts `dist/stowage quickstart` from an empty directory and reads the one-time admin password from stderr.
 * `args` go to quickstart after the listen addresses (e.g. `--no-s3`).
 */
export async function startStowage(env: Record<string, string> = {}, args: string[] = ['--s3-listen', '127.0.0.1:0']): Promise<Stowage> {
  const { dir, bin } = isolatedBinary()
  // Many sign-ins from one address in a short test run; the per-IP limiter has its own tests.
  const run = await startBinary(bin, dir, ['quickstart', '--data-dir', './data', '--listen', '127.0.0.1:0', ...args], {
    STOWAGE_RATELIMIT__LOGIN_PER_IP: '0',
    ...env,
  })
  // stderr is read asynchronously; the banner may land just after the listener answers.
  let password: string | undefined
  for (const deadline = Date.now() + 5000; !password && Date.now() < deadline; await Bun.sleep(20)) password = /Password:\s+(\S+)/.exec(run.stderr())?.[1]
  if (!password) throw new Error(`no one-time password on stderr:\n${run.stderr()}`)
  return {
    run,
    url: run.url,
    adminPassword: password,
    stop: async () => {
      run.proc.kill('SIGTERM')
      await run.proc.exited
      // The directory holds a copy of the 100+ MiB binary and the data written by the test.
      rmSync(run.dir, { recursive: true, force: true })
    },
  }
}

/** Chromium with its profile, config and cache in a temp dir (it writes ~/.config even with a user-data dir). */
export async function launchBrowser(): Promise<Browser> {
  const home = mkdtempSync(join(tmpdir(), 'stowage-chromium-'))
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: LAUNCH_ARGS,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_DATA_HOME: join(home, '.local/share'),
      PATH: '/usr/bin:/bin',
    },
  })
  browser.on('disconnected', () => rmSync(home, { recursive: true, force: true }))
  return browser
}

export type Problems = {
  /** Console messages of level error, with the URL they came from. */
  console: string[]
  /** Uncaught exceptions in the page. */
  exceptions: string[]
  /** Requests that failed at the network level (never reached a status). */
  failed: string[]
  /** `securitypolicyviolation` events: the CSP blocked something. */
  csp: string[]
}

export type Watched = { context: BrowserContext; page: Page; problems: Problems }

/** A fresh context (own cookies and storage) with one page and a problem recorder attached. */
export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<Watched> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  })
  const problems: Problems = { console: [], exceptions: [], failed: [], csp: [] }
  // Injected by the browser itself, so the page's CSP does not apply to it.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`)
    })
  })
  const page = await context.newPage()
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const text = `${message.text()} @ ${message.location().url}`
    problems.console.push(text)
    if (/CSP violation|Content Security Policy/i.test(text)) problems.csp.push(text)
  })
  page.on('pageerror', (error) => problems.exceptions.push(String(error)))
  page.on('requestfailed', (request) => problems.failed.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`))
  return { context, page, problems }
}

/**
 * Problems left after removing the expected ones: Chrome logs every 4xx answer as a console error
 * ("Failed to load resource"), so a test that provokes one allows that status explicitly.
 * A request cancelled on purpose is net::ERR_ABORTED, never a failure: the pages cancel their own
 * fetches when the view changes, and a navigation cancels what the last page still loaded (its
 * favicon, a lazy chunk), at moments that depend on timing. A request that fails is any other net
 * error, or a status in the console.
 */
export function unexpected(problems: Problems, allow: { statuses?: number[] } = {}): string[] {
  const statuses = allow.statuses ?? []
  const consoleErrors = problems.console.filter((text) => !statuses.some((status) => text.includes(`status of ${status}`)))
  const failed = problems.failed.filter((text) => !text.endsWith('net::ERR_ABORTED'))
  return [...consoleErrors, ...problems.exceptions, ...failed]
}

export function clear(problems: Problems): void {
  problems.console.length = 0
  problems.exceptions.length = 0
  problems.failed.length = 0
  problems.csp.length = 0
}

/** Opens the login page, signs in through the form and waits until the page left /login. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/login`)
  await submitSignIn(page, username, password)
}

/** Fills and sends the login form already on screen. */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((u) => u.pathname !== '/login')
}

/** The quickstart admin's first sign-in: the one-time password, then the forced change. */
export async function firstAdminSignIn(page: Page, stowage: Stowage): Promise<void> {
  await signIn(page, stowage.url, 'admin', stowage.adminPassword)
  await page.waitForURL('**/me/password')
  await changeOwnPassword(page, stowage.adminPassword, NEW_PASSWORD)
  // One backend (the quickstart's local disk): signing in lands on its buckets.
  await page.waitForURL('**/b/local')
}

export async function changeOwnPassword(page: Page, current: string, next: string): Promise<void> {
  await page.getByLabel('Current password').fill(current)
  await page.getByLabel('New password', { exact: true }).fill(next)
  await page.getByLabel('Repeat new password').fill(next)
  await page.getByRole('button', { name: 'Change password' }).click()
}

/**
 * Calls the API with the page's session (cookies and CSRF header), for test setup the UI is not
 * under test for. A byte body is sent raw (uploads); anything else as JSON.
 */
export async function apiCall(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const cookies = await page.context().cookies()
  const csrf = cookies.find((cookie) => cookie.name === 'stowage_csrf')?.value ?? ''
  const raw = body instanceof Uint8Array
  const response = await page.request.fetch(new URL(path, page.url()).toString(), {
    method,
    headers: { 'x-csrf-token': decodeURIComponent(csrf), ...(body === undefined || raw ? {} : { 'content-type': 'application/json' }), ...headers },
    data: body === undefined ? undefined : raw ? Buffer.from(body) : JSON.stringify(body),
  })
  const text = await response.text()
  let json: unknown = text
  try {
    json = JSON.parse(text)
  } catch {
    // Not JSON; the raw text is returned.
  }
  return { status: response.status(), json }
}
