// SPDX-License-Identifier: AGPL-3.0-or-later
/** Checks a name typed for a new folder or a rename against the server's key rules (anchor.md §4.4). */
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
