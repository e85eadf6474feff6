// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bounds on the shape of a JSON text, checked in one pass over its characters
 * before it is parsed. Schema validation and its error reports walk a value
 * recursively and cost far more than linear time on deep nesting: 20 000
 * nested arrays (40 KB) kept the process busy for tens of seconds, and 5 000
 * overflowed the stack while the error was built. No document the API
 * accepts comes near these bounds (the deepest, a bucket policy, nests about
 * six levels; the largest, a multipart completion of 10 000 parts, has about
 * 30 000 elements).
 */

export const MAX_JSON_DEPTH = 32
/** Array items and object members together, at every level. */
export const MAX_JSON_ELEMENTS = 50_000

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const COMMA = 0x2c

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/**
 * Why `text` is out of bounds, or undefined. Not a JSON validator: malformed
 * text within the bounds is left for the parser to refuse.
 */
export function jsonShapeProblem(text: string): string | undefined {
  let depth = 0
  let elements = 0
  let inString = false
  let justOpened = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
      continue
    }
    if (isSpace(c)) continue
    // The first element of a container has no comma before it.
    if (justOpened && c !== CLOSE_ARRAY && c !== CLOSE_OBJECT) elements++
    justOpened = false
    if (c === QUOTE) inString = true
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH) return `The JSON nests deeper than ${MAX_JSON_DEPTH} levels.`
      justOpened = true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--
    else if (c === COMMA) elements++
    if (elements > MAX_JSON_ELEMENTS) return `The JSON has more than ${MAX_JSON_ELEMENTS} elements.`
  }
  return undefined
}
