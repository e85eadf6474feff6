// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A small history-API router. The server answers every unknown GET with index.html, so deep links
 * such as /admin/users or /b/local/photos/2024/ reach the SPA and are matched here.
 */
import { writable, type Readable } from 'svelte/store'

export type Params = Record<string, string>

export interface Location {
  path: string
  query: URLSearchParams
}

function read(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) }
}

const store = writable<Location>(read())

/** The current path and query; components read it as `$currentLocation`. */
export const currentLocation: Readable<Location> = { subscribe: store.subscribe }

/** Paths the server answers itself; a click on a link to one of them must load the page for real. */
const SERVER_PATH = /^\/(?:api|auth|openapi|healthz|readyz|metrics)(?:\/|$)|^\/s\/[^/]+\/./

function isServerPath(path: string): boolean {
  return SERVER_PATH.test(path)
}

/** Goes to a same-origin URL without reloading; anything else becomes a normal page load. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.href)
  if (url.origin !== window.location.origin || isServerPath(url.pathname)) {
    window.location.assign(url)
    return
  }
  if (options.replace) window.history.replaceState(null, '', url)
  else window.history.pushState(null, '', url)
  store.set(read())
  if (!url.hash) window.scrollTo(0, 0)
}

/** The path, query and hash of the page being shown: the value for a `?next=` parameter. */
export function here(): string {
  return window.location.pathname + window.location.search + window.location.hash
}

function onClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const anchor = (event.target as Element | null)?.closest?.('a')
  if (!anchor || !anchor.href || anchor.hasAttribute('download')) return
  if (anchor.target && anchor.target !== '_self') return
  const url = new URL(anchor.href)
  if (url.origin !== window.location.origin || isServerPath(url.pathname)) return
  // In-page anchors (the skip link) keep the browser's own scroll-and-focus behaviour.
  if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return
  event.preventDefault()
  navigate(url.pathname + url.search + url.hash)
}

/** Starts listening to back/forward and to clicks on links; returns the function that stops it. */
export function startRouter(): () => void {
  const onPop = (): void => store.set(read())
  window.addEventListener('popstate', onPop)
  document.addEventListener('click', onClick)
  return () => {
    window.removeEventListener('popstate', onPop)
    document.removeEventListener('click', onClick)
  }
}

export interface Pattern {
  regex: RegExp
  keys: string[]
}

/**
 * Compiles `/b/:backend/:bucket/*prefix` style patterns: `:name` takes one segment, a final `*name`
 * takes the rest of the path (possibly empty, slashes kept). Without a `*`, a trailing slash is
 * optional unless `strict` is set (so `/b/x/y/settings` and the folder `/b/x/y/settings/` differ).
 */
export function compile(pattern: string, options: { strict?: boolean } = {}): Pattern {
  const keys: string[] = []
  let source = ''
  for (const segment of pattern.split('/').filter(Boolean)) {
    if (segment.startsWith('*')) {
      keys.push(segment.slice(1))
      source += '(?:/(.*))?'
    } else if (segment.startsWith(':')) {
      keys.push(segment.slice(1))
      source += '/([^/]+)'
    } else {
      source += '/' + segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  const wildcard = pattern.includes('/*')
  return { regex: new RegExp(`^${source || '/'}${wildcard || !source || options.strict ? '' : '/?'}$`), keys }
}

export function match(pattern: Pattern, path: string): Params | null {
  const found = pattern.regex.exec(path)
  if (!found) return null
  const params: Params = {}
  pattern.keys.forEach((key, i) => {
    const raw = found[i + 1] ?? ''
    try {
      params[key] = decodeURIComponent(raw)
    } catch {
      params[key] = raw
    }
  })
  return params
}
