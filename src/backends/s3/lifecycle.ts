// SPDX-License-Identifier: AGPL-3.0-or-later
/** LifecycleRule ⇄ S3 LifecycleConfiguration XML. */
import type { LifecycleRule } from '../backend.ts'
import { child, children, escapeXml, tag, textOf, type XmlElement } from '../../s3/xml.ts'

function days(el: XmlElement | undefined, name: string): number | undefined {
  const v = textOf(el, name)
  return v === undefined || v === '' ? undefined : Number(v)
}

/** A rule's prefix may sit on the rule (the pre-2016 form), in Filter, or in Filter/And. */
function rulePrefix(rule: XmlElement): string | undefined {
  const filter = child(rule, 'Filter')
  return textOf(rule, 'Prefix') ?? textOf(filter, 'Prefix') ?? textOf(child(filter, 'And'), 'Prefix')
}

export function parseLifecycle(doc: XmlElement): LifecycleRule[] {
  return children(doc, 'Rule').map((r) => {
    const transition = child(r, 'Transition')
    const rule: LifecycleRule = {
      id: textOf(r, 'ID'),
      prefix: rulePrefix(r) || undefined,
      enabled: textOf(r, 'Status') === 'Enabled',
      expiration_days: days(child(r, 'Expiration'), 'Days'),
      noncurrent_expire_days: days(child(r, 'NoncurrentVersionExpiration'), 'NoncurrentDays'),
      abort_incomplete_days: days(child(r, 'AbortIncompleteMultipartUpload'), 'DaysAfterInitiation'),
      transition_days: days(transition, 'Days'),
      transition_storage_class: textOf(transition, 'StorageClass'),
    }
    for (const k of Object.keys(rule) as Array<keyof LifecycleRule>) if (rule[k] === undefined) delete rule[k]
    return rule
  })
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  const body = rules
    .map((r) => {
      let x = ''
      if (r.id) x += tag('ID', escapeXml(r.id))
      x += tag('Filter', tag('Prefix', escapeXml(r.prefix ?? '')))
      x += tag('Status', r.enabled ? 'Enabled' : 'Disabled')
      if (r.transition_days !== undefined)
        x += tag('Transition', tag('Days', r.transition_days) + tag('StorageClass', escapeXml(r.transition_storage_class ?? 'STANDARD_IA')))
      if (r.expiration_days !== undefined) x += tag('Expiration', tag('Days', r.expiration_days))
      if (r.noncurrent_expire_days !== undefined) x += tag('NoncurrentVersionExpiration', tag('NoncurrentDays', r.noncurrent_expire_days))
      if (r.abort_incomplete_days !== undefined) x += tag('AbortIncompleteMultipartUpload', tag('DaysAfterInitiation', r.abort_incomplete_days))
      return tag('Rule', x)
    })
    .join('')
  return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</LifecycleConfiguration>`
}
