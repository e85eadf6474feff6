// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * PutBucketLifecycleConfiguration documents read as S3 reads them, and the
 * configuration written back for GetBucketLifecycleConfiguration.
 *
 * Checked as S3 checks: at least one and at most 1000 rules; `Status` exactly
 * `Enabled` or `Disabled`, a rule's own `Prefix` or a `Filter` (not both, not
 * neither), a filter of one condition or an `And`, an expiration of exactly
 * one of `Days`, `Date`, `ExpiredObjectDeleteMarker` (MalformedXML); IDs of
 * at most 255 characters, unique; day counts positive; dates in ISO 8601 at
 * midnight UTC (InvalidArgument); a rule with no action, or tags beside an
 * upload abort or a delete-marker expiration (InvalidRequest). A rule without
 * an ID gets one. Transitions are refused (501) once the document is
 * otherwise valid: a directory has no storage classes.
 */
import { randomBytes } from 'node:crypto'
import type { BucketLifecycleRule, LifecycleExpiration, LifecycleFilter, LifecycleScope } from '../backends/bucket-rules.ts'
import { child, children, textOf, type XmlElement } from '../s3/xml.ts'
import { notImplemented } from '../s3proxy/errors.ts'
import { parseDocument } from './body.ts'
import { invalidRequest, malformedXml } from './errors.ts'
import { invalidArgument } from './headers.ts'
import { tagOf } from './tagging.ts'
import { doc, el, wrap } from './xml.ts'

const MAX_RULES = 1000
const MAX_ID = 255
const MAX_COUNT = 2 ** 31 - 1

function checkDate(raw: string): string {
  const ms = Date.parse(raw.trim())
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw.trim()) || Number.isNaN(ms)) throw invalidArgument("'Date' must be in ISO 8601 format")
  if (ms % 86_400_000 !== 0) throw invalidArgument("'Date' must be at midnight GMT")
  return new Date(ms).toISOString()
}

function count(raw: string | undefined, what: string, min: number): number {
  const text = (raw ?? '').trim()
  const n = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN
  if (!(n >= min && n <= MAX_COUNT)) throw invalidArgument(`'${what}' must be ${min === 0 ? 'a non-negative' : 'a positive'} integer`)
  return n
}

/** The conditions of a filter or of its `And`, each at most once except tags. */
function conditions(holder: XmlElement, single: boolean): LifecycleFilter {
  const filter: LifecycleFilter = { tags: [] }
  for (const c of holder.children) {
    if (c.name === 'Prefix' && filter.prefix === undefined) filter.prefix = c.text
    else if (c.name === 'Tag') filter.tags.push(tagOf(c))
    else if (c.name === 'ObjectSizeGreaterThan' && filter.sizeGreaterThan === undefined) filter.sizeGreaterThan = count(c.text, c.name, 0)
    else if (c.name === 'ObjectSizeLessThan' && filter.sizeLessThan === undefined) filter.sizeLessThan = count(c.text, c.name, 1)
    else throw malformedXml()
  }
  // Each child was taken as one condition.
  if (single && holder.children.length > 1) throw malformedXml()
  if (new Set(filter.tags.map(([k]) => k)).size !== filter.tags.length) throw invalidArgument('Duplicate Tag Keys are not allowed.')
  return filter
}

function scopeOf(rule: XmlElement): LifecycleScope {
  const prefix = child(rule, 'Prefix')
  const filter = child(rule, 'Filter')
  if ((prefix === undefined) === (filter === undefined)) throw malformedXml()
  if (prefix) return { kind: 'prefix', prefix: prefix.text }
  const and = child(filter, 'And')
  if (!and) return { kind: 'filter', and: false, filter: conditions(filter!, true) }
  if (filter!.children.length !== 1) throw malformedXml()
  return { kind: 'filter', and: true, filter: conditions(and, false) }
}

function expirationOf(e: XmlElement): LifecycleExpiration {
  const days = textOf(e, 'Days')
  const date = textOf(e, 'Date')
  const marker = textOf(e, 'ExpiredObjectDeleteMarker')
  if ([days, date, marker].filter((v) => v !== undefined).length !== 1) throw malformedXml()
  if (days !== undefined) return { days: count(days, 'Days', 1) }
  if (date !== undefined) return { date: checkDate(date) }
  const flag = marker!.trim()
  if (flag !== 'true' && flag !== 'false') throw malformedXml()
  return { expiredObjectDeleteMarker: flag === 'true' }
}

function ruleOf(rule: XmlElement, ids: Set<string>): { rule: BucketLifecycleRule; transitions: boolean } {
  const status = textOf(rule, 'Status')
  if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml()
  const givenId = textOf(rule, 'ID')
  if (givenId !== undefined) {
    if ([...givenId].length > MAX_ID) throw invalidArgument('ID length should not exceed allowed limit of 255')
    if (ids.has(givenId)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule')
    ids.add(givenId)
  }
  const scope = scopeOf(rule)
  const expiration = child(rule, 'Expiration')
  const noncurrent = child(rule, 'NoncurrentVersionExpiration')
  const abort = child(rule, 'AbortIncompleteMultipartUpload')
  const transitions = [...children(rule, 'Transition'), ...children(rule, 'NoncurrentVersionTransition')]
  for (const t of transitions) {
    const date = textOf(t, 'Date')
    if (date !== undefined) checkDate(date)
  }
  if (!expiration && !noncurrent && !abort && transitions.length === 0) throw invalidRequest('At least one action needs to be specified in a rule')
  const out: BucketLifecycleRule = { id: givenId ?? randomBytes(24).toString('base64url'), enabled: status === 'Enabled', scope }
  if (expiration) out.expiration = expirationOf(expiration)
  if (noncurrent) {
    out.noncurrentDays = count(textOf(noncurrent, 'NoncurrentDays'), 'NoncurrentDays', 1)
    const newer = textOf(noncurrent, 'NewerNoncurrentVersions')
    if (newer !== undefined) out.newerNoncurrentVersions = count(newer, 'NewerNoncurrentVersions', 1)
  }
  if (abort) out.abortIncompleteDays = count(textOf(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation', 1)
  const tagged = scope.kind === 'filter' && scope.filter.tags.length > 0
  if (tagged && abort) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.')
  if (tagged && out.expiration && 'expiredObjectDeleteMarker' in out.expiration)
    throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Tags.')
  return { rule: out, transitions: transitions.length > 0 }
}

/** The rules of a document S3 would accept; throws the S3 error it would answer otherwise. */
export function parseLifecycleDocument(document: string | undefined): BucketLifecycleRule[] {
  if (document === undefined) throw malformedXml()
  const rules = children(parseDocument(document, 'LifecycleConfiguration'), 'Rule')
  if (rules.length === 0 || rules.length > MAX_RULES) throw malformedXml()
  const ids = new Set<string>()
  const parsed = rules.map((r) => ruleOf(r, ids))
  if (parsed.some((p) => p.transitions)) throw notImplemented('Transitions are not available on this storage: a directory has no storage classes.')
  return parsed.map((p) => p.rule)
}

const tagXml = ([k, v]: [string, string]): string => wrap('Tag', el('Key', k) + el('Value', v))

function filterXml(scope: LifecycleScope): string {
  if (scope.kind === 'prefix') return el('Prefix', scope.prefix)
  const f = scope.filter
  const inner =
    (f.prefix !== undefined ? el('Prefix', f.prefix) : '') +
    f.tags.map(tagXml).join('') +
    (f.sizeGreaterThan !== undefined ? el('ObjectSizeGreaterThan', f.sizeGreaterThan) : '') +
    (f.sizeLessThan !== undefined ? el('ObjectSizeLessThan', f.sizeLessThan) : '')
  return wrap('Filter', scope.and ? wrap('And', inner) : inner)
}

function expirationXml(e: LifecycleExpiration): string {
  if ('days' in e) return el('Days', e.days)
  if ('date' in e) return el('Date', e.date)
  return el('ExpiredObjectDeleteMarker', e.expiredObjectDeleteMarker)
}

export function renderLifecycle(rules: BucketLifecycleRule[]): Uint8Array {
  const body = rules.map((r) =>
    wrap(
      'Rule',
      el('ID', r.id) +
        filterXml(r.scope) +
        el('Status', r.enabled ? 'Enabled' : 'Disabled') +
        (r.expiration ? wrap('Expiration', expirationXml(r.expiration)) : '') +
        (r.noncurrentDays !== undefined
          ? wrap(
              'NoncurrentVersionExpiration',
              el('NoncurrentDays', r.noncurrentDays) +
                (r.newerNoncurrentVersions !== undefined ? el('NewerNoncurrentVersions', r.newerNoncurrentVersions) : ''),
            )
          : '') +
        (r.abortIncompleteDays !== undefined ? wrap('AbortIncompleteMultipartUpload', el('DaysAfterInitiation', r.abortIncompleteDays)) : ''),
    ),
  )
  return doc('LifecycleConfiguration', body.join(''))
}
