// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Do-nothing relays in front of an S3 upstream, run as their own process by
 * bench/floor.ts so /proc figures are theirs alone. They show what Bun's own
 * machinery costs before Stowage does anything:
 *
 * - `bytes`: the tests' `tcpRelay` (node:net in and out, every inbound
 *   connection paired with one upstream connection, bytes copied both ways
 *   untouched; the client signs for the upstream's host);
 * - `stack`: the S3 listener's parts with none of its work: a node:http
 *   server, each request re-signed and sent by Stowage's own S3 client
 *   (src/s3/client.ts) with its body streamed through, the answer's head
 *   copied and its body piped back.
 *
 * Usage: bun bench/lib/relays.ts bytes|stack (upstream: the RGW of
 * `scripts/start-rgw.sh`, or S3_ENDPOINT and its keys; see s3Env); listens on a free loopback port
 * and prints `listening PORT` when ready.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createS3Client } from '../../src/s3/client.ts'
import { s3Env, tcpRelay } from '../../tests/helpers/s3.ts'

const kind = process.argv[2]
const env = s3Env()
const upstream = new URL(env.endpoint)
const PASSED = ['content-length', 'content-type', 'etag', 'last-modified', 'x-amz-request-id']

async function stackRelay(): Promise<string> {
  const client = createS3Client(
    {
      endpoint: upstream.origin,
      region: env.region,
      accessKey: env.accessKey,
      secretKey: env.secretKey,
      pathStyle: true,
    },
    { idleMs: 30_000 },
  )
  const server = http.createServer({ keepAlive: true }, async (req, res) => {
    const [bucket, ...key] = req.url!.slice(1).split('?')[0]!.split('/')
    try {
      const headers = new Headers()
      const length = req.headers['content-length']
      if (length !== undefined) headers.set('content-length', length)
      const answer = await client.send({
        method: req.method!,
        bucket: decodeURIComponent(bucket!),
        key: decodeURIComponent(key.join('/')),
        headers,
        ...(length !== undefined ? { body: req } : {}),
      })
      const passed: Record<string, string> = {}
      for (const name of PASSED) if (answer.headers[name] !== undefined) passed[name] = answer.headers[name]!
      res.writeHead(answer.status, passed)
      if (req.method === 'HEAD') await answer.discard()
      else await answer.pipe(res)
      res.end()
    } catch {
      res.destroy()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

if (kind !== 'bytes' && kind !== 'stack') throw new Error(`usage: bun bench/lib/relays.ts bytes|stack (got ${kind})`)
const endpoint = kind === 'bytes' ? (await tcpRelay(upstream.origin)).endpoint : await stackRelay()
console.log(`listening ${new URL(endpoint).port}`)
