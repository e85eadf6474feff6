// SPDX-License-Identifier: AGPL-3.0-or-later
/** A signed-in session against a running Stowage over real HTTP, held as the web UI holds one: cookies, and the CSRF header on mutations. */

export type Session = { call(method: string, path: string, body?: unknown): Promise<Response> }

/** Waits for the one-time admin password `quickstart` prints on stderr (it can follow the listener by a moment). */
export async function oneTimePassword(stderr: () => string | Promise<string>, timeoutMs = 10_000): Promise<string> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await Bun.sleep(20)) {
    const m = /Password:\s+(\S+)/.exec(await stderr())
    if (m) return m[1]!
  }
  throw new Error(`no one-time password on stderr:\n${await stderr()}`)
}

export async function signIn(base: string, username: string, password: string): Promise<Session & { mustChangePassword: boolean }> {
  const res = await fetch(`${base}/auth/login/local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { must_change_pw?: boolean }
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
  const csrf = /stowage_csrf=([^;]+)/.exec(cookie)?.[1] ?? ''
  return {
    mustChangePassword: body.must_change_pw === true,
    call: (method, path, payload) =>
      fetch(`${base}${path}`, {
        method,
        headers: {
          cookie,
          'x-csrf-token': csrf,
          ...(payload === undefined ? {} : { 'content-type': payload instanceof Uint8Array ? 'application/octet-stream' : 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: payload instanceof Uint8Array ? (payload as Uint8Array<ArrayBuffer>) : JSON.stringify(payload) }),
      }),
  }
}

/** Signs in with quickstart's one-time password and replaces it, which the server requires before anything else. */
export async function firstSignIn(base: string, oneTime: string, newPassword: string): Promise<Session> {
  const s = await signIn(base, 'admin', oneTime)
  const res = await s.call('POST', '/api/me/password', { current_password: oneTime, new_password: newPassword })
  if (res.status !== 200) throw new Error(`password change failed: ${res.status} ${await res.text()}`)
  return s
}
