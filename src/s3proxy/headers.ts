// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Which headers cross the proxy. Requests pass by an allowlist: content and
 * caching headers, conditionals, Range, user metadata, tagging, checksums,
 * SSE (SSE-C included), storage class, object lock and the copy headers.
 * Everything else — auth, hop-by-hop, ACL grants, MFA, request-payer,
 * governance bypass, expected-owner — stays behind. ACLs are refused unless
 * they are the harmless defaults (`private`, `bucket-owner-full-control`,
 * which several clients send on every upload): a virtual credential must not
 * make objects public on the upstream.
 *
 * `response-*` overrides must be valid header values.
 *
 * Successful responses pass everything except hop-by-hop headers, the
 * upstream's own request ids and CORS headers (the proxy answers CORS
 * itself); error responses pass an allowlist (see ERROR_PASS).
 *
 * Object bodies (GetObject, HeadObject) carry a sandboxing CSP: the listener
 * shares a site with the dashboard (same host, other port), so an HTML
 * object opened from a presigned or anonymous URL must not run script.
 */
import { CONTENT_CSP, PDF_CSP } from '../http/security-headers.ts'
import { accessDenied, invalidArgument } from './errors.ts'

const PLAIN: ReadonlySet<string> = new Set([
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-md5',
  'content-type',
  'expires',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'range',
  'x-amz-checksum-algorithm',
  'x-amz-checksum-mode',
  'x-amz-checksum-type',
  'x-amz-copy-source',
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-modified-since',
  'x-amz-copy-source-if-none-match',
  'x-amz-copy-source-if-unmodified-since',
  'x-amz-copy-source-range',
  'x-amz-metadata-directive',
  'x-amz-object-lock-legal-hold',
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-sdk-checksum-algorithm',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-bucket-key-enabled',
  'x-amz-server-side-encryption-context',
  'x-amz-storage-class',
  'x-amz-tagging',
  'x-amz-tagging-directive',
  'x-amz-website-redirect-location',
])

const PREFIXES = ['x-amz-meta-', 'x-amz-checksum-', 'x-amz-server-side-encryption-customer-', 'x-amz-copy-source-server-side-encryption-customer-']

const HARMLESS_ACL: ReadonlySet<string> = new Set(['private', 'bucket-owner-full-control'])

export function forwardable(name: string): boolean {
  if (PLAIN.has(name)) return true
  for (const p of PREFIXES) if (name.startsWith(p)) return true
  return false
}

/** Refuses ACL headers that would grant more than the upstream owner already has. */
export function checkAclHeaders(get: (name: string) => string | undefined, names: Iterable<string>): void {
  const acl = get('x-amz-acl')
  if (acl !== undefined && !HARMLESS_ACL.has(acl.trim().toLowerCase())) throw accessDenied('ACLs cannot be set through a virtual credential.', 'acl')
  for (const n of names) if (n.startsWith('x-amz-grant-')) throw accessDenied('ACL grants cannot be set through a virtual credential.', 'acl')
}

/** Characters no HTTP header value may carry (RFC 9110 field-value): controls other than HTAB. */
const NOT_IN_HEADER = /[\u0000-\u0008\u000A-\u001F\u007F]/

/**
 * Refuses `response-*` overrides whose value could not be a header: the upstream writes them
 * into its answer, which the proxy's HTTP client then cannot parse (a 502 for the client's
 * own mistake).
 */
export function checkResponseOverrides(params: ReadonlyArray<{ key: string; value: string }>): void {
  for (const p of params) {
    if (p.key.startsWith('response-') && NOT_IN_HEADER.test(p.value))
      throw invalidArgument(`The value of ${p.key.slice(0, 64)} cannot be a header value (it holds a control character).`)
  }
}

const RESPONSE_DROP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'server',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-amz-id-2',
  'x-amz-request-id',
])

export function passResponseHeader(name: string): boolean {
  return !RESPONSE_DROP.has(name) && !name.startsWith('access-control-')
}

/**
 * Headers of an upstream error answer that still describe the object (a delete marker and
 * its version on a 404 or 405, the validators on a 412, the size on a 416, when to retry).
 * An allowlist, because error answers may also carry what clients must not see (a Location
 * or region pointing at the upstream), and the body they described is re-rendered.
 */
const ERROR_PASS: ReadonlySet<string> = new Set([
  'allow',
  'content-range',
  'etag',
  'last-modified',
  'retry-after',
  'x-amz-delete-marker',
  'x-amz-restore',
  'x-amz-storage-class',
  'x-amz-version-id',
])

export function passErrorHeader(name: string): boolean {
  return ERROR_PASS.has(name)
}

/** Content-Encoding without the `aws-chunked` token (the proxy decodes that framing itself). */
export function withoutAwsChunked(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const kept = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
  return kept.length > 0 ? kept.join(', ') : undefined
}

/** The Content-Security-Policy of an object body with this Content-Type (PDFs need the viewer's own). */
export function objectCsp(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/pdf' ? PDF_CSP : CONTENT_CSP
}
