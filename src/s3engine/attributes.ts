// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GetObjectAttributes: the attributes `x-amz-object-attributes` names (ETag,
 * Checksum, ObjectParts, StorageClass, ObjectSize), without reading the
 * object. Parts are listed for multipart objects, paged by
 * `x-amz-part-number-marker` and `x-amz-max-parts`; the ETag is written
 * without quotes, as S3 does here.
 */
import type { S3Reply } from '../s3proxy/call.ts'
import { keyOf, versionOf, xmlReply, type OpContext } from './context.ts'
import { s3Failure } from './errors.ts'
import { invalidArgument } from './headers.ts'
import { doc, el, wrap } from './xml.ts'

const ATTRIBUTES: ReadonlySet<string> = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'])

function headerInt(value: string | null, fallback: number, max: number, name: string): number {
  if (value === null) return fallback
  if (!/^\d{1,10}$/.test(value.trim())) throw invalidArgument(`${name} must be a non-negative integer.`)
  return Math.min(Number(value.trim()), max)
}

export async function getObjectAttributes(c: OpContext): Promise<S3Reply> {
  const h = c.call.headers
  const wanted = new Set(
    (h.get('x-amz-object-attributes') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  )
  if (wanted.size === 0) throw invalidArgument('The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty')
  for (const a of wanted) if (!ATTRIBUTES.has(a)) throw invalidArgument('Invalid attribute name specified.')
  const versionId = versionOf(c)
  let info
  try {
    info = await c.backend.headObject(c.bucket, keyOf(c), versionId !== undefined ? { versionId, signal: c.call.signal } : { signal: c.call.signal })
  } catch (err) {
    throw s3Failure(err)
  }
  let inner = ''
  if (wanted.has('ETag') && info.etag) inner += el('ETag', info.etag.replace(/^"(.*)"$/, '$1'))
  if (wanted.has('Checksum') && info.checksum) {
    inner += wrap('Checksum', el(`Checksum${info.checksum.algorithm.toUpperCase()}`, info.checksum.value) + el('ChecksumType', info.checksum.type))
  }
  if (wanted.has('ObjectParts') && info.parts) {
    const marker = headerInt(h.get('x-amz-part-number-marker'), 0, 10_000, 'x-amz-part-number-marker')
    const max = headerInt(h.get('x-amz-max-parts'), 1000, 1000, 'x-amz-max-parts')
    const after = info.parts.map((p, i) => ({ ...p, number: i + 1 })).filter((p) => p.number > marker)
    const page = after.slice(0, max)
    let parts =
      el('PartsCount', info.parts.length) +
      el('PartNumberMarker', marker) +
      el('NextPartNumberMarker', page.at(-1)?.number ?? marker) +
      el('MaxParts', max) +
      el('IsTruncated', after.length > page.length)
    for (const p of page) {
      parts += wrap(
        'Part',
        el('PartNumber', p.number) +
          el('Size', p.size) +
          (p.checksum !== undefined && info.checksum ? el(`Checksum${info.checksum.algorithm.toUpperCase()}`, p.checksum) : ''),
      )
    }
    inner += wrap('ObjectParts', parts)
  }
  if (wanted.has('StorageClass')) inner += el('StorageClass', info.storageClass ?? 'STANDARD')
  if (wanted.has('ObjectSize')) inner += el('ObjectSize', info.size)
  const headers: Record<string, string> = { 'last-modified': (info.lastModified ?? new Date(0)).toUTCString() }
  if (info.versionId !== undefined) headers['x-amz-version-id'] = info.versionId
  return xmlReply(doc('GetObjectAttributesResponse', inner), headers)
}
