// SPDX-License-Identifier: AGPL-3.0-or-later
/** CSV cells: RFC 4180 quoting, and spreadsheet formula injection defanged. */
import { expect, test } from 'bun:test'
import { CSV_COLUMNS, csvCell, csvRow } from '../../src/audit/csv.ts'

test('cells starting with = + - @ tab or CR are prefixed with an apostrophe', () => {
  expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`)
  expect(csvCell('+1+1')).toBe("'+1+1")
  expect(csvCell('-2+3')).toBe("'-2+3")
  expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
  expect(csvCell('\t=1')).toBe("'\t=1")
  expect(csvCell('\r=1')).toBe(`"'\r=1"`)
})

test('ordinary cells are left alone; separators and quotes are quoted', () => {
  expect(csvCell('auth.login')).toBe('auth.login')
  expect(csvCell('a=b')).toBe('a=b')
  expect(csvCell('a,b')).toBe('"a,b"')
  expect(csvCell('say "hi"')).toBe('"say ""hi"""')
  expect(csvCell('line\nbreak')).toBe('"line\nbreak"')
  expect(csvCell(null)).toBe('')
  expect(csvCell(undefined)).toBe('')
  expect(csvCell(42)).toBe('42')
})

test('a row has one cell per column, ends with CRLF and carries an ISO timestamp', () => {
  const line = csvRow({
    id: 7,
    ts: Date.UTC(2026, 0, 2, 3, 4, 5),
    user_id: 'u1',
    username: '=cmd',
    action: 'auth.login',
    backend_id: null,
    bucket: null,
    object_key: '@key',
    request_id: 'r1',
    ip: '10.0.0.1',
    user_agent: 'curl/8, like "x"',
    status: 'ok',
    detail: '{"a":1,"b":2}',
  })
  expect(line.endsWith('\r\n')).toBe(true)
  expect(line).toBe(`7,2026-01-02T03:04:05.000Z,u1,'=cmd,auth.login,,,'@key,r1,10.0.0.1,"curl/8, like ""x""",ok,"{""a"":1,""b"":2}"\r\n`)
  expect(CSV_COLUMNS.length).toBe(13)
})
