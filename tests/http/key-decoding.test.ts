// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Keys are decoded strictly: a key or prefix that is not valid UTF-8 after
 * decoding is refused with 400 on every route that takes one — dashboard and
 * share routes, in the query (percent-encoding), in JSON bodies (lone
 * surrogate escapes, raw bytes) and in upload forms — instead of being kept
 * as the raw text (`key=%C0%AF` became an object named `%C0%AF`) or turned
 * into something else. Routes come from the app itself, exercised through
 * their authorization-matrix rows, so a new route with a key is covered or
 * fails here.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { errorCode, type Client, type TestApp } from '../helpers/app.ts'
import { matrixApp, resolveRow, ROWS } from '../authz/harness.ts'
import type { Fixture } from '../authz/matrix.ts'

const KEY_FIELDS = new Set(['key', 'prefix', 'q', 'src_key', 'dst_key', 'src_prefix', 'dst_prefix', 'keys'])

/** Overlong "/", not UTF-8 at all, a surrogate, an overlong NUL, past U+10FFFF, not an escape, cut short. */
const BAD_ESCAPES = ['%C0%AF', '%FF%FE', '%ED%A0%80', '%E0%80%80', '%F4%90%80%80', '%ZZ', 'a%2']

type Schema = { properties?: Record<string, Schema> }

let t: TestApp
let fx: (as?: Client) => Fixture
let admin: Client
let root: string
beforeAll(async () => {
  ;({ t, fx } = await matrixApp())
  admin = await t.user('admin')
  root = (t.s.config.backends.find((b) => b.id === 'local') as { root: string }).root
})
afterAll(() => t.close())

/** Every route that takes a key or prefix, as "METHOD route part.field". */
function keyInputs(): string[] {
  const out: string[] = []
  for (const r of t.s.app.routes) {
    const hooks = r.hooks as unknown as Record<string, Schema | undefined>
    for (const part of ['query', 'body'] as const) {
      for (const name of Object.keys(hooks[part]?.properties ?? {})) if (KEY_FIELDS.has(name)) out.push(`${r.method} ${r.path} ${part}.${name}`)
    }
  }
  return out.sort()
}

const B = '/api/backends/:bid/buckets/:bucket'
const EXPECTED = [
  `GET ${B}/object query.key`,
  `GET ${B}/object/info query.key`,
  `GET ${B}/objects/zip query.key`,
  `GET ${B}/object/tags query.key`,
  `GET ${B}/object/versions query.key`,
  `GET ${B}/objects query.prefix`,
  `GET ${B}/objects/deleted query.prefix`,
  `POST ${B}/object query.key`,
  `DELETE ${B}/object query.key`,
  `POST ${B}/objects/delete body.keys`,
  `POST ${B}/objects/delete-prefix body.prefix`,
  `POST ${B}/objects/copy-prefix body.src_prefix`,
  `POST ${B}/objects/copy-prefix body.dst_prefix`,
  `POST ${B}/objects/folder body.key`,
  `POST ${B}/object/copy body.src_key`,
  `POST ${B}/object/copy body.dst_key`,
  `PUT ${B}/object/tags query.key`,
  `PUT ${B}/object/metadata query.key`,
  `GET ${B}/multipart query.prefix`,
  `POST ${B}/multipart query.key`,
  `GET ${B}/multipart/parts query.key`,
  `PUT ${B}/multipart/parts/:part query.key`,
  `POST ${B}/multipart/complete query.key`,
  `DELETE ${B}/multipart query.key`,
  `GET ${B}/prefix-size query.prefix`,
  'GET /api/search query.q',
  'POST /api/shares body.key',
  'GET /s/:code/raw query.key',
  'POST /api/admin/grants body.prefix',
].sort()

/** `path` with `name` set to the raw (not re-encoded) `value`. */
function withQuery(path: string, name: string, value: string): string {
  const [base, query = ''] = path.split('?') as [string, string?]
  const pairs = query.split('&').filter((p) => p && p.split('=')[0] !== name)
  return `${base}?${[...pairs, `${name}=${value}`].join('&')}`
}

test('the routes that take a key or prefix are the ones this test covers', () => {
  expect(keyInputs()).toEqual(EXPECTED)
})

test('a query key or prefix that is not percent-encoded UTF-8 is 400 on every route, naming the parameter', async () => {
  for (const input of keyInputs().filter((k) => k.includes(' query.'))) {
    const [method, route, field] = input.split(' ') as [string, string, string]
    const name = field.slice('query.'.length)
    const row = ROWS.find((r) => r.method === method && r.route === route)
    if (!row) throw new Error(`${method} ${route} has no row in the authorization matrix`)
    for (const bad of BAD_ESCAPES) {
      const { path, init } = await resolveRow(row, fx(admin))
      const res = await t.call(method, withQuery(path, name, bad), { as: admin, ...init })
      const body = (await res.json().catch(() => ({}))) as { error?: { code: string; detail: Array<{ path: string }> } }
      expect([input, bad, res.status, body.error?.code, body.error?.detail[0]?.path]).toEqual([input, bad, 400, 'bad_request', `/${name}`])
    }
  }
})

test('a body key or prefix with a lone surrogate (no UTF-8 form) is refused on every route', async () => {
  for (const input of keyInputs().filter((k) => k.includes(' body.'))) {
    const [method, route, field] = input.split(' ') as [string, string, string]
    const name = field.slice('body.'.length)
    const row = ROWS.find((r) => r.method === method && r.route === route)!
    const { path, init } = await resolveRow(row, fx(admin))
    const valid = init.json as Record<string, unknown>
    const surrogate = name.endsWith('prefix') ? 'dir\ud800/' : 'a\ud800b'
    const json = { ...valid, [name]: name === 'keys' ? [{ key: surrogate }] : surrogate }
    const res = await t.call(method, path, { as: admin, json })
    if (name === 'keys') {
      // Bulk delete reports each refused key and carries on (its documented contract).
      expect([input, res.status]).toEqual([input, 200])
      expect(((await res.json()) as { errors: Array<{ code: string }> }).errors.map((e) => e.code)).toEqual(['invalid_key'])
    } else {
      expect([input, res.status, await errorCode(res)]).toEqual([input, 400, name.endsWith('prefix') ? 'invalid_prefix' : 'invalid_key'])
    }
  }
})

test('a JSON body that is not valid UTF-8 is 400 bad_request', async () => {
  const row = ROWS.find((r) => r.method === 'POST' && r.route === `${B}/objects/folder`)!
  const { path } = await resolveRow(row, fx(admin))
  const bytes = new Uint8Array([...new TextEncoder().encode('{"key":"a'), 0xc0, 0xaf, ...new TextEncoder().encode('b"}')])
  const res = await t.call('POST', path, { as: admin, body: bytes, headers: { 'content-type': 'application/json' } })
  expect(res.status).toBe(400)
  expect(((await res.json()) as { error: { message: string } }).error.message).toBe('The body is not valid UTF-8.')
})

test('upload forms: a key field or file name that is not valid UTF-8 is 400', async () => {
  const row = ROWS.find((r) => r.method === 'POST' && r.route === `${B}/object`)!
  const { path } = await resolveRow(row, fx(admin))
  const bucketPath = path.split('?')[0]!
  const form = (name: Uint8Array<ArrayBuffer>, key?: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
    const enc = (s: string) => new TextEncoder().encode(s)
    const parts = [enc('--b\r\n')]
    if (key) parts.push(enc('Content-Disposition: form-data; name="key"\r\n\r\n'), key, enc('\r\n--b\r\n'))
    parts.push(enc('Content-Disposition: form-data; name="file"; filename="'), name, enc('"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n'))
    return new Uint8Array(Buffer.concat(parts))
  }
  const overlong = new Uint8Array([0x61, 0xc0, 0xaf, 0x62])
  for (const body of [form(overlong), form(new TextEncoder().encode('ok.txt'), overlong)]) {
    const res = await t.call('POST', bucketPath, {
      as: admin,
      body,
      headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(body.length) },
    })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('bad_request')
  }
})

test('key=%C0%AF is refused, not stored as an object named "%C0%AF"; a malformed path is refused too', async () => {
  await t.s.registry.get('local').createBucket('strict-keys')
  for (const bad of ['%C0%AF', '%FF%FE']) {
    const res = await t.call('POST', `/api/backends/local/buckets/strict-keys/object?key=${bad}`, {
      as: admin,
      body: 'data',
      headers: { 'content-type': 'text/plain', 'content-length': '4' },
    })
    expect(res.status).toBe(400)
  }
  expect(readdirSync(join(root, 'strict-keys')).filter((f) => !f.startsWith('.'))).toEqual([])
  // Well-formed escapes still decode: "é/ü.txt".
  const ok = await t.call('POST', '/api/backends/local/buckets/strict-keys/object?key=%C3%A9%2F%C3%BC.txt', {
    as: admin,
    body: 'data',
    headers: { 'content-type': 'text/plain', 'content-length': '4' },
  })
  expect(ok.status).toBe(201)
  expect(((await ok.json()) as { key: string }).key).toBe('é/ü.txt')
  const path = await t.call('GET', '/api/backends/local/buckets/strict%FF/objects', { as: admin })
  expect(path.status).toBe(400)
  expect(await errorCode(path)).toBe('bad_request')
  expect((await t.call('GET', '/healthz')).status).toBe(200)
})
