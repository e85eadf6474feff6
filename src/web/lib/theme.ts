// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Light, dark or follow the system (users asked for the automatic mode: peers.md §3.8). "system"
 * removes the override so the stylesheet's `color-scheme: light dark` lets the OS decide.
 */

export const THEMES = ['system', 'light', 'dark'] as const
export type Theme = (typeof THEMES)[number]

const KEY = 'stowage.theme'

export function readTheme(): Theme {
  try {
    const saved = localStorage.getItem(KEY)
    return THEMES.find((theme) => theme === saved) ?? 'system'
  } catch {
    // Storage can be blocked (privacy settings); the system theme is the right fallback.
    return 'system'
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') document.documentElement.removeAttribute('data-theme')
  else document.documentElement.dataset.theme = theme
}

export function saveTheme(theme: Theme): void {
  applyTheme(theme)
  try {
    if (theme === 'system') localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, theme)
  } catch {
    // Not persisted, but still applied for this page.
  }
}
