// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * How user-controlled bytes are presented from our origin (anchor.md §6.3,
 * the original's stored-XSS hole). A browser may show an object inline only
 * when its declared type is inert — a raster image, video, audio, PDF or plain
 * text — AND its first bytes agree with that type. Everything else (HTML,
 * SVG, XML, scripts, unknown types, a PNG whose bytes are HTML) is forced to
 * `attachment`. Every response also carries a sandboxing CSP and nosniff, so
 * even a mislabelled file cannot run script in the dashboard's origin.
 */
import { CONTENT_CSP, PDF_CSP } from '../http/security-headers.ts'

/** Bytes of the object's start needed to check its type. */
export const SNIFF_BYTES = 1024

export type Family = 'image' | 'video' | 'audio' | 'pdf' | 'text'

export type Presentation = { disposition: 'inline' | 'attachment'; contentType: string; csp: string }

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/

/** The declared type, lower-cased without parameters; application/octet-stream when absent or malformed. */
export function baseType(contentType: string | undefined): string {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  return TOKEN.test(base) ? base : 'application/octet-stream'
}

/** The family a declared type could be shown inline as, or null when it never may be. */
export function inlineFamily(contentType: string | undefined): Family | null {
  const type = baseType(contentType)
  if (type === 'application/pdf') return 'pdf'
  if (type === 'text/plain') return 'text'
  const [major, minor] = type.split('/') as [string, string]
  if (major === 'image') return minor.includes('svg') || minor.includes('xml') ? null : 'image'
  if (major === 'video') return 'video'
  if (major === 'audio') return 'audio'
  return null
}

const ascii = (b: Uint8Array, at: number, s: string): boolean => {
  if (b.length < at + s.length) return false
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false
  return true
}
const bytes = (b: Uint8Array, at: number, xs: number[]): boolean => xs.every((x, i) => b[at + i] === x)

const isPng = (b: Uint8Array): boolean => bytes(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const isJpeg = (b: Uint8Array): boolean => bytes(b, 0, [0xff, 0xd8, 0xff])
const isGif = (b: Uint8Array): boolean => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')
const isRiff = (b: Uint8Array, form: string): boolean => ascii(b, 0, 'RIFF') && ascii(b, 8, form)
const isFtyp = (b: Uint8Array): boolean => ascii(b, 4, 'ftyp')
const isEbml = (b: Uint8Array): boolean => bytes(b, 0, [0x1a, 0x45, 0xdf, 0xa3])
const isOgg = (b: Uint8Array): boolean => ascii(b, 0, 'OggS')
const isMpegAudio = (b: Uint8Array): boolean => ascii(b, 0, 'ID3') || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)

function looksLike(family: Family, b: Uint8Array): boolean {
  switch (family) {
    case 'image':
      return (
        isPng(b) ||
        isJpeg(b) ||
        isGif(b) ||
        isRiff(b, 'WEBP') ||
        ascii(b, 0, 'BM') ||
        bytes(b, 0, [0, 0, 1, 0]) ||
        bytes(b, 0, [0, 0, 2, 0]) ||
        ascii(b, 0, 'II*\0') ||
        ascii(b, 0, 'MM\0*') ||
        (isFtyp(b) && /^(avi[fs]|hei[cxms]|mif1|msf1)$/.test(new TextDecoder().decode(b.subarray(8, 12))))
      )
    case 'video':
      return (
        isFtyp(b) ||
        isEbml(b) ||
        isOgg(b) ||
        isRiff(b, 'AVI ') ||
        bytes(b, 0, [0, 0, 1, 0xba]) ||
        bytes(b, 0, [0, 0, 1, 0xb3]) ||
        (b[0] === 0x47 && (b.length < 189 || b[188] === 0x47))
      )
    case 'audio':
      return (
        isMpegAudio(b) ||
        isRiff(b, 'WAVE') ||
        isOgg(b) ||
        ascii(b, 0, 'fLaC') ||
        isFtyp(b) ||
        isEbml(b) ||
        (ascii(b, 0, 'FORM') && ascii(b, 8, 'AIF')) ||
        ascii(b, 0, '#!AMR')
      )
    case 'pdf':
      return new TextDecoder('latin1').decode(b.subarray(0, SNIFF_BYTES)).includes('%PDF-')
    case 'text': {
      // Markup in a .txt is still inert as text/plain + nosniff, but a browser
      // that ever sniffed it would see HTML: refuse to present it inline.
      let i = bytes(b, 0, [0xef, 0xbb, 0xbf]) ? 3 : 0
      while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x0c)) i++
      return b[i] !== 0x3c
    }
  }
}

/**
 * How to serve an object. `head` is the start of the object (up to
 * SNIFF_BYTES), needed only when inline was requested for an inert type.
 */
export function present(requested: 'inline' | 'attachment', declared: string | undefined, head: Uint8Array | null): Presentation {
  const type = baseType(declared)
  const family = inlineFamily(declared)
  const inline = requested === 'inline' && family !== null && head !== null && looksLike(family, head)
  if (!inline) return { disposition: 'attachment', contentType: type, csp: CONTENT_CSP }
  if (family === 'text') return { disposition: 'inline', contentType: 'text/plain; charset=utf-8', csp: CONTENT_CSP }
  return { disposition: 'inline', contentType: type, csp: family === 'pdf' ? PDF_CSP : CONTENT_CSP }
}

/** True when `present` would need the object's first bytes to decide. */
export function needsSniff(requested: 'inline' | 'attachment', declared: string | undefined): boolean {
  return requested === 'inline' && inlineFamily(declared) !== null
}

// Quotes, backslashes, separators, controls and bidi overrides never reach the header.
const UNSAFE_NAME = /[\u0000-\u001f\u007f"\\/;\u202a-\u202e\u2066-\u2069]/g

/** `Content-Disposition` naming the key's last segment; RFC 6266 `filename*` carries non-ASCII names. */
export function contentDisposition(disposition: 'inline' | 'attachment', key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  let name = trimmed
    .slice(trimmed.lastIndexOf('/') + 1)
    .replace(UNSAFE_NAME, '_')
    .trim()
  if (name === '' || name === '.' || name === '..') name = 'download'
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/%/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return fallback === name ? `${disposition}; filename="${name}"` : `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
