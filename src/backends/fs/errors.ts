// SPDX-License-Identifier: AGPL-3.0-or-later
/** Filesystem errors as BackendErrors; the errno text stays in `cause`. */
import { BackendError } from '../backend.ts'

function errnoOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoOf(err)
  return code !== undefined && codes.includes(code)
}

/** Wraps anything unexpected; BackendErrors pass through untouched. */
export function fsFailure(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err
  switch (errnoOf(err)) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new BackendError('denied', `${what}: permission denied`, { cause: err })
    case 'ENAMETOOLONG':
      return new BackendError('invalid', `${what}: path too long for this filesystem`, { cause: err })
    case 'ENOSPC':
    case 'EDQUOT':
      return new BackendError('failed', `${what}: no space left`, { cause: err })
    default:
      return new BackendError('failed', what, { cause: err })
  }
}
