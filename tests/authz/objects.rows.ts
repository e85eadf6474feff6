// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Bucket list/create/delete, object and multipart routes. What each row needs
 * (a bucket, an object, an upload in progress) is made directly on the
 * matrix app's `local` fs driver, fresh for every attempt, so destructive
 * rows never disturb the next one.
 */
import type { Backend } from '../../src/backends/backend.ts'
import { ADMIN, GRANTED, GRANTED_WRITERS, type Fixture, type Row } from './matrix.ts'

const B = '/api/backends/:bid/buckets/:bucket'
const local = (fx: Fixture): Backend => fx.t.s.registry.get('local')
const bytes = (s: string): ReadableStream<Uint8Array> => new Response(s).body!

/** A fresh bucket holding `k.txt` (text) and `dir/a.txt`. */
async function bucket(fx: Fixture): Promise<string> {
  const name = `authz-o-${fx.seq()}`
  const b = local(fx)
  await b.createBucket(name)
  await b.putObject(name, 'k.txt', bytes('hello'), { size: 5, contentType: 'text/plain' })
  await b.putObject(name, 'dir/a.txt', bytes('a'), { size: 1, contentType: 'text/plain' })
  return name
}

const at =
  (suffix: string) =>
  async (fx: Fixture): Promise<string> =>
    `/api/backends/local/buckets/${await bucket(fx)}/${suffix}`

/** The parts uploaded for each attempt's upload, for the complete row's body. */
const uploadedParts = new WeakMap<Fixture, Array<{ PartNumber: number; ETag: string }>>()

/** A bucket with an upload in progress for `mp.bin`; with `part`, one part already uploaded. */
const withUpload =
  (suffix: string, o: { part?: boolean } = {}) =>
  async (fx: Fixture): Promise<string> => {
    const name = await bucket(fx)
    const id = await local(fx).createMultipartUpload(name, 'mp.bin', {})
    if (o.part) {
      const p = await local(fx).uploadPart(name, 'mp.bin', id, 1, bytes('part'), { size: 4 })
      uploadedParts.set(fx, [{ PartNumber: 1, ETag: p.etag }])
    }
    return `/api/backends/local/buckets/${name}/${suffix}?key=mp.bin&upload_id=${encodeURIComponent(id)}`
  }

const TEXT = { 'content-type': 'text/plain', 'content-length': '4' }

export const rows: Row[] = [
  { method: 'GET', route: '/api/backends/:bid/buckets', path: '/api/backends/local/buckets', expect: GRANTED(200) },
  {
    method: 'POST',
    route: '/api/backends/:bid/buckets',
    path: '/api/backends/local/buckets',
    body: (fx: Fixture) => ({ name: `authz-new-${fx.seq()}` }),
    expect: GRANTED_WRITERS(201),
  },
  {
    method: 'DELETE',
    route: '/api/backends/:bid/buckets/:bucket',
    path: async (fx) => {
      const name = `authz-del-${fx.seq()}`
      await local(fx).createBucket(name)
      return `/api/backends/local/buckets/${name}`
    },
    expect: ADMIN(204),
  },
  { method: 'GET', route: `${B}/objects`, path: at('objects'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/object`, path: at('object?key=k.txt'), headers: { range: 'bytes=0-1' }, expect: GRANTED(206) },
  { method: 'HEAD', route: `${B}/object`, path: at('object?key=k.txt'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/object/info`, path: at('object/info?key=k.txt'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/objects/zip`, path: at('objects/zip?key=k.txt&key=dir/'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/object/tags`, path: at('object/tags?key=k.txt'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/object/versions`, path: at('object/versions?key=k.txt'), expect: GRANTED(200) },
  { method: 'GET', route: `${B}/objects/deleted`, path: at('objects/deleted?prefix=dir/'), expect: GRANTED(200) },
  { method: 'POST', route: `${B}/object`, path: at('object?key=up.txt'), raw: () => 'data', headers: TEXT, expect: GRANTED_WRITERS(201) },
  { method: 'DELETE', route: `${B}/object`, path: at('object?key=k.txt'), expect: GRANTED_WRITERS(204) },
  { method: 'POST', route: `${B}/objects/delete`, path: at('objects/delete'), body: { keys: [{ key: 'k.txt' }] }, expect: GRANTED_WRITERS(200) },
  { method: 'POST', route: `${B}/objects/delete-prefix`, path: at('objects/delete-prefix'), body: { prefix: 'dir/' }, expect: GRANTED_WRITERS(200) },
  {
    method: 'POST',
    route: `${B}/objects/copy-prefix`,
    path: at('objects/copy-prefix'),
    body: { src_prefix: 'dir/', dst_prefix: 'copy/' },
    expect: GRANTED_WRITERS(200),
  },
  { method: 'POST', route: `${B}/objects/folder`, path: at('objects/folder'), body: { key: 'new-folder' }, expect: GRANTED_WRITERS(201) },
  { method: 'POST', route: `${B}/object/copy`, path: at('object/copy'), body: { src_key: 'k.txt', dst_key: 'k-copy.txt' }, expect: GRANTED_WRITERS(200) },
  { method: 'PUT', route: `${B}/object/tags`, path: at('object/tags?key=k.txt'), body: { tags: { a: 'b' } }, expect: GRANTED_WRITERS(204) },
  { method: 'PUT', route: `${B}/object/metadata`, path: at('object/metadata?key=k.txt'), body: { metadata: { a: 'b' } }, expect: GRANTED_WRITERS(200) },
  { method: 'GET', route: `${B}/multipart`, path: at('multipart'), expect: GRANTED(200) },
  {
    method: 'POST',
    route: `${B}/multipart`,
    path: at('multipart?key=mp.bin'),
    body: { content_type: 'application/octet-stream' },
    expect: GRANTED_WRITERS(201),
  },
  { method: 'GET', route: `${B}/multipart/parts`, path: withUpload('multipart/parts'), expect: GRANTED(200) },
  {
    method: 'PUT',
    route: `${B}/multipart/parts/:part`,
    path: withUpload('multipart/parts/1'),
    raw: () => 'part',
    headers: { 'content-length': '4' },
    expect: GRANTED_WRITERS(200),
  },
  {
    method: 'POST',
    route: `${B}/multipart/complete`,
    path: withUpload('multipart/complete', { part: true }),
    body: (fx: Fixture) => ({ parts: uploadedParts.get(fx) ?? [] }),
    expect: GRANTED_WRITERS(200),
  },
  { method: 'DELETE', route: `${B}/multipart`, path: withUpload('multipart'), expect: GRANTED_WRITERS(204) },
]
