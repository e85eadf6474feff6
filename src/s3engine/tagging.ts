// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * GetObjectTagging, PutObjectTagging (S3's tag rules) and DeleteObjectTagging.
 * A tag set comes back sorted by key in byte order, as RGW answers, whatever
 * order it was sent in.
 */
import { child, children, textOf, type XmlElement } from '../s3/xml.ts'
import { compareKeys } from '../lib/key-order.ts'
import type { S3Reply } from '../s3proxy/call.ts'
import { parseDocument, readDocument } from './body.ts'
import { emptyReply, keyOf, versionOf, xmlReply, type OpContext } from './context.ts'
import { fromDriver, malformedXml } from './errors.ts'
import { checkTagSet, md5Of } from './headers.ts'
import { doc, el, wrap } from './xml.ts'

const TAGGING_DOCUMENT_LIMIT = 64 * 1024

function versionOption(c: OpContext): { versionId?: string } {
  const versionId = versionOf(c)
  return versionId !== undefined ? { versionId } : {}
}

/** A Tagging document, its tags sorted by key. */
export function taggingDocument(tags: Array<[string, string]>): Uint8Array {
  const set = tags
    .toSorted(([a], [b]) => compareKeys(a, b))
    .map(([k, v]) => wrap('Tag', el('Key', k) + el('Value', v)))
    .join('')
  return doc('Tagging', wrap('TagSet', set))
}

export async function getObjectTagging(c: OpContext): Promise<S3Reply> {
  const tags = await fromDriver(c.backend.getObjectTags(c.bucket, keyOf(c), versionOption(c)))
  return xmlReply(taggingDocument(Object.entries(tags)))
}

/** A `<Tag>` of a request document: its key (required) and value. */
export function tagOf(t: XmlElement): [string, string] {
  const key = textOf(t, 'Key')
  if (key === undefined) throw malformedXml()
  return [key, textOf(t, 'Value') ?? '']
}

/** A Tagging document, its tag set checked as S3 checks an object's or a bucket's (checkTagSet). */
export function parseTagging(bytes: Uint8Array, of: 'object' | 'bucket' = 'object'): Record<string, string> {
  const set = child(parseDocument(bytes, 'Tagging'), 'TagSet')
  if (!set) throw malformedXml()
  return checkTagSet(children(set, 'Tag').map(tagOf), of)
}

export async function putObjectTagging(c: OpContext): Promise<S3Reply> {
  const tags = parseTagging(await readDocument(c.call.body, TAGGING_DOCUMENT_LIMIT, md5Of(c.call.headers)))
  await fromDriver(c.backend.putObjectTags(c.bucket, keyOf(c), tags, versionOption(c)))
  return emptyReply(200)
}

export async function deleteObjectTagging(c: OpContext): Promise<S3Reply> {
  await fromDriver(c.backend.putObjectTags(c.bucket, keyOf(c), {}, versionOption(c)))
  return emptyReply(204)
}
