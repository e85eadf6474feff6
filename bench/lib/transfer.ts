// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Large streamed transfers over node:http, which (unlike fetch with a stream
 * body) sends an exact Content-Length and lets us pace writes on 'drain', so
 * the generator never buffers more than a chunk. A transfer can be checked
 * end to end by MD5; the upload's is taken before the clock starts and a
 * download hashes only when asked, because on a 2-core machine the client's
 * MD5 (≈1.4 ms a MiB, one core) would otherwise cap what is measured.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'

export type TransferResult = { status: number; bytes: number; md5: string; seconds: number; body: string }

/** Sends `size` bytes (a repeated random chunk) as the body of one request. */
export function uploadStream(url: string, o: { method: string; size: number; headers: Record<string, string>; chunkBytes?: number }): Promise<TransferResult> {
  const chunk = crypto.getRandomValues(new Uint8Array(o.chunkBytes ?? 1024 * 1024))
  const hash = createHash('md5')
  for (let at = 0; at < o.size; at += chunk.length) hash.update(at + chunk.length <= o.size ? chunk : chunk.subarray(0, o.size - at))
  const md5 = hash.digest('hex')
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method, headers: { ...o.headers, 'content-length': String(o.size) } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: o.size, md5, seconds: (performance.now() - started) / 1000, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    let sent = 0
    const pump = (): void => {
      while (sent < o.size) {
        const piece = sent + chunk.length <= o.size ? chunk : chunk.subarray(0, o.size - sent)
        sent += piece.length
        if (!req.write(piece)) {
          req.once('drain', pump)
          return
        }
      }
      req.end()
    }
    pump()
  })
}

/** Reads a response body to the end without keeping it; its MD5 only with `check` (else empty). */
export function downloadStream(url: string, o: { headers: Record<string, string>; check: boolean }): Promise<TransferResult> {
  const hash = o.check ? createHash('md5') : undefined
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: o.headers }, (res) => {
      let bytes = 0
      res.on('data', (d: Buffer) => {
        bytes += d.length
        hash?.update(d)
      })
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, bytes, md5: hash?.digest('hex') ?? '', seconds: (performance.now() - started) / 1000, body: '' }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
