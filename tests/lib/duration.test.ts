// SPDX-License-Identifier: AGPL-3.0-or-later
import { expect, test } from 'bun:test'
import { DURATION_PATTERN, formatDuration, parseDuration } from '../../src/lib/duration.ts'

test('Go-style durations parse to milliseconds', () => {
  expect(parseDuration('0')).toBe(0)
  expect(parseDuration('500ms')).toBe(500)
  expect(parseDuration('90s')).toBe(90_000)
  expect(parseDuration('15m')).toBe(900_000)
  expect(parseDuration('8h')).toBe(28_800_000)
  expect(parseDuration('7d')).toBe(604_800_000)
  expect(parseDuration('1h30m')).toBe(5_400_000)
  expect(parseDuration('1.5h')).toBe(5_400_000)
  expect(parseDuration(' 10s ')).toBe(10_000)
})

test('malformed durations are refused', () => {
  for (const bad of ['', '10', '-5m', '5 m', 'm', '1h 30m', '1w', '10sx', 'h1', '1e3s', 'NaN']) expect(parseDuration(bad)).toBeUndefined()
})

test('the schema pattern accepts exactly what the parser accepts', () => {
  const re = new RegExp(DURATION_PATTERN)
  for (const s of ['0', '500ms', '90s', '1h30m', '1.5h', '7d', '10', '-5m', '1h 30m', '1w', '']) {
    expect(re.test(s)).toBe(parseDuration(s) !== undefined && s.trim() === s)
  }
})

test('formatDuration round-trips through parseDuration', () => {
  for (const ms of [0, 250, 1000, 90_000, 900_000, 28_800_000, 604_800_000, 5_400_000]) expect(parseDuration(formatDuration(ms))).toBe(ms)
  expect(formatDuration(900_000)).toBe('15m')
})
