// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every user-facing string of the web UI comes from the catalogue assembled here (one file per area
 * under messages/), so a translation is one more catalogue (users asked for one string catalogue
 * from day one: peers.md §3.8). Error codes from the API double as keys under `errors` (worded in
 * error-text.ts).
 */
import { access } from './messages/access.ts'
import { admin } from './messages/admin.ts'
import { browser } from './messages/browser.ts'
import { core } from './messages/core.ts'
import { credentials } from './messages/credentials.ts'
import { errors } from './messages/errors.ts'
import { settings } from './messages/settings.ts'
import { shares } from './messages/shares.ts'
import { storage } from './messages/storage.ts'

const en = { ...core, ...storage, ...browser, ...settings, ...admin, ...access, ...shares, ...credentials, errors }

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
