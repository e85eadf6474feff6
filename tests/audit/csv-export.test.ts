// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GET /api/admin/audit.csv is streamed a page at a time (the whole log is
 * never in memory), starts with the header, honours the filters, and defangs
 * spreadsheet formulas.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from 'bun:test'
import { CSV_COLUMNS } from '../../src/audit/csv.ts'
import { testApp, type Client, type TestApp } from '../helpers/app.ts'

// Real argon2, sockets and SQLite: generous under a loaded CI machine, still quick when idle.
setDefaultTimeout(20_000)

let t: TestApp
let admin: Client
const ROWS = 20_000

beforeAll(async () => {
  t = await testApp()
  admin = await t.user('admin')
  for (let i = 0; i < ROWS; i++)
    t.s.audit.record({
      ts: Date.UTC(2026, 0, 1) + i,
      action: i % 2 ? 'bulk.odd' : 'bulk.even',
      userId: `u${i % 7}`,
      username: `User${i % 7}`,
      backend: 'nas',
      bucket: 'b',
      key: `k/${i}`,
    })
  await t.s.audit.record({
    action: 'evil',
    userId: '=HYPERLINK("http://evil.example","click")',
    key: '+cmd|calc',
    bucket: '-2+3',
    backend: '@SUM(1)',
    userAgent: '\tTab',
    detail: { note: '\rCR' },
  })
  await t.s.audit.flush()
})
afterAll(() => t.close())

describe('streaming', () => {
  test('20 000 rows arrive as a stream of page-sized chunks, header first', async () => {
    const res = await t.call('GET', '/api/admin/audit.csv?action=bulk.', { as: admin })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{8}-\d{6}\.csv"$/)
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.body).toBeInstanceOf(ReadableStream)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    const chunks: string[] = []
    let maxRowsPerChunk = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const text = decoder.decode(value, { stream: true })
      chunks.push(text)
      maxRowsPerChunk = Math.max(maxRowsPerChunk, text.split('\r\n').length - 1)
    }
    expect(chunks[0]).toBe(CSV_COLUMNS.join(',') + '\r\n')
    const lines = chunks.join('').split('\r\n').filter(Boolean)
    expect(lines).toHaveLength(ROWS + 1)
    // Bounded memory: no chunk holds more than one page (500 rows) of the log.
    expect(chunks.length).toBeGreaterThanOrEqual(ROWS / 500)
    expect(maxRowsPerChunk).toBeLessThanOrEqual(500)
    // Newest first, every row once.
    expect(lines[1]).toContain(',k/19999,')
    expect(lines.at(-1)).toContain(',k/0,')
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(ROWS)
  })

  test('cancelling a download midway leaves the app healthy', async () => {
    const res = await t.call('GET', '/api/admin/audit.csv', { as: admin })
    const reader = res.body!.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    // The app keeps answering normally.
    expect((await t.call('GET', '/api/admin/audit?limit=1', { as: admin })).status).toBe(200)
  })

  test('filters and limit apply', async () => {
    const text = await (await t.call('GET', '/api/admin/audit.csv?action=bulk.odd&user=u3&limit=25', { as: admin })).text()
    const lines = text.split('\r\n').filter(Boolean)
    expect(lines).toHaveLength(26)
    for (const l of lines.slice(1)) expect(l).toMatch(/^\d+,[^,]+,u3,User3,bulk\.odd,nas,b,k\/\d+,/)
    const byName = (await (await t.call('GET', '/api/admin/audit.csv?action=bulk.odd&username=user3&limit=25', { as: admin })).text())
      .split('\r\n')
      .filter(Boolean)
    expect(byName.slice(1)).toEqual(lines.slice(1))
  })
})

test('formula cells are defanged', async () => {
  const text = await (await t.call('GET', '/api/admin/audit.csv?action=evil', { as: admin })).text()
  const row = text.split('\r\n')[1]!
  expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`)
  expect(row).toContain("'+cmd|calc")
  expect(row).toContain("'-2+3")
  expect(row).toContain("'@SUM(1)")
  expect(row).toContain("'\tTab")
  expect(text).toContain(`"{""note"":""\\rCR""}"`)
  // No cell starts with a formula character.
  expect(row.split(',').filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([])
})

test('only admins may export', async () => {
  const u = await t.user('user')
  expect((await t.call('GET', '/api/admin/audit.csv', { as: u })).status).toBe(403)
  expect((await t.call('GET', '/api/admin/audit.csv')).status).toBe(401)
})
