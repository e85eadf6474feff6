// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * User administration in the browser (create, change role, reset password, delete, and the new
 * account signing in), and what a read-only user sees: no control that would change anything.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import {
  apiCall,
  changeOwnPassword,
  clear,
  firstAdminSignIn,
  launchBrowser,
  openPage,
  signIn,
  startStowage,
  unexpected,
  type Stowage,
  type Watched,
} from '../helpers/browser.ts'

let stowage: Stowage
let browser: Browser
let admin: Watched

beforeAll(async () => {
  ;[stowage, browser] = await Promise.all([startStowage(), launchBrowser()])
  admin = await openPage(browser)
  await firstAdminSignIn(admin.page, stowage)
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await stowage?.stop()
}, 30_000)

test('an admin creates a user, changes the role, resets the password and deletes the user; the user can sign in meanwhile', async () => {
  const { page, problems } = admin
  clear(problems)
  await page.goto(`${stowage.url}/admin/users`)
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor()

  await page.getByRole('button', { name: 'New user' }).click()
  const create = page.getByRole('dialog', { name: 'New user' })
  await create.getByLabel('Username').fill('carol')
  await create.getByLabel('Initial password').fill('amber falcon river 1')
  await create.getByRole('radio', { name: /^User/ }).check()
  await create.getByRole('button', { name: 'Create user' }).click()
  await create.waitFor({ state: 'hidden' })
  const row = page.getByRole('row').filter({ hasText: 'carol' })
  await row.getByText('User', { exact: true }).waitFor()

  await row.getByRole('button', { name: 'Edit carol' }).click()
  const edit = page.getByRole('dialog', { name: 'Edit carol' })
  await edit.getByRole('radio', { name: /^Read-only/ }).check()
  await edit.getByRole('button', { name: 'Save' }).click()
  await edit.waitFor({ state: 'hidden' })
  await row.getByText('Read-only', { exact: true }).waitFor()

  await row.getByRole('button', { name: 'Reset password of carol' }).click()
  const reset = page.getByRole('dialog', { name: 'Reset password of carol' })
  await reset.getByLabel('New password').fill('copper meadow stone 2')
  await reset.getByRole('button', { name: 'Reset password' }).click()
  await reset.waitFor({ state: 'hidden' })
  await page.getByText('Password of carol was reset.').waitFor()

  // A new account sees nothing until granted: carol gets the local backend.
  const users = (await apiCall(page, 'GET', '/api/admin/users')).json as { users: { id: string; username: string }[] }
  const carolId = users.users.find((u) => u.username === 'carol')!.id
  expect((await apiCall(page, 'POST', '/api/admin/grants', { user_id: carolId, backend_id: 'local', access: 'read' })).status).toBe(201)

  // carol signs in with the reset password in her own browser context.
  const carol = await openPage(browser)
  await signIn(carol.page, stowage.url, 'carol', 'copper meadow stone 2')
  if (new URL(carol.page.url()).pathname === '/me/password') {
    await changeOwnPassword(carol.page, 'copper meadow stone 2', 'quiet harbor violet 3')
    await carol.page.waitForURL('**/b/local')
  }
  await carol.page.getByRole('heading', { level: 1, name: 'Local disk' }).waitFor()
  expect(await carol.page.getByText('Administration').count()).toBe(0)
  expect(unexpected(carol.problems)).toEqual([])

  await row.getByRole('button', { name: 'Delete carol' }).click()
  const remove = page.getByRole('dialog', { name: 'Delete carol?' })
  await remove.getByRole('button', { name: 'Delete user' }).click()
  await remove.waitFor({ state: 'hidden' })
  await page.getByText('carol was deleted.').waitFor()
  await page.getByRole('row').filter({ hasText: 'carol' }).waitFor({ state: 'detached' })

  // Her session ended with the account: the next page load asks her to sign in.
  await carol.page.reload()
  await carol.page.waitForURL('**/login?next=*')
  await carol.context.close()

  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('a read-only user sees no control that changes anything', async () => {
  // Setup through the API as the admin: a read-only account and a bucket with one object.
  const made = await apiCall(admin.page, 'POST', '/api/admin/users', {
    username: 'rita',
    password: 'silver orchard maple 7',
    role: 'readonly',
    must_change_pw: false,
  })
  expect(made.status).toBe(201)
  // Even a read-write grant leaves a read-only account reading.
  expect(
    (await apiCall(admin.page, 'POST', '/api/admin/grants', { user_id: (made.json as { id: string }).id, backend_id: 'local', access: 'read-write' })).status,
  ).toBe(201)
  expect((await apiCall(admin.page, 'POST', '/api/backends/local/buckets', { name: 'shared-docs' })).status).toBe(201)
  const uploaded = await apiCall(admin.page, 'POST', '/api/backends/local/buckets/shared-docs/object?key=readme.txt', new TextEncoder().encode('read me\n'), {
    'content-type': 'text/plain',
  })
  expect(uploaded.status).toBe(201)

  const { page, problems } = await openPage(browser)
  await signIn(page, stowage.url, 'rita', 'silver orchard maple 7')
  // One backend: signing in lands on its buckets.
  await page.getByRole('heading', { level: 1, name: 'Local disk' }).waitFor()
  expect(await page.getByText('Administration').count()).toBe(0)
  expect(await page.getByRole('link', { name: 'Manage backends' }).count()).toBe(0)
  await page.getByRole('link', { name: 'shared-docs', exact: true }).waitFor()
  expect(await page.getByRole('button', { name: 'New bucket' }).count()).toBe(0)
  expect(await page.getByRole('button', { name: /^(Pin|Unpin|Delete) shared-docs$/ }).count()).toBe(0)
  expect(await page.getByRole('link', { name: 'Settings of shared-docs' }).count()).toBe(0)

  await page.getByRole('link', { name: 'shared-docs', exact: true }).click()
  await page.getByRole('button', { name: 'readme.txt', exact: true }).waitFor()
  for (const name of ['Upload files', 'Upload folder', 'New folder', 'Pin', 'Unpin'])
    expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0)
  expect(await page.getByRole('link', { name: 'Bucket settings' }).count()).toBe(0)

  await page.getByRole('checkbox', { name: 'Select readme.txt' }).check()
  const bar = page.getByRole('toolbar', { name: 'Actions for the selection' })
  await bar.getByRole('button', { name: 'Download' }).waitFor()
  for (const name of ['Delete', 'Copy or move', 'Rename']) expect(await bar.getByRole('button', { name }).count()).toBe(0)

  await page.getByRole('button', { name: 'readme.txt', exact: true }).click()
  const drawer = page.getByRole('dialog', { name: 'readme.txt' })
  await drawer.getByText('read me').waitFor()
  expect(await drawer.getByRole('button', { name: 'Delete' }).count()).toBe(0)
  expect(await drawer.getByRole('button', { name: /^Save/ }).count()).toBe(0)
  expect(await drawer.getByRole('button', { name: 'Add' }).count()).toBe(0)
  await page.keyboard.press('Escape')

  await page.goto(`${stowage.url}/admin/users`)
  await page.getByRole('heading', { level: 1, name: 'No access' }).waitFor()

  expect(unexpected(problems)).toEqual([])
  expect(problems.csp).toEqual([])
}, 90_000)

test('the password form states the rules before the first try, and a refusal names the rule broken, never raw JSON', async () => {
  const dave = await openPage(browser)
  expect(
    (await apiCall(admin.page, 'POST', '/api/admin/users', { username: 'dave', password: 'river stone amber 77', role: 'user', must_change_pw: false })).status,
  ).toBe(201)
  await signIn(dave.page, stowage.url, 'dave', 'river stone amber 77')
  await dave.page.goto(`${stowage.url}/me/password`)
  const form = dave.page.locator('form')
  await form.getByText('At least 12 characters, at least 4 different ones, and not containing the username.', { exact: false }).waitFor()

  const attempt = async (next: string, rule: string): Promise<string> => {
    await changeOwnPassword(dave.page, 'river stone amber 77', next)
    const error = form.locator('p.error').filter({ hasText: rule })
    await error.waitFor()
    return (await error.textContent()) ?? ''
  }
  const short = await attempt('tiny pw 1', 'Use at least 12 characters.')
  expect(short).toBe('The password is too weak. Use at least 12 characters.')
  expect(await attempt('i am dave and proud', 'It must not contain the username.')).not.toContain('{')
  expect(await attempt('abababababababab', 'Use at least 4 different characters.')).not.toContain('{')
  expect(unexpected(dave.problems, { statuses: [400] })).toEqual([])
  await dave.context.close()
}, 60_000)
