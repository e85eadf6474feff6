// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The one place where a driver's `BackendError.kind` becomes a dashboard error
 * code. Driver messages are already safe, but upstream detail lives only in
 * `cause`, which is logged by `storage()` for server-side failures and never
 * sent to a client.
 */
import { BackendError, type BackendErrorKind } from '../backends/backend.ts'
import { AppError, fail, type ErrorCode } from '../http/errors.ts'
import type { Logger } from '../lib/log.ts'

export type StorageErrorOptions = {
  /** What a failed precondition means here: an If-None-Match: * write, or a conditional read. */
  precondition?: 'object_exists' | 'precondition_failed'
  /** Code for input the backend refused (default `bad_request`). */
  invalid?: ErrorCode
  /** Message for a missing object/upload/version (default "Not found."). */
  notFound?: string
  /**
   * Asked when the call fails: true when the client caused it (went away mid-body, sent a body of
   * the wrong length), so the failure is not logged as the backend's.
   */
  clientFault?: () => boolean
}

const BY_KIND: Record<BackendErrorKind, ErrorCode> = {
  not_found: 'not_found',
  bucket_not_found: 'not_found',
  exists: 'bucket_exists',
  not_empty: 'bucket_not_empty',
  precondition: 'precondition_failed',
  bad_range: 'bad_range',
  bad_digest: 'bad_request',
  invalid: 'bad_request',
  not_supported: 'not_supported',
  unavailable: 'backend_unavailable',
  denied: 'backend_error',
  failed: 'backend_error',
}

/** Maps anything a driver threw to an AppError; AppErrors pass through unchanged. */
export function storageError(err: unknown, opts: StorageErrorOptions = {}): AppError {
  if (err instanceof AppError) return err
  if (!(err instanceof BackendError)) return fail('backend_error')
  switch (err.kind) {
    case 'bucket_not_found':
      return fail('not_found', 'No such bucket.')
    case 'not_found':
      return fail('not_found', opts.notFound ?? 'Not found.')
    case 'precondition':
      return fail(opts.precondition ?? 'precondition_failed')
    case 'invalid':
      return fail(opts.invalid ?? 'bad_request', err.message)
    case 'denied':
    case 'failed':
    case 'unavailable':
      return fail(BY_KIND[err.kind])
    default:
      return fail(BY_KIND[err.kind], err.message)
  }
}

/** True for failures that are ours or the upstream's rather than the caller's: worth a log line. */
export function isServerSide(err: AppError): boolean {
  return err.status >= 500
}

/**
 * Awaits a driver call and rethrows its failure as an AppError, logging the
 * upstream cause of 5xx-class failures (the client sees only the safe code).
 */
export async function storage<T>(run: Promise<T> | (() => Promise<T>), logger: Logger, opts: StorageErrorOptions = {}): Promise<T> {
  try {
    return await (typeof run === 'function' ? run() : run)
  } catch (err) {
    const mapped = storageError(err, opts)
    if (isServerSide(mapped) && !(err instanceof AppError) && !opts.clientFault?.()) logStorageFailure(logger, err)
    throw mapped
  }
}

export function logStorageFailure(logger: Logger, err: unknown): void {
  const cause = (err as { cause?: unknown }).cause
  logger.warn('storage backend failure', {
    kind: err instanceof BackendError ? err.kind : 'unexpected',
    error: (err as Error)?.message,
    ...(cause ? { cause: (cause as Error)?.message ?? String(cause) } : {}),
  })
}
