// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * API errors in words: the catalogued sentence for the code, and the server's `detail` rendered as
 * what it means (sizes as sizes, the rule a password broke, the field a problem is about) rather
 * than as JSON. A code this build does not know falls back to the server's own message.
 */
import { ERROR_CATALOGUE } from '../../http/errors.ts'
import { ApiError } from './api-error.ts'
import { formatBytes } from './format.ts'
import { locale, t } from './i18n.ts'
import { errors } from './messages/errors.ts'

export function hasErrorCode(code: string): boolean {
  return Object.hasOwn(errors, code)
}

function catalogued(code: string): string | undefined {
  return hasErrorCode(code) ? errors[code as keyof typeof errors] : undefined
}

/** The catalogued sentence for an error code met outside an ApiError (per-object codes in progress streams). */
export function codeText(code: string, fallback: string): string {
  return catalogued(code) ?? (fallback || code)
}

function formatSeconds(seconds: number): string {
  const [value, unit] = seconds >= 5400 ? [Math.ceil(seconds / 3600), 'hour'] : seconds >= 90 ? [Math.ceil(seconds / 60), 'minute'] : [seconds, 'second']
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value)
}

/** One sentence for the user: the catalogued text for a known code, else the server's message. */
export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return t('errors.unexpected')
  const base = catalogued(err.code) ?? (err.message || t('errors.unknown', { status: err.status }))
  if (err.retryAfter) return `${base} ${t('errors.retryIn', { time: formatSeconds(err.retryAfter) })}`
  return err.status === 429 ? `${base} ${t('errors.retryLater')}` : base
}

const count = (n: number): string => new Intl.NumberFormat(locale).format(n)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The field a validation problem points at ("/rules/0/prefix" → "rules 1 prefix"): people count from one. */
function fieldName(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? String(Number(part) + 1) : part.replace(/_/g, ' ')))
    .join(' ')
}

/** A detail object whose shape says what it is (by the fields the server's catalogue puts in it). */
function describeObject(detail: Record<string, unknown>): string[] {
  switch (detail.rule) {
    case 'min_length':
      if (isNumber(detail.min_length)) return [t('errorDetail.minLength', { count: count(detail.min_length) })]
      break
    case 'max_bytes':
      if (isNumber(detail.max_bytes)) return [t('errorDetail.maxBytes', { size: formatBytes(detail.max_bytes) })]
      break
    case 'contains_username':
      return [t('errorDetail.containsUsername')]
    case 'distinct_characters':
      if (isNumber(detail.min_distinct)) return [t('errorDetail.distinctCharacters', { count: count(detail.min_distinct) })]
      break
  }
  if (isNumber(detail.used) && isNumber(detail.adding) && isNumber(detail.hard)) {
    return [t('errorDetail.quota', { used: formatBytes(detail.used), hard: formatBytes(detail.hard), adding: formatBytes(detail.adding) })]
  }
  if (isNumber(detail.limit)) return [t('errorDetail.limit', { size: formatBytes(detail.limit) })]
  if (isNumber(detail.size)) return [t('errorDetail.objectSize', { size: formatBytes(detail.size) })]
  if (typeof detail.message === 'string') {
    return [
      typeof detail.path === 'string' && detail.path
        ? t('errorDetail.fieldProblem', { field: fieldName(detail.path), message: detail.message })
        : detail.message,
    ]
  }
  return Object.entries(detail)
    .filter(([name, value]) => name !== 'path' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([name, value]) => t('errorDetail.value', { name: name.replace(/_/g, ' '), value: isNumber(value) ? count(value) : String(value) }))
}

/**
 * The server's `detail` as lines for a person. A detail that only points at a field (`[{path}]`)
 * says which one; then the server's message, when it is not the code's default sentence (it names
 * the missing bucket, the rule), is shown too.
 */
export function errorDetails(err: unknown): string[] {
  if (!(err instanceof ApiError) || err.detail == null || err.detail === '') return withMessage(err, [], [])
  if (typeof err.detail === 'string') return [err.detail]
  const items = Array.isArray(err.detail) ? err.detail : [err.detail]
  const lines: string[] = []
  const fields: string[] = []
  for (const item of items) {
    if (typeof item === 'string') lines.push(item)
    else if (typeof item === 'object' && item !== null) {
      const { path, message } = item as { path?: unknown; message?: unknown }
      if (typeof path === 'string' && message === undefined && Object.keys(item).length === 1) {
        if (path && !fields.includes(fieldName(path))) fields.push(fieldName(path))
      } else lines.push(...describeObject(item as Record<string, unknown>))
    } else lines.push(String(item))
  }
  return withMessage(err, lines, fields)
}

function withMessage(err: unknown, lines: string[], fields: string[]): string[] {
  const about = fields.length > 0 ? [t('errorDetail.field', { field: fields.join(', ') })] : []
  if (!(err instanceof ApiError) || lines.length > 0) return [...lines, ...about]
  // The server's default sentence for the code says nothing ours does not; any other names the thing.
  const serverDefault = Object.hasOwn(ERROR_CATALOGUE, err.code) ? ERROR_CATALOGUE[err.code as keyof typeof ERROR_CATALOGUE][1] : undefined
  const specific = catalogued(err.code) !== undefined && err.message !== '' && err.message !== serverDefault
  return [...(specific ? [err.message] : []), ...about]
}

/** The message and its detail in one string, for the small space under a form field. */
export function errorText(err: unknown): string {
  return [errorMessage(err), ...errorDetails(err)].join(' ')
}
