// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Malformed input, table-driven, over every route that takes a body or
 * paging parameters: wrong types at every field of the body (and the body
 * itself), out-of-range numbers, deep nesting, huge arrays, invalid JSON
 * escapes, bytes that are not UTF-8, a foreign media type, bad paging values
 * and bad percent-escapes in the query. Each must be a 4xx from the error
 * catalogue (never a 5xx), and the app must still answer /healthz afterwards.
 *
 * Routes come from the app itself (`app.routes`: body schemas, raw-body
 * routes, paging parameters) and are exercised through their rows of the
 * authorization matrix, so a new route is covered the day it is added — or
 * fails here when it has no row. Cases are generated from each route's body
 * schema and a valid body; a mutation the schema still accepts must only not
 * fail with 5xx.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import { ERROR_CATALOGUE } from '../../src/http/errors.ts'
import { MAX_JSON_ELEMENTS } from '../../src/http/json-shape.ts'
import type { TestApp } from '../helpers/app.ts'
import { matrixApp, resolveRow, ROWS } from '../authz/harness.ts'

type Schema = TSchema & { type?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; patternProperties?: Record<string, Schema> }
type Hooks = { body?: Schema; query?: Schema; parse?: Array<{ fn?: unknown } | string> }
type Path = Array<string | number>
/** One malformed request: a JSON value or a raw body, and/or a query string to append. */
type Case = {
  name: string
  json?: unknown
  raw?: string | Uint8Array<ArrayBuffer>
  contentType?: string
  headers?: Record<string, string>
  query?: string
  mustRefuse: boolean
}

const PAGING = new Set(['limit', 'offset', 'max_keys'])
const WRONG: unknown[] = ['x', '', 42, -1, 1.5, 1e308, -1e308, 2 ** 63, true, null, [], {}, [42], { k: 42 }]
const BAD_PAGING = ['-1', '1e30', 'Infinity', '1.5', 'abc', '']
const BAD_ESCAPES = ['%C0%AF', '%FF', '%ZZ']

// Built before the tests are collected: the table's rows are the app's own routes. Each route then
// gets a fresh app, so what one route's accepted cases create (a backend named "x") cannot change
// another route's answers.
const catalogue: TestApp = (await matrixApp()).t
afterAll(() => catalogue.close())

const hooksOf = (r: { hooks: unknown }): Hooks => r.hooks as Hooks
const isRaw = (h: Hooks): boolean => (h.parse ?? []).some((p) => p === 'none' || (typeof p === 'object' && p.fn === 'none'))
const queryNames = (h: Hooks): string[] => Object.keys(h.query?.properties ?? {})

/** The routes this table covers, as the app registers them. */
function covered(): Array<{ method: string; path: string; hooks: Hooks }> {
  return catalogue.s.app.routes
    .map((r) => ({ method: r.method, path: r.path, hooks: hooksOf(r) }))
    .filter((r) => r.hooks.body || isRaw(r.hooks) || queryNames(r.hooks).some((n) => PAGING.has(n)))
}

/** The branch of a union (or the schema itself) that describes `value`. */
function branch(s: Schema, value: unknown): Schema {
  if (!s.anyOf) return s
  return s.anyOf.find((b) => value !== undefined && Value.Check(b, value)) ?? s.anyOf.find((b) => b.type === 'object' || b.type === 'array') ?? s.anyOf[0]!
}

/** Every field path of the valid body, plus the optional fields its schema allows where the parent exists. */
function fieldPaths(s: Schema, value: unknown, at: Path, out: Path[]): void {
  if (at.length) out.push(at)
  const b = branch(s, value)
  if (b.type === 'object' && (value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value)))) {
    if (value === undefined) return
    for (const [k, sub] of Object.entries(b.properties ?? {})) fieldPaths(sub, (value as Record<string, unknown>)[k], [...at, k], out)
    const record = Object.values(b.patternProperties ?? {})[0]
    if (record) fieldPaths(record, undefined, [...at, 'k'], out)
  } else if (b.type === 'array' && Array.isArray(value) && value.length > 0 && b.items) {
    fieldPaths(b.items, value[0], [...at, 0], out)
  }
}

function setAt(value: unknown, path: Path, to: unknown): unknown {
  const copy = structuredClone(value ?? {}) as Record<string | number, unknown>
  let node = copy
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  node[path.at(-1)!] = to
  return copy
}

const nested = (depth: number): unknown => {
  let v: unknown = []
  for (let i = 1; i < depth; i++) v = [v]
  return v
}

function jsonCases(schema: Schema, valid: unknown): Case[] {
  const check = (v: unknown): boolean => Value.Check(schema, v)
  const cases: Case[] = []
  for (const root of ['[]', '"x"', '42', 'true', 'null']) cases.push({ name: `body ${root}`, raw: root, mustRefuse: !check(JSON.parse(root)) })
  const paths: Path[] = []
  fieldPaths(schema, valid, [], paths)
  for (const path of paths) {
    for (const wrong of WRONG) {
      const json = setAt(valid, path, wrong)
      cases.push({ name: `${path.join('.')} = ${JSON.stringify(wrong)}`, json, mustRefuse: !check(json) })
    }
  }
  const first = paths[0] ?? ['extra']
  cases.push({ name: `${first.join('.')} nested 40 deep`, json: setAt(valid, first, nested(40)), mustRefuse: true })
  cases.push({ name: 'root nested 5000 deep', raw: JSON.stringify(nested(5000)), mustRefuse: true })
  cases.push({ name: `${first.join('.')} = huge array`, json: setAt(valid, first, Array(MAX_JSON_ELEMENTS + 1).fill(0)), mustRefuse: true })
  const text = JSON.stringify(valid ?? {})
  const withString = text.includes('"') ? text : '{"x":"y"}'
  cases.push({ name: 'invalid escape \\x', raw: withString.replace('"', '"\\x41'), mustRefuse: true })
  cases.push({ name: 'truncated \\u escape', raw: withString.replace('"', '"\\u12'), mustRefuse: true })
  const firstQuote = withString.indexOf('"') + 1
  const notUtf8 = Buffer.concat([Buffer.from(withString.slice(0, firstQuote)), Buffer.from([0xc0, 0xaf]), Buffer.from(withString.slice(firstQuote))])
  cases.push({ name: 'bytes that are not UTF-8', raw: new Uint8Array(notUtf8), mustRefuse: true })
  cases.push({ name: 'truncated JSON', raw: text.slice(0, Math.max(1, text.length - 1)), mustRefuse: text.length > 1 })
  cases.push({ name: 'a foreign media type', raw: text, contentType: 'application/xml', mustRefuse: true })
  return cases
}

function queryCases(h: Hooks): Case[] {
  const cases: Case[] = []
  for (const name of queryNames(h)) {
    if (PAGING.has(name)) for (const v of BAD_PAGING) cases.push({ name: `?${name}=${v}`, query: `${name}=${encodeURIComponent(v)}`, mustRefuse: true })
    for (const v of BAD_ESCAPES) cases.push({ name: `?${name}=${v}`, query: `${name}=${v}`, mustRefuse: true })
  }
  return cases
}

function rawCases(): Case[] {
  return [
    { name: 'Content-Length not a number', raw: 'data', headers: { 'content-length': 'abc' }, mustRefuse: true },
    { name: 'Content-Length negative', raw: 'data', headers: { 'content-length': '-1' }, mustRefuse: true },
    { name: 'Content-Length 1e30', raw: 'data', headers: { 'content-length': '1e30' }, mustRefuse: true },
    // Only the upload route reads forms (a part is raw bytes whatever its type): these must just not fail.
    { name: 'multipart/form-data without a boundary', raw: 'data', contentType: 'multipart/form-data', mustRefuse: false },
    {
      name: 'a form that ends early',
      raw: '--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nxx',
      contentType: 'multipart/form-data; boundary=b',
      mustRefuse: false,
    },
  ]
}

function withQuery(path: string, query: string): string {
  const [base, existing = ''] = path.split('?') as [string, string?]
  const name = query.split('=')[0]
  const kept = existing.split('&').filter((p) => p && p.split('=')[0] !== name)
  return `${base}?${[...kept, query].join('&')}`
}

async function verdict(res: Response): Promise<string> {
  const code = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code
  if (res.status >= 500) return `${res.status} ${code}`
  if (res.status < 400) return 'accepted'
  const entry = code ? (ERROR_CATALOGUE as Record<string, readonly [number, string]>)[code] : undefined
  return entry && entry[0] === res.status ? 'catalogued 4xx' : `uncatalogued ${res.status} ${code}`
}

test('every route that takes a body or paging parameters has a row to build a valid request from', () => {
  const missing = covered()
    .filter((r) => !ROWS.some((x) => x.method === r.method && x.route === r.path))
    .map((r) => `${r.method} ${r.path}`)
  expect(missing).toEqual([])
  expect(covered().length).toBeGreaterThan(40)
})

describe('malformed input is a catalogued 4xx and the app keeps answering', () => {
  test.each(covered().map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (key, route) => {
    const row = ROWS.find((r) => r.method === route.method && r.route === route.path)
    if (!row) throw new Error(`${key} has no row in the authorization matrix`)
    const { t, fx } = await matrixApp()
    const as = await t.user('admin')
    const { path, init } = await resolveRow(row, fx(as))
    const cases: Case[] = [...queryCases(route.hooks)]
    if (route.hooks.body) {
      const valid = init.json ?? {}
      expect([key, Value.Check(route.hooks.body, valid)]).toEqual([key, true])
      cases.push(...jsonCases(route.hooks.body, valid))
    } else if (isRaw(route.hooks)) cases.push(...rawCases())
    const failures: string[] = []
    for (const c of cases) {
      const headers: Record<string, string> = { ...init.headers, ...c.headers }
      let body: BodyInit | undefined = init.body
      if (c.json !== undefined || c.raw !== undefined) {
        body = c.raw ?? JSON.stringify(c.json)
        headers['content-type'] = c.contentType ?? 'application/json'
      }
      const res = await t.call(route.method, c.query ? withQuery(path, c.query) : path, { as, body, headers })
      const got = await verdict(res)
      // A mutation the schema accepts may be answered like the valid request (501 on an fs backend, say).
      const ok = got === 'catalogued 4xx' || (!c.mustRefuse && (got === 'accepted' || res.status === row.expect.admin))
      if (!ok) failures.push(`${c.name}: ${got}`)
    }
    expect([key, failures]).toEqual([key, []])
    expect((await t.call('GET', '/healthz')).status).toBe(200)
    await t.close()
  })
})
