// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Reading an S3 error answer: the `<Error>` document when there is one, else
 * the S3 code a bare status stands for. The driver turns the result into a
 * BackendError kind, the forwarder into the client's S3 error; neither shows
 * the upstream's request id or message to a dashboard user.
 */
import { STATUS_CODES } from 'node:http'
import type { Answer } from './transport.ts'
import { parseXml, textOf, type XmlElement } from './xml.ts'

/**
 * S3 codes for a bare status (an error without an S3 document: every HEAD, and proxies in
 * front of S3). Where S3 has a code for what the status means, that code; a 404 is
 * `NotFound`, the name the SDKs give a bodiless 404 (the bucket, the key or the upload may be
 * missing).
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

export type ErrorDocument = {
  status: number
  code: string
  message: string
  /** The upstream's request id, from the document or the `x-amz-request-id` header. */
  requestId?: string
  /** The `<Error>` element, for fields such as `Key` or `BucketName`; absent without a document. */
  element?: XmlElement
}

/** Error documents are small; anything larger is not one. */
const ERROR_BODY_LIMIT = 64 * 1024

/** Parses an error answer's body (which may be empty, or not S3 XML at all). */
export function errorDocument(status: number, body: string, headerRequestId?: string): ErrorDocument {
  const bare = statusError(status)
  if (body !== '') {
    try {
      const doc = parseXml(body)
      if (doc.name === 'Error' && textOf(doc, 'Code')) {
        const code = textOf(doc, 'Code')!
        const requestId = textOf(doc, 'RequestId') ?? headerRequestId
        return { status, code, message: textOf(doc, 'Message') || code, ...(requestId ? { requestId } : {}), element: doc }
      }
    } catch {
      // Not an S3 error document (a proxy in front of the backend, say): the status alone tells.
    }
  }
  return { status, code: bare.code, message: bare.message, ...(headerRequestId ? { requestId: headerRequestId } : {}) }
}

/** Reads an error answer (its body bounded) into an ErrorDocument; the connection goes back to the pool when it can. */
export async function readErrorDocument(answer: Answer): Promise<ErrorDocument> {
  const body = await answer.text(ERROR_BODY_LIMIT).catch(() => '')
  return errorDocument(answer.status, body, answer.headers['x-amz-request-id'])
}
