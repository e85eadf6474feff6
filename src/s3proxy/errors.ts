// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The proxy's error dialect: S3 XML (`<Error><Code/><Message/><Resource/>
 * <RequestId/></Error>`, `Content-Type: application/xml`) with S3's own codes,
 * so every S3 client understands a refusal. Handlers throw `S3Error`; the
 * pipeline renders it once.
 */
import { STATUS_CODES } from 'node:http'
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
export const internalError = (message = 'We encountered an internal error. Please try again.', reason = 'internal'): S3Error => new S3Error(500, 'InternalError', message, reason)
export const serviceUnavailable = (message = 'The storage backend is unavailable; please try again.', reason = 'backend-unavailable'): S3Error =>
  new S3Error(503, 'ServiceUnavailable', message, reason)
export const badGateway = (message = 'The storage backend failed to answer the request.', reason = 'upstream-error'): S3Error => new S3Error(502, 'InternalError', message, reason)

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

/**
 * S3 codes for a bare status (an upstream error without an S3 document). Where S3 has a code
 * for what the status means, that code; a 404 is `NotFound`, the name the SDKs give a bodiless
 * 404 (it may be the bucket, the key or the upload that is missing).
 */
const STATUS_CODE_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'AccessDenied',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'RequestTimeout',
  409: 'OperationAborted',
  411: 'MissingContentLength',
  412: 'PreconditionFailed',
  413: 'EntityTooLarge',
  416: 'InvalidRange',
  429: 'SlowDown',
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
}

/** The code and message for a status that came without an error document. */
export function statusError(status: number): { code: string; message: string } {
  const code = STATUS_CODE_NAMES[status] ?? (status >= 500 ? 'InternalError' : 'InvalidRequest')
  return { code, message: STATUS_CODES[status] ?? code }
}
