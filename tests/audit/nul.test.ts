// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A NUL in what a client sent (an S3 key, a user agent) is recorded, on both
 * stores, without failing the write: PostgreSQL text cannot hold U+0000, and
 * one refused event would hold back every event batched with it.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
beforeAll(async () => {
  t = await testApp()
})
afterAll(() => t.close())

test('an event whose key and user agent hold a NUL is written, and so is the next one', async () => {
  const first = t.s.audit.record({ action: 'nul.key', key: 'a\u0000b', userAgent: 'agent\u0000x', detail: { key: 'a\u0000b' } })
  const second = t.s.audit.record({ action: 'nul.after' })
  await Promise.all([first, second])
  const rows = await t.s.db.all<{ action: string; object_key: string | null }>(
    "SELECT action, object_key FROM audit_events WHERE action LIKE 'nul.%' ORDER BY id",
  )
  expect(rows.map((r) => r.action)).toEqual(['nul.key', 'nul.after'])
  expect(rows[0]!.object_key).toStartWith('a')
  expect(rows[0]!.object_key).toEndWith('b')
})
