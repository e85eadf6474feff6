// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListObjects (V1, with `marker`), ListObjectsV2 (`continuation-token`,
 * `start-after`, `fetch-owner`) and ListObjectVersions (the backend's
 * version pages). Prefix, delimiter,
 * max-keys (0 to 1000; more is 1000) and `encoding-type=url` as S3 has them.
 *
 * V2's continuation token is the driver's own opaque token (an empty one is
 * none, as on RGW). RGW's `allow-unordered=true` is served sorted, and
 * refused with a delimiter as RGW refuses it. V1 pages by key:
 * NextMarker is the last key or common prefix returned, and a marker that is
 * a common prefix skips every key rolled into it, as in S3.
 */
import type { ListOptions, ListResult, VersionPage } from '../backends/backend.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { encodingType, intParam, param, xmlReply, type OpContext } from './context.ts'
import { fromDriver, s3Failure } from './errors.ts'
import { invalidArgument } from './headers.ts'
import { notImplemented } from '../s3proxy/errors.ts'
import { doc, el, isoTime, keyWriter, owner, text, wrap, type KeyWriter } from './xml.ts'

type Page = { result: ListResult; max: number }

async function page(c: OpContext, opts: ListOptions, max: number): Promise<Page> {
  if (max === 0) return { result: { objects: [], commonPrefixes: [], isTruncated: false }, max }
  try {
    return { result: await c.backend.listObjects(c.bucket, { ...opts, maxKeys: max }), max }
  } catch (err) {
    const e = s3Failure(err)
    if (opts.token && (e as { code?: string }).code === 'InvalidArgument') throw invalidArgument('The continuation token provided is incorrect')
    throw e
  }
}

function common(c: OpContext): { prefix: string; delimiter: string; max: number; write: KeyWriter; encoded: boolean } {
  const encoded = encodingType(c) === 'url'
  const delimiter = param(c, 'delimiter') ?? ''
  // RGW's `allow-unordered`: a sorted page is one of the orders it allows, but it cannot roll keys up under a delimiter.
  if (delimiter !== '' && param(c, 'allow-unordered')?.toLowerCase() === 'true') throw invalidArgument('allow-unordered cannot be used with a delimiter.')
  return { prefix: param(c, 'prefix') ?? '', delimiter, max: intParam(c, 'max-keys', 1000, 1000), write: keyWriter(encoded ? 'url' : undefined), encoded }
}

/** A listing's entries, written out at once: a page holds up to a thousand, and this is most of its cost. */
function contents(p: Page, write: KeyWriter, withOwner: string | undefined): string {
  const out: string[] = []
  const ownerBlock = withOwner ? owner(withOwner) : ''
  for (const o of p.result.objects) {
    out.push(
      `<Contents><Key>${text(write(o.key))}</Key><LastModified>${isoTime(o.lastModified)}</LastModified><ETag>${text(o.etag ?? '')}</ETag>` +
        `<Size>${o.size}</Size>${ownerBlock}<StorageClass>${text(o.storageClass ?? 'STANDARD')}</StorageClass></Contents>`,
    )
  }
  for (const prefix of p.result.commonPrefixes) out.push(wrap('CommonPrefixes', el('Prefix', write(prefix))))
  return out.join('')
}

/** The last entry of a page in key order: what V1's NextMarker names. */
function lastEntry(result: ListResult): string | undefined {
  const keys = [...result.objects.map((o) => o.key), ...result.commonPrefixes]
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).at(-1)
}

export async function listObjects(c: OpContext): Promise<S3Reply> {
  const { prefix, delimiter, max, write, encoded } = common(c)
  const marker = param(c, 'marker') ?? ''
  const p = await page(c, { prefix, delimiter, ...(marker ? { startAfter: marker } : {}) }, max)
  let inner = el('Name', c.bucket) + el('Prefix', write(prefix)) + el('Marker', write(marker))
  const next = p.result.isTruncated ? lastEntry(p.result) : undefined
  if (next !== undefined) inner += el('NextMarker', write(next))
  inner += el('MaxKeys', max)
  if (delimiter !== '') inner += el('Delimiter', write(delimiter))
  inner += el('IsTruncated', p.result.isTruncated)
  if (encoded) inner += el('EncodingType', 'url')
  inner += contents(p, write, c.owner)
  return xmlReply(doc('ListBucketResult', inner))
}

export async function listObjectsV2(c: OpContext): Promise<S3Reply> {
  const { prefix, delimiter, max, write, encoded } = common(c)
  // An empty token is no token (RGW, MinIO); it is still echoed.
  const token = param(c, 'continuation-token')
  const startAfter = param(c, 'start-after') ?? ''
  const fetchOwner = param(c, 'fetch-owner')?.toLowerCase() === 'true'
  const p = await page(c, { prefix, delimiter, ...(token ? { token } : startAfter ? { startAfter } : {}) }, max)
  let inner = el('Name', c.bucket) + el('Prefix', write(prefix))
  if (startAfter !== '') inner += el('StartAfter', write(startAfter))
  if (token !== undefined) inner += el('ContinuationToken', token)
  inner += el('KeyCount', p.result.objects.length + p.result.commonPrefixes.length) + el('MaxKeys', max)
  if (delimiter !== '') inner += el('Delimiter', write(delimiter))
  inner += el('IsTruncated', p.result.isTruncated)
  if (p.result.isTruncated && p.result.nextToken) inner += el('NextContinuationToken', p.result.nextToken)
  if (encoded) inner += el('EncodingType', 'url')
  inner += contents(p, write, fetchOwner ? c.owner : undefined)
  return xmlReply(doc('ListBucketResult', inner))
}

/**
 * Every version in the bucket: objects and delete markers in key order,
 * newest first within a key, paged by key and version id markers.
 */
export async function listObjectVersions(c: OpContext): Promise<S3Reply> {
  const { prefix, delimiter, max, write, encoded } = common(c)
  const keyMarker = param(c, 'key-marker') ?? ''
  const versionMarker = param(c, 'version-id-marker')
  if (versionMarker !== undefined && keyMarker === '') throw invalidArgument('A version-id marker cannot be specified without a key marker.')
  if (!c.backend.listVersionPage) throw notImplemented('This storage cannot list object versions.')
  const p: VersionPage =
    max === 0
      ? { versions: [], commonPrefixes: [], isTruncated: false }
      : await fromDriver(
          c.backend.listVersionPage(c.bucket, { prefix, delimiter, keyMarker, maxKeys: max, ...(versionMarker ? { versionIdMarker: versionMarker } : {}) }),
        )
  let inner = el('Name', c.bucket) + el('Prefix', write(prefix)) + el('KeyMarker', write(keyMarker)) + el('VersionIdMarker', versionMarker ?? '')
  if (p.isTruncated && p.nextKeyMarker !== undefined) {
    inner += el('NextKeyMarker', write(p.nextKeyMarker))
    if (p.nextVersionIdMarker !== undefined) inner += el('NextVersionIdMarker', p.nextVersionIdMarker)
  }
  inner += el('MaxKeys', max)
  if (delimiter !== '') inner += el('Delimiter', write(delimiter))
  inner += el('IsTruncated', p.isTruncated)
  if (encoded) inner += el('EncodingType', 'url')
  const entries: string[] = []
  const ownerBlock = owner(c.owner)
  for (const v of p.versions) {
    const head = el('Key', write(v.key)) + el('VersionId', v.versionId) + el('IsLatest', v.isLatest) + el('LastModified', isoTime(v.lastModified))
    entries.push(
      v.isDeleteMarker
        ? wrap('DeleteMarker', head + ownerBlock)
        : wrap('Version', head + el('ETag', v.etag ?? '') + el('Size', v.size) + ownerBlock + el('StorageClass', v.storageClass ?? 'STANDARD')),
    )
  }
  for (const prefix of p.commonPrefixes) entries.push(wrap('CommonPrefixes', el('Prefix', write(prefix))))
  return xmlReply(doc('ListVersionsResult', inner + entries.join('')))
}
