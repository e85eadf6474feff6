// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The SPA's pages. Each is its own chunk, loaded on first visit, so the login page stays small and
 * heavy pages (object browser, dashboard charts) cost nothing until opened.
 */
import type { Component } from 'svelte'
import type { MessageKey } from './lib/i18n.ts'
import { compile, match, type Params, type Pattern } from './lib/router.ts'

/** Props every page receives; pages without path parameters simply ignore them. */
export interface PageProps {
  params: Params
}

export interface RouteDef {
  pattern: string
  title: MessageKey
  /** `bare` pages render without the shell and without a session: sign-in and public share links. */
  layout: 'shell' | 'bare'
  adminOnly?: boolean
  /** Match without the optional trailing slash (see `compile`). */
  strict?: boolean
  /** Replace the location with this path instead of showing a page. */
  redirect?: string
  /**
   * Svelte types a page without props as `Component<Record<string, never>>`, which does not accept
   * `PageProps`; `any` lets one registry hold both kinds, and App passes `params` to every page.
   */
  load: () => Promise<{ default: Component<any> }>
}

const ROUTES: RouteDef[] = [
  { pattern: '/login', title: 'login.title', layout: 'bare', load: () => import('./pages/Login.svelte') },
  // Share links are opened by people without an account, so /s/* must never ask for a session.
  { pattern: '/s/:code', title: 'recipient.title', layout: 'bare', load: () => import('./pages/share/SharePage.svelte') },
  { pattern: '/', title: 'backends.title', layout: 'shell', load: () => import('./pages/Home.svelte') },
  { pattern: '/backends', title: 'backends.title', layout: 'shell', load: () => import('./pages/backends/Backends.svelte') },
  { pattern: '/b/:backend', title: 'buckets.title', layout: 'shell', load: () => import('./pages/buckets/Buckets.svelte') },
  {
    pattern: '/b/:backend/:bucket/settings',
    title: 'settings.title',
    layout: 'shell',
    adminOnly: true,
    strict: true,
    load: () => import('./pages/settings/BucketSettings.svelte'),
  },
  { pattern: '/b/:backend/:bucket/*prefix', title: 'browser.title', layout: 'shell', load: () => import('./pages/browser/ObjectBrowser.svelte') },
  { pattern: '/search', title: 'search.title', layout: 'shell', load: () => import('./pages/Search.svelte') },
  { pattern: '/shares', title: 'shares.title', layout: 'shell', load: () => import('./pages/shares/Shares.svelte') },
  { pattern: '/credentials', title: 'credentials.title', layout: 'shell', load: () => import('./pages/credentials/Credentials.svelte') },
  { pattern: '/me', title: 'profile.title', layout: 'shell', load: () => import('./pages/Profile.svelte') },
  { pattern: '/me/password', title: 'password.title', layout: 'shell', load: () => import('./pages/ChangePassword.svelte') },
  { pattern: '/admin/dashboard', title: 'dashboard.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/dashboard/Dashboard.svelte') },
  { pattern: '/admin/users', title: 'users.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/users/Users.svelte') },
  {
    pattern: '/admin/backends',
    title: 'adminBackends.title',
    layout: 'shell',
    adminOnly: true,
    load: () => import('./pages/admin/backends/AdminBackends.svelte'),
  },
  { pattern: '/admin/health', title: 'health.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/Health.svelte') },
  { pattern: '/admin/audit', title: 'audit.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/audit/Audit.svelte') },
  { pattern: '/admin/s3-proxy', title: 's3proxy.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/s3-proxy/S3Proxy.svelte') },
]

const NOT_FOUND: RouteDef = { pattern: '*', title: 'notFound.title', layout: 'shell', load: () => import('./pages/NotFound.svelte') }

const compiled: { route: RouteDef; pattern: Pattern }[] = ROUTES.map((route) => ({ route, pattern: compile(route.pattern, { strict: route.strict }) }))

export function resolveRoute(path: string): { route: RouteDef; params: Params } {
  for (const { route, pattern } of compiled) {
    const params = match(pattern, path)
    if (params) return { route, params }
  }
  return { route: NOT_FOUND, params: {} }
}
