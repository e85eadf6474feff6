// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Go-style durations ("90s", "1h30m", "500ms", "7d") because the original's
 * config files use them and operators already know the notation.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y

export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$|^0$'

/** Parses a duration into milliseconds, or returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim()
  if (s === '0') return 0
  if (s === '') return undefined
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex
    const m = PART.exec(s)
    if (!m || m.index !== at) return undefined
    total += Number(m[1]) * UNIT_MS[m[2]!]!
  }
  return Math.round(total)
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0'
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
