// SPDX-License-Identifier: AGPL-3.0-or-later
/** How a grant's target and subject read in the UI. */
import type { Grant } from '../../lib/access-types.ts'
import { t } from '../../lib/i18n.ts'

/** "Every backend", "nas: every bucket", "nas / photos", "nas / photos / 2024/". */
export function where(g: Pick<Grant, 'backend_id' | 'bucket' | 'prefix'>): string {
  if (g.backend_id === '*') return t('access.everywhere')
  if (!g.bucket) return t('access.allBuckets', { backend: g.backend_id })
  if (!g.prefix) return t('access.bucket', { backend: g.backend_id, bucket: g.bucket })
  return t('access.folder', { backend: g.backend_id, bucket: g.bucket, prefix: g.prefix })
}

/** The username, or "Group <name>". */
export function who(g: Pick<Grant, 'subject_type' | 'subject' | 'subject_name'>): string {
  return g.subject_type === 'group' ? t('access.group', { group: g.subject }) : (g.subject_name ?? g.subject)
}
