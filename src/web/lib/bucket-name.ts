// SPDX-License-Identifier: AGPL-3.0-or-later
/** The server's bucket-name rules (src/storage/validate.ts), so the form can explain a name before sending it. */
import type { MessageKey } from './i18n.ts'

export function bucketNameProblem(name: string): MessageKey | null {
  if (name.length < 3 || name.length > 63) return 'buckets.rules.length'
  if (/[^a-z0-9.-]/.test(name)) return /[A-Z]/.test(name) ? 'buckets.rules.lowercase' : 'buckets.rules.characters'
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'buckets.rules.edges'
  if (name.includes('..')) return 'buckets.rules.dots'
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'buckets.rules.ip'
  if (name.startsWith('xn--') || name.endsWith('-s3alias')) return 'buckets.rules.reserved'
  return null
}
