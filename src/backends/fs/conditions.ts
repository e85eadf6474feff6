// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A write's conditions (If-Match, If-None-Match) against the object the key
 * holds now. Checked once before a body is streamed, to spare a doomed
 * upload, and again under the bucket's commit lock, where the answer holds
 * until the rename: two conditional writers cannot both win.
 */
import { BackendError } from '../backend.ts'
import { etagListMatches } from '../conditions.ts'
import type { FsContext } from './context.ts'
import { adopt, describes, readSidecar } from './sidecar.ts'
import { locate } from './tree.ts'

export type WriteConditions = { ifMatch?: string; ifNoneMatch?: string }

export async function checkWriteConditions(ctx: FsContext, bucket: string, key: string, c: WriteConditions): Promise<void> {
  if (c.ifMatch === undefined && c.ifNoneMatch === undefined) return
  const found = await locate(ctx, bucket, key)
  if (!found) {
    if (c.ifMatch !== undefined) throw new BackendError('not_found', 'no such key', { code: 'NoSuchKey' })
    return
  }
  const sc = await readSidecar(ctx, bucket, key)
  const etag = describes(sc, found.st) ? sc.etag : adopt(bucket, key, found.st).etag
  if (c.ifMatch !== undefined && !etagListMatches(c.ifMatch, etag)) throw new BackendError('precondition', 'the object’s ETag does not match')
  if (c.ifNoneMatch !== undefined && etagListMatches(c.ifNoneMatch, etag)) throw new BackendError('precondition', 'the object exists')
}
