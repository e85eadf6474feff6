// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A PutBucketLifecycleConfiguration document checked as S3 checks it, so a
 * client hears about a broken configuration (400) before it hears that the
 * directory has nothing that would apply one (501, bucket-admin.ts): at
 * least one and at most 1000 rules; `Status` exactly `Enabled` or
 * `Disabled` (MalformedXML); IDs of at most 255 characters, unique
 * (InvalidArgument); dates of expirations and transitions in ISO 8601 at
 * midnight UTC (InvalidArgument).
 */
import { child, children, parseXml, textOf, type XmlElement } from '../s3/xml.ts'
import { malformedXml } from './errors.ts'
import { invalidArgument } from './headers.ts'

const MAX_RULES = 1000
const MAX_ID = 255

function checkDate(holder: XmlElement | undefined): void {
  const raw = holder ? textOf(holder, 'Date') : undefined
  if (raw === undefined) return
  const ms = Date.parse(raw.trim())
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw.trim()) || Number.isNaN(ms)) throw invalidArgument("'Date' must be in ISO 8601 format")
  if (ms % 86_400_000 !== 0) throw invalidArgument("'Date' must be at midnight GMT")
}

/** Throws the S3 error a bad lifecycle document gets; returns when S3 would accept it. */
export function checkLifecycleDocument(document: string | undefined): void {
  if (document === undefined) throw malformedXml()
  let root: XmlElement
  try {
    root = parseXml(document)
  } catch {
    throw malformedXml()
  }
  const rules = children(root, 'Rule')
  if (root.name !== 'LifecycleConfiguration' || rules.length === 0 || rules.length > MAX_RULES) throw malformedXml()
  const ids = new Set<string>()
  for (const rule of rules) {
    const status = textOf(rule, 'Status')
    if (status !== 'Enabled' && status !== 'Disabled') throw malformedXml()
    const id = textOf(rule, 'ID')
    if (id !== undefined) {
      if ([...id].length > MAX_ID) throw invalidArgument('ID length should not exceed allowed limit of 255')
      if (ids.has(id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule')
      ids.add(id)
    }
    checkDate(child(rule, 'Expiration'))
    for (const transition of children(rule, 'Transition')) checkDate(transition)
  }
}
