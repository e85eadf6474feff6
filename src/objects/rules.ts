// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Input rules for object tags and user metadata. Tags follow S3: at most 10,
 * keys 1–128 and values 0–256 characters of letters, digits, spaces and
 * `+ - = . _ : / @`. Metadata travels as HTTP headers (`x-amz-meta-*`), so
 * names are header tokens and values printable ASCII, 2 KiB in all.
 */
import { fail } from '../http/errors.ts'

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u
export const MAX_TAGS = 10

export function validateTags(tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags)
  if (entries.length > MAX_TAGS) throw fail('too_many_tags')
  for (const [k, v] of entries) {
    const kl = [...k].length
    if (kl < 1 || kl > 128) throw fail('invalid_tag', 'Tag keys are 1–128 characters.', [{ path: `/tags/${k}` }])
    if ([...v].length > 256) throw fail('invalid_tag', 'Tag values are at most 256 characters.', [{ path: `/tags/${k}` }])
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v))
      throw fail('invalid_tag', 'Tags may contain letters, digits, spaces and + - = . _ : / @ only.', [{ path: `/tags/${k}` }])
    if (k.toLowerCase().startsWith('aws:')) throw fail('invalid_tag', 'Tag keys starting with "aws:" are reserved.', [{ path: `/tags/${k}` }])
  }
  return tags
}

const META_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
const META_VALUE = /^[\x20-\x7e]*$/
const MAX_METADATA_BYTES = 2048

/** Validates and lower-cases metadata names (S3 stores them lower-case). */
export function validateMetadata(metadata: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  let bytes = 0
  for (const [rawName, value] of Object.entries(metadata)) {
    const name = rawName
      .trim()
      .toLowerCase()
      .replace(/^x-amz-meta-/, '')
    if (!name || !META_NAME.test(name)) throw fail('invalid_metadata', 'Metadata names are letters, digits and - _ . only.', [{ path: `/metadata/${rawName}` }])
    if (!META_VALUE.test(value))
      throw fail('invalid_metadata', 'Metadata values are printable ASCII without control characters.', [{ path: `/metadata/${rawName}` }])
    if (name in out) throw fail('invalid_metadata', 'A metadata name appears twice.', [{ path: `/metadata/${rawName}` }])
    out[name] = value.trim()
    bytes += name.length + value.length
  }
  if (bytes > MAX_METADATA_BYTES) throw fail('invalid_metadata', `User metadata is limited to ${MAX_METADATA_BYTES} bytes.`)
  return out
}
