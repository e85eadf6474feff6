// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The password rules, stated next to every new-password field before the first try. The minimum
 * length is the server's setting (GET /api/auth/config), read once per page load.
 */
import { api } from './api.ts'
import { t } from './i18n.ts'
import type { AuthConfig } from './types.ts'

let minLength = $state<number | null>(null)
let loading: Promise<void> | null = null

/** The rules in one sentence; until the minimum is known it is left out rather than guessed. */
export function passwordRules(): string {
  loading ??= api.get<AuthConfig>('/api/auth/config').then(
    (config) => void (minLength = config.password_min_length),
    () => undefined,
  )
  return minLength === null ? t('password.hint') : t('password.rules', { min: minLength })
}
