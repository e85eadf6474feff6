// SPDX-License-Identifier: AGPL-3.0-or-later
/** Display formatting shared by pages; words come from the catalogue, numbers and dates from Intl. */
import { locale, t } from './i18n.ts'
import type { IdentitySource } from './types.ts'

const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' })
const dateOnly = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' })
const timeOnly = new Intl.DateTimeFormat(locale, { timeStyle: 'short' })
const hourOnly = new Intl.DateTimeFormat(locale, { hour: 'numeric' })
const integer = new Intl.NumberFormat(locale)

function toDate(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

export function formatDateTime(value: string | number | null | undefined, fallback = t('common.empty')): string {
  const date = toDate(value)
  return date ? dateTime.format(date) : fallback
}

export function formatDate(value: string | number | null | undefined, fallback = t('common.empty')): string {
  const date = toDate(value)
  return date ? dateOnly.format(date) : fallback
}

export function formatTime(value: string | number | null | undefined, fallback = t('common.empty')): string {
  const date = toDate(value)
  return date ? timeOnly.format(date) : fallback
}

/** Just the hour ("2 PM"), for chart axes. */
export function formatHour(value: string | number): string {
  const date = toDate(value)
  return date ? hourOnly.format(date) : ''
}

/** A time as a `datetime-local` input wants it: local, without a zone. */
export function localInput(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}

export function isFuture(value: string | number | null | undefined): boolean {
  const date = toDate(value)
  return date !== null && date.getTime() > Date.now()
}

export function formatCount(value: number): string {
  return integer.format(value)
}

/** IEC symbols: they say 1024 where "kB" would mean 1000, and they are the same in every language. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const
// Made once: building a NumberFormat costs far more than using one, and a long listing formats thousands of sizes.
const wholeNumber = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 })

/** Bytes in binary multiples, as the quota form takes them: "23 B", "1.5 MiB", "120 GiB". */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  const format = unit === 0 || value >= 100 ? wholeNumber : oneDecimal
  return `${format.format(value)} ${UNITS[unit]}`
}

export function formatSpeed(bytesPerSecond: number): string {
  return t('format.speed', { size: formatBytes(bytesPerSecond) })
}

/** Seconds as "42 s", "3 min", "2 h": for remaining upload time. */
export function formatDuration(seconds: number): string {
  const [value, unit] =
    seconds >= 5400 ? [Math.round(seconds / 3600), 'hour'] : seconds >= 90 ? [Math.round(seconds / 60), 'minute'] : [Math.max(1, Math.round(seconds)), 'second']
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value)
}

export function formatPercent(fraction: number): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(fraction)
}

/** `local`, `static` or `oidc:<host>` as words. */
export function formatSource(source: IdentitySource): string {
  if (source === 'local') return t('source.local')
  if (source === 'static') return t('source.static')
  if (source.startsWith('oidc:')) return t('source.oidc', { host: source.slice(5) })
  return source
}
