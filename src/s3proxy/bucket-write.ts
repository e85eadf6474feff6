// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * DeleteObjects (POST /bucket?delete). When the bucket's usage is kept
 * (capped or size-tracked), the request document is read first (≤ 2 MiB,
 * verified like any body), the sizes of the listed keys are looked up, and
 * after the upstream answers the sizes of what it reports deleted are
 * subtracted. Otherwise the body streams straight through.
 */
import type { Backend } from '../backends/backend.ts'
import { children, parseXml, textOf } from '../backends/s3/xml.ts'
import type { Logger } from '../lib/log.ts'
import { S3Error } from './errors.ts'
import { letBodyCome, type Exchange } from './exchange.ts'
import { bodyError, forward } from './forward.ts'
import type { ProxyMetrics } from './metrics.ts'
import { preparePayload, type Payload } from './payload.ts'
import type { QuotaGate } from './quota.ts'
import { relay } from './relay.ts'
import type { VerifyOk } from './sigv4/verify.ts'
import type { Upstream } from './upstream.ts'

const MAX_DOCUMENT = 2 * 1024 * 1024

type Keyed = { key: string; versionId?: string }

async function readAll(payload: Payload): Promise<Uint8Array> {
  if (payload.length > MAX_DOCUMENT) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.', 'bad-request')
  if (payload.read) {
    try {
      return await payload.read()
    } catch (err) {
      throw err instanceof S3Error ? err : bodyError(err)
    }
  }
  const body = payload.body ?? payload.raw
  if (!body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > MAX_DOCUMENT) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.', 'bad-request')
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof S3Error) throw err
    throw bodyError(err)
  }
  return Buffer.concat(chunks)
}

function listed(doc: string, parent: string): Keyed[] {
  try {
    return children(parseXml(doc), parent).map((o) => {
      const versionId = textOf(o, 'VersionId')
      return { key: textOf(o, 'Key') ?? '', ...(versionId ? { versionId } : {}) }
    })
  } catch {
    return []
  }
}

const id = (k: Keyed): string => `${k.key}\u0000${k.versionId ?? ''}`

export async function handleBucketWrite(
  x: Exchange,
  o: { up: Upstream; backend: Backend; bucket: string; quota: QuotaGate; query: string; verified: VerifyOk },
  metrics: ProxyMetrics,
  logger: Logger,
): Promise<void> {
  const bid = x.backendId!
  const payload = preparePayload(x.req, o.verified)
  if (!o.quota.cares(bid, o.bucket)) {
    const response = await forward(x, { up: o.up, bucket: o.bucket, query: o.query, payload }, metrics, logger)
    return relay(x, response, logger)
  }
  letBodyCome(x)
  const document = await readAll(payload)
  const requested = listed(Buffer.from(document).toString('utf8'), 'Object')
  if (requested.length > 1000) throw new S3Error(400, 'MalformedXML', 'At most 1000 keys can be deleted in one request.', 'bad-request')
  const sizes = (await o.quota.removeMany(o.backend, bid, o.bucket, requested)) ?? new Map<string, number>()
  const response = await forward(x, { up: o.up, bucket: o.bucket, query: o.query, payload, buffered: document }, metrics, logger)
  if (response.status !== 200) return relay(x, response, logger)
  const text = await response.text()
  let deleted = listed(text, 'Deleted')
  // Quiet mode lists only failures: everything else was deleted.
  if (/<Quiet>\s*true\s*<\/Quiet>/i.test(Buffer.from(document).toString('utf8'))) {
    const failed = new Set(listed(text, 'Error').map(id))
    deleted = requested.filter((k) => !failed.has(id(k)))
  }
  let bytes = 0
  let objects = 0
  for (const k of deleted) {
    const size = sizes.get(id(k))
    if (size === undefined) continue
    bytes += size
    objects++
  }
  o.quota.settle(bid, o.bucket, { bytes: -bytes, objects: -objects })
  const headers = new Headers(response.headers)
  headers.set('content-length', String(Buffer.byteLength(text)))
  return relay(x, new Response(text, { status: response.status, headers }), logger)
}
