// SPDX-License-Identifier: AGPL-3.0-or-later
/** Display formatting shared by pages; words come from the catalogue, numbers and dates from Intl. */
import { locale, t } from './i18n.ts'
import type { IdentitySource } from './types.ts'

const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' })
const dateOnly = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' })

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

export function isFuture(value: string | number | null | undefined): boolean {
  const date = toDate(value)
  return date !== null && date.getTime() > Date.now()
}

/** `local`, `static` or `oidc:<host>` as words. */
export function formatSource(source: IdentitySource): string {
  if (source === 'local') return t('source.local')
  if (source === 'static') return t('source.static')
  if (source.startsWith('oidc:')) return t('source.oidc', { host: source.slice(5) })
  return source
}
