// SPDX-License-Identifier: AGPL-3.0-or-later
/** Strict UTF-8: text that is not valid UTF-8 is refused, never patched with U+FFFD into a different string. */

const strict = new TextDecoder('utf-8', { fatal: true })

/** The text, or undefined when `bytes` is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes)
  } catch {
    return undefined
  }
}
