// SPDX-License-Identifier: AGPL-3.0-or-later
/** Names typed by the user: a new folder or a rename against the server's key rules (anchor.md §4.4), a folder to jump to. */
import type { MessageKey } from '../../lib/i18n.ts'

const FORBIDDEN = /[\u0000-\u0008\u000a-\u001f\u007f\u202a-\u202e\u2066-\u2069]/

export function namePartProblem(name: string, options: { allowSlash?: boolean } = {}): MessageKey | null {
  if (name === '') return 'browser.names.empty'
  if (!options.allowSlash && name.includes('/')) return 'browser.names.slash'
  if (FORBIDDEN.test(name)) return 'browser.names.control'
  if (name.split('/').some((part) => part === '..' || part === '.')) return 'browser.names.dots'
  if (new TextEncoder().encode(name).length > 1000) return 'browser.names.long'
  return null
}

/**
 * The folder a filter text with a slash leads to: relative to `folder`, or from the bucket root
 * with a leading "/" ("a/b/x" → "<folder>a/b/"). Null when the text has no slash.
 */
export function jumpTarget(text: string, folder: string): string | null {
  const trimmed = text.trim()
  const cut = trimmed.lastIndexOf('/')
  if (cut < 0) return null
  return trimmed.startsWith('/') ? trimmed.slice(1, cut + 1) : folder + trimmed.slice(0, cut + 1)
}
