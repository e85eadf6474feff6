// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * ListBuckets answered by the proxy from the credential's scope, without an
 * upstream call: a virtual credential sees exactly the buckets it may use
 * (the upstream would list every bucket of the backend's account).
 * CreationDate is the credential's creation time; S3 clients only display it.
 */
import { escapeXml } from '../backends/s3/xml.ts'

function s3Time(ms: number): string {
  return new Date(ms).toISOString()
}

export function listBucketsXml(buckets: readonly { bucket: string }[], createdAt: number, owner: string): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
  out += `<Owner><ID>${escapeXml(owner)}</ID><DisplayName>${escapeXml(owner)}</DisplayName></Owner><Buckets>`
  const date = s3Time(createdAt)
  for (const b of [...buckets].sort((x, y) => (x.bucket < y.bucket ? -1 : 1))) out += `<Bucket><Name>${escapeXml(b.bucket)}</Name><CreationDate>${date}</CreationDate></Bucket>`
  return out + '</Buckets></ListAllMyBucketsResult>'
}
