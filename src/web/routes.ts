// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The SPA's pages. Each is its own chunk, loaded on first visit, so the login page stays small and
 * later heavy pages (object browser, dashboard charts) cost nothing until opened.
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
  /**
   * Svelte types a page without props as `Component<Record<string, never>>`, which does not accept
   * `PageProps`; `any` lets one registry hold both kinds, and App passes `params` to every page.
   */
  load: () => Promise<{ default: Component<any> }>
}

const ROUTES: RouteDef[] = [
  { pattern: '/login', title: 'login.title', layout: 'bare', load: () => import('./pages/Login.svelte') },
  // Share links are opened by people without an account, so /s/* must never ask for a session;
  // the recipient page replaces NotFound here.
  { pattern: '/s/:code', title: 'notFound.title', layout: 'bare', load: () => import('./pages/NotFound.svelte') },
  { pattern: '/', title: 'home.title', layout: 'shell', load: () => import('./pages/Home.svelte') },
  { pattern: '/me', title: 'profile.title', layout: 'shell', load: () => import('./pages/Profile.svelte') },
  { pattern: '/me/password', title: 'password.title', layout: 'shell', load: () => import('./pages/ChangePassword.svelte') },
  { pattern: '/admin/users', title: 'users.title', layout: 'shell', adminOnly: true, load: () => import('./pages/admin/users/Users.svelte') },
]

const NOT_FOUND: RouteDef = { pattern: '*', title: 'notFound.title', layout: 'shell', load: () => import('./pages/NotFound.svelte') }

const compiled: { route: RouteDef; pattern: Pattern }[] = ROUTES.map((route) => ({ route, pattern: compile(route.pattern) }))

export function resolveRoute(path: string): { route: RouteDef; params: Params } {
  for (const { route, pattern } of compiled) {
    const params = match(pattern, path)
    if (params) return { route, params }
  }
  return { route: NOT_FOUND, params: {} }
}
