// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Share links. Owners' routes: any role lists (its own), writers create and
 * revoke. The /s/{code} endpoints are public: a session changes nothing.
 * Each attempt gets a fresh object and share on the matrix app's `local` fs
 * backend, created directly on the driver or through the API.
 */
import { ALL, GRANTED_WRITERS, SIGNED_IN, WRITERS, type Fixture, type Row } from './matrix.ts'

const PASSWORD = 'matrix pass phrase'

/** A fresh bucket holding `file.txt` on the `local` backend. */
async function object(fx: Fixture): Promise<{ bucket: string; key: string }> {
  const bucket = `authz-s-${fx.seq()}`
  const backend = fx.t.s.registry.get('local')
  await backend.createBucket(bucket)
  await backend.putObject(bucket, 'file.txt', new Response('shared bytes').body!, { size: 12, contentType: 'text/plain' })
  return { bucket, key: 'file.txt' }
}

/** A share made by `as` (or a fresh user), with a password when asked. */
async function share(fx: Fixture, o: { as?: Fixture['as']; password?: boolean } = {}): Promise<{ id: string; code: string }> {
  const as = o.as ?? (await fx.granted())
  const res = await fx.t.call('POST', '/api/shares', {
    as,
    json: { backend_id: 'local', ...(await object(fx)), ...(o.password ? { password: PASSWORD } : {}) },
  })
  if (res.status !== 201) throw new Error(`share create failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as { id: string; code: string }
}

/** The attempt's own share when it may have one; a well-formed id otherwise (the guard answers first, or nothing is found). */
async function ownShareId(fx: Fixture): Promise<string> {
  if (!fx.as || fx.who === 'readonly' || fx.who === 'stranger') return '01ARZ3NDEKTSV4RRFFQ69G5FAV'
  return (await share(fx, { as: fx.as })).id
}

export const rows: Row[] = [
  { method: 'GET', route: '/api/shares', expect: SIGNED_IN(200) },
  { method: 'GET', route: '/api/shares/policy', expect: SIGNED_IN(200) },
  { method: 'POST', route: '/api/shares', body: async (fx: Fixture) => ({ backend_id: 'local', ...(await object(fx)) }), expect: GRANTED_WRITERS(201) },
  { method: 'DELETE', route: '/api/shares/:id', path: async (fx) => `/api/shares/${await ownShareId(fx)}`, expect: { ...WRITERS(204), stranger: 404 } },
  { method: 'GET', route: '/s/:code/info', path: async (fx) => `/s/${(await share(fx)).code}/info`, expect: ALL(200) },
  {
    method: 'POST',
    route: '/s/:code/unlock',
    path: async (fx) => `/s/${(await share(fx, { password: true })).code}/unlock`,
    body: { password: PASSWORD },
    expect: ALL(200),
    public: true,
  },
  { method: 'GET', route: '/s/:code/raw', path: async (fx) => `/s/${(await share(fx)).code}/raw`, expect: ALL(200) },
]
