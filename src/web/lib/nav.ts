// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sidebar entries. Only pages that exist are listed. As they land, Backends, Buckets, Shares,
 * S3 credentials and Search go into a "Workspace" section placed first, and Dashboard, Audit log,
 * Backends and S3 proxy join the Administration section.
 */
import type { MessageKey } from './i18n.ts'
import type { IconName } from './icons.ts'

export interface NavItem {
  href: string
  label: MessageKey
  icon: IconName
}

export interface NavSection {
  label: MessageKey
  adminOnly: boolean
  items: NavItem[]
}

export const NAV: NavSection[] = [
  {
    label: 'nav.sectionAccount',
    adminOnly: false,
    items: [{ href: '/me', label: 'nav.profile', icon: 'user' }],
  },
  {
    label: 'nav.sectionAdmin',
    adminOnly: true,
    items: [{ href: '/admin/users', label: 'nav.users', icon: 'users' }],
  },
]

/** A section entry is current on its own page and on pages below it (/me covers /me/password). */
export function isCurrent(href: string, path: string): boolean {
  return path === href || path.startsWith(href + '/')
}
