// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Signing in and out in a real browser against the compiled binary: the quickstart admin's
 * one-time password and forced change, a wrong password, and signing out.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { clear, launchBrowser, NEW_PASSWORD, openPage, startStowage, submitSignIn, unexpected, type Stowage, type Watched } from '../helpers/browser.ts'

let stowage: Stowage
let browser: Browser
let tab: Watched

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  tab = await openPage(browser)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('the quickstart password signs in, a new password is forced, then the backends page opens', async () => {
  const { page, problems } = tab
  await page.goto(stowage.url)
  // No session yet: the app sends the visitor to the sign-in page and remembers where they wanted to go.
  await page.waitForURL('**/login?next=*')
  await submitSignIn(page, 'admin', stowage.adminPassword)
  await page.waitForURL('**/me/password')
  await page.getByText('Choose a new password before you continue.').waitFor()
  await page.getByLabel('Current password').fill(stowage.adminPassword)
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
  await page.getByLabel('Repeat new password').fill(NEW_PASSWORD)
  await page.getByRole('button', { name: 'Change password' }).click()
  // With one backend, signing in lands on its buckets, not on a list of one backend.
  await page.waitForURL('**/b/local')
  await page.getByRole('heading', { level: 1, name: 'Local disk' }).waitFor()
  await page.getByText('Healthy').waitFor()
  // The two menu entries about backends say which is which.
  const nav = page.getByRole('navigation', { name: 'Main' })
  await nav.getByRole('link', { name: 'Backends', exact: true }).waitFor()
  await nav.getByRole('link', { name: 'Manage backends', exact: true }).waitFor()
  // The first /api/me before signing in answers 401; nothing else may fail.
  expect(unexpected(problems, { statuses: [401] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)

test('a wrong password shows the error and stays on the sign-in page', async () => {
  const other = await openPage(browser)
  await other.page.goto(`${stowage.url}/login`)
  await other.page.getByLabel('Username').fill('admin')
  await other.page.getByLabel('Password', { exact: true }).fill('not the password')
  await other.page.getByRole('button', { name: 'Sign in' }).click()
  await other.page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor()
  expect(new URL(other.page.url()).pathname).toBe('/login')
  // The field is emptied so the wrong password is not sent again by accident.
  expect(await other.page.getByLabel('Password', { exact: true }).inputValue()).toBe('')
  expect(unexpected(other.problems, { statuses: [401] })).toEqual([])
  expect(other.problems.csp).toEqual([])
  await other.context.close()
}, 60_000)

test('signing out ends the session', async () => {
  const { page, problems } = tab
  clear(problems)
  await page.getByRole('button', { name: 'Account menu' }).click()
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL('**/login')
  await page.goto(`${stowage.url}/admin/users`)
  await page.waitForURL('**/login?next=%2Fadmin%2Fusers')
  await page.getByRole('heading', { name: 'Sign in to Stowage' }).waitFor()
  // Signing in again goes back to the page that was asked for.
  await submitSignIn(page, 'admin', NEW_PASSWORD)
  await page.waitForURL('**/admin/users')
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor()
  expect(unexpected(problems, { statuses: [401] })).toEqual([])
  expect(problems.csp).toEqual([])
}, 60_000)
