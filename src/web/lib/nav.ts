// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Sidebar entries. Pinned buckets are not listed here: they come from the API and SideNav puts
 * them between the workspace and the account sections.
 */
import type { MessageKey } from './i18n.ts'
import type { IconName } from './icons.ts'

export interface NavItem {
  href: string
  label: MessageKey
  icon: IconName
  /** Other path prefixes this entry stands for (the buckets and object pages belong to Backends). */
  covers?: string[]
}

export interface NavSection {
  label: MessageKey
  adminOnly: boolean
  items: NavItem[]
}

export const WORKSPACE: NavSection = {
  label: 'nav.sectionWorkspace',
  adminOnly: false,
  items: [
    { href: '/backends', label: 'nav.backends', icon: 'server', covers: ['/b/'] },
    { href: '/search', label: 'nav.search', icon: 'search' },
    { href: '/shares', label: 'shares.nav', icon: 'move' },
    { href: '/credentials', label: 'credentials.nav', icon: 'key' },
  ],
}

export const AFTER_PINS: NavSection[] = [
  {
    label: 'nav.sectionAccount',
    adminOnly: false,
    items: [{ href: '/me', label: 'nav.profile', icon: 'user' }],
  },
  {
    label: 'nav.sectionAdmin',
    adminOnly: true,
    items: [
      { href: '/admin/dashboard', label: 'nav.dashboard', icon: 'chart' },
      { href: '/admin/users', label: 'nav.users', icon: 'users' },
      { href: '/admin/backends', label: 'nav.adminBackends', icon: 'database' },
      { href: '/admin/health', label: 'nav.health', icon: 'pulse' },
      { href: '/admin/audit', label: 'nav.audit', icon: 'list' },
      { href: '/admin/s3-proxy', label: 's3proxy.nav', icon: 'lock' },
    ],
  },
]

/** A section entry is current on its own page and on pages below it (/me covers /me/password). */
export function isCurrent(href: string, path: string, covers: string[] = []): boolean {
  return path === href || path.startsWith(href + '/') || covers.some((prefix) => path.startsWith(prefix))
}
