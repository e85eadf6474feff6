// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every user-facing string of the web UI comes from the catalogue assembled here (one file per area
 * under messages/), so a translation is one more catalogue (users asked for one string catalogue
 * from day one: peers.md §3.8). Error codes from the API double as keys under `errors`; a code this
 * build does not know falls back to the server's own message.
 */
import { ApiError } from './api-error.ts'
import { admin } from './messages/admin.ts'
import { browser } from './messages/browser.ts'
import { core } from './messages/core.ts'
import { credentials } from './messages/credentials.ts'
import { errors } from './messages/errors.ts'
import { settings } from './messages/settings.ts'
import { shares } from './messages/shares.ts'
import { storage } from './messages/storage.ts'

const en = { ...core, ...storage, ...browser, ...settings, ...admin, ...shares, ...credentials, errors }

type Catalogue = typeof en

/** Dotted paths to every string in the catalogue, e.g. `'users.create.title'`. */
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>
}[keyof T & string]

export type MessageKey = Leaves<Catalogue>
export type Vars = Record<string, string | number>

/** Dotted paths to the messages that come in `one`/`other` forms, e.g. `'jobs.deleted'`. */
type PluralLeaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends { one: string; other: string } ? `${P}${K}` : T[K] extends string ? never : PluralLeaves<T[K], `${P}${K}.`>
}[keyof T & string]

export type PluralKey = PluralLeaves<Catalogue>

/** BCP 47 tag of the active catalogue; Intl formatters use it so dates and units match the words. */
export const locale = 'en'

function lookup(key: string): string | undefined {
  let node: unknown = en
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string' ? node : undefined
}

function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
}

export function t(key: MessageKey, vars?: Vars): string {
  return interpolate(lookup(key) ?? key, vars)
}

const pluralRules = new Intl.PluralRules(locale)
const counts = new Intl.NumberFormat(locale)

/** A message with a count in it: "1 object deleted", "3 objects deleted". `{count}` is the formatted number. */
export function tn(key: PluralKey, count: number, vars?: Vars): string {
  const form = pluralRules.select(count) === 'one' ? 'one' : 'other'
  return interpolate(lookup(`${key}.${form}`) ?? key, { ...vars, count: counts.format(count) })
}

export function hasErrorCode(code: string): boolean {
  return Object.hasOwn(en.errors, code)
}

/** The catalogued sentence for an error code met outside an ApiError (per-object codes in progress streams). */
export function codeText(code: string, fallback: string): string {
  return (hasErrorCode(code) ? lookup(`errors.${code}`) : undefined) ?? (fallback || code)
}

function formatSeconds(seconds: number): string {
  const [value, unit] = seconds >= 5400 ? [Math.ceil(seconds / 3600), 'hour'] : seconds >= 90 ? [Math.ceil(seconds / 60), 'minute'] : [seconds, 'second']
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value)
}

/** One sentence for the user: the catalogued text for a known code, else the server's message. */
export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return t('errors.unexpected')
  const known = hasErrorCode(err.code) ? lookup(`errors.${err.code}`) : undefined
  const base = known ?? (err.message || t('errors.unknown', { status: err.status }))
  if (err.retryAfter) return `${base} ${t('errors.retryIn', { time: formatSeconds(err.retryAfter) })}`
  return err.status === 429 ? `${base} ${t('errors.retryLater')}` : base
}

/**
 * The server's `detail`, flattened to lines: a plain string, or a list of validation problems
 * (`[{path, message}]`) as schema validators produce them.
 */
export function errorDetails(err: unknown): string[] {
  if (!(err instanceof ApiError) || err.detail == null || err.detail === '') return []
  const detail = err.detail
  if (typeof detail === 'string') return [detail]
  const items = Array.isArray(detail) ? detail : [detail]
  return items.map((item) => {
    if (typeof item === 'string') return item
    if (typeof item === 'object' && item !== null) {
      const { path, message } = item as { path?: unknown; message?: unknown }
      if (typeof message === 'string') return typeof path === 'string' && path ? `${path}: ${message}` : message
    }
    return JSON.stringify(item)
  })
}

/** The message and its detail in one string, for the small space under a form field. */
export function errorText(err: unknown): string {
  return [errorMessage(err), ...errorDetails(err)].join(' ')
}
