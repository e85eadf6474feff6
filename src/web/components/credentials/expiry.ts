// SPDX-License-Identifier: AGPL-3.0-or-later
/** Expiry choices of the credential form, turned into what the API takes. */
import { formatDateTime } from '../../lib/format.ts'
import { t } from '../../lib/i18n.ts'

export type ExpiryPreset = 'keep' | 'never' | 'day' | 'week' | 'month' | 'quarter' | 'year' | 'custom'

const DAY_MS = 86_400_000

export const PRESET_DAYS = { day: 1, week: 7, month: 30, quarter: 90, year: 365 } as const

export const PRESETS: readonly ExpiryPreset[] = ['never', 'day', 'week', 'month', 'quarter', 'year', 'custom']

/**
 * The chosen expiry: `undefined` leaves it as it is, `null` means none, else an RFC 3339 time.
 * Relative presets count from the moment of saving, not from when they were picked.
 */
export function expiryValue(preset: ExpiryPreset, custom: string, now = Date.now()): string | null | undefined {
  if (preset === 'keep') return undefined
  if (preset === 'never') return null
  if (preset === 'custom') return custom ? new Date(custom).toISOString() : undefined
  return new Date(now + PRESET_DAYS[preset] * DAY_MS).toISOString()
}

/** The presets with their labels; when editing a credential that expires (`current`), "keep" comes first. */
export function expiryOptions(current: string | undefined): { value: ExpiryPreset; label: string }[] {
  const presets: readonly ExpiryPreset[] = current ? ['keep', ...PRESETS] : PRESETS
  return presets.map((value) => ({
    value,
    label: value === 'keep' ? t('credentialForm.preset.keep', { time: formatDateTime(current) }) : t(`credentialForm.preset.${value}`),
  }))
}
