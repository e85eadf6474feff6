// SPDX-License-Identifier: AGPL-3.0-or-later
/** Sign-in and sign-out plumbing shared by the login page, the profile page and the account menu. */
import { request } from './api.ts'
import { navigate } from './router.ts'
import { session } from './session.svelte.ts'

/**
 * Where to go after signing in. Only same-origin paths are allowed, so `?next=` cannot send a
 * freshly signed-in user to another site (open redirect); `//host` and `/\host` are other sites too.
 */
export function safeNext(raw: string | null): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/'
  const url = new URL(raw, window.location.origin)
  if (url.origin !== window.location.origin || url.pathname === '/login') return '/'
  return url.pathname + url.search + url.hash
}

/**
 * Ends the server session (POST with the CSRF header), then shows the login page — or, for a
 * single sign-on session, the provider's logout page, which comes back to /login afterwards.
 */
export async function signOut(): Promise<void> {
  const result = await request<{ status: 'ok'; redirect?: string }>('/auth/logout', { method: 'POST' })
  session.clear()
  if (result?.redirect) {
    window.location.assign(result.redirect)
    return
  }
  navigate('/login', { replace: true })
}
