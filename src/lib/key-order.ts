// SPDX-License-Identifier: AGPL-3.0-or-later
/** S3's key order: the UTF-8 bytes of the keys, compared without encoding them. */

/** UTF-16 units reordered so that comparing them gives code point order, i.e. UTF-8 byte order. */
function unitRank(unit: number): number {
  if (unit < 0xd800) return unit
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000
}

/** Orders keys by their UTF-8 bytes, as S3 lists them, without encoding them. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return unitRank(x) - unitRank(y)
  }
  return a.length - b.length
}
