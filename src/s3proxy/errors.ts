// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's error dialect: S3 XML (`<Error><Code/><Message/><Resource/>
 * <RequestId/></Error>`, `Content-Type: application/xml`) with S3's own codes,
 * so every S3 client understands a refusal. Handlers throw `S3Error`; the
 * pipeline renders it once.
 */
import { escapeXmlText } from '../s3/xml.ts'

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** A bounded label for metrics and audit (never client text). */
    readonly reason: string = code,
    readonly headers?: Record<string, string>,
    /** Extra elements of the document (e.g. `Key`, `BucketName` from an upstream error). */
    readonly extras?: ErrorExtras,
  ) {
    super(message)
  }
}

export const accessDenied = (message = 'Access Denied', reason = 'access-denied'): S3Error => new S3Error(403, 'AccessDenied', message, reason)
export const notImplemented = (message = 'A header or query you provided implies functionality that is not implemented.'): S3Error =>
  new S3Error(501, 'NotImplemented', message, 'not-implemented')
export const invalidArgument = (message: string): S3Error => new S3Error(400, 'InvalidArgument', message, 'bad-request')
export const slowDown = (retryAfterSeconds: number, reason: string): S3Error =>
  new S3Error(503, 'SlowDown', 'Please reduce your request rate.', reason, { 'retry-after': String(retryAfterSeconds) })
export const internalError = (message = 'We encountered an internal error. Please try again.', reason = 'internal'): S3Error =>
  new S3Error(500, 'InternalError', message, reason)
export const serviceUnavailable = (message = 'The storage backend is unavailable; please try again.', reason = 'backend-unavailable'): S3Error =>
  new S3Error(503, 'ServiceUnavailable', message, reason)
export const badGateway = (message = 'The storage backend failed to answer the request.', reason = 'upstream-error'): S3Error =>
  new S3Error(502, 'InternalError', message, reason)

/** Extra elements an error may carry (e.g. `Key`, `BucketName`), already validated by the caller. */
export type ErrorExtras = ReadonlyArray<readonly [string, string]>

export function errorXml(code: string, message: string, resource: string, requestId: string, extras: ErrorExtras = []): string {
  let extra = ''
  for (const [name, value] of extras) extra += `<${name}>${escapeXmlText(value)}</${name}>`
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${escapeXmlText(code)}</Code><Message>${escapeXmlText(message)}</Message>${extra}<Resource>${escapeXmlText(resource)}</Resource><RequestId>${escapeXmlText(requestId)}</RequestId></Error>`
  )
}
