// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Rendering the engine's XML answers. Every document is S3's: the 2006-03-01
 * namespace on the root, elements in the order AWS sends them, text escaped.
 *
 * Keys may hold characters XML 1.0 cannot carry as text (most control
 * characters); they are written as numeric character references, as S3 does,
 * and clients that care ask for `encoding-type=url` instead. CR is written as
 * a reference too, since parsers turn a literal one into LF.
 */
import { uriEncode } from '../s3/canonical.ts'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

const NAMED: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }

const SPECIAL = /[<>&"'\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]/

/** Escapes text for an element's content. */
export function text(value: string): string {
  // Most text needs nothing; the test is far cheaper than a replace that finds nothing.
  if (!SPECIAL.test(value)) return value
  return value.replace(/[<>&"'\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]/g, (c) => NAMED[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`)
}

/** `<name>escaped</name>`; numbers and booleans as written. */
export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${typeof value === 'string' ? text(value) : String(value)}</${name}>`
}

/** An element whose content is already markup. */
export function wrap(name: string, inner: string): string {
  return `<${name}>${inner}</${name}>`
}

/**
 * A whole document: declaration, then the root element in S3's namespace.
 * Large ones (listings) should come as one joined string rather than built
 * up with `+=`: encoding a string of thousands of pieces costs more than
 * making it.
 */
export function doc(root: string, inner: string): Uint8Array {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${inner}</${root}>`, 'utf8')
}

/** ISO 8601 with milliseconds, as S3 writes times in XML. */
export function isoTime(date: Date | undefined): string {
  return (date ?? new Date(0)).toISOString()
}

/** S3's owner block; the engine's owner is the access key the request was signed with. */
export function owner(id: string, name = 'Owner'): string {
  return wrap(name, el('ID', id) + el('DisplayName', id))
}

/** How keys, prefixes and markers are written: as they are, or URL-encoded for `encoding-type=url`. */
export type KeyWriter = (key: string) => string

export function keyWriter(encodingType: string | undefined): KeyWriter {
  return encodingType === 'url' ? (k) => uriEncode(k, { encodeSlash: false }) : (k) => k
}
