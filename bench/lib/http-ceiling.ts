// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What any HTTP server on this machine can do with one large object, as the
 * yardstick next to the raw disk: a bare `Bun.serve` that sends a file with
 * `sendfile` (no copy through JavaScript) to `curl -o /dev/null`, and one that
 * takes a `curl -T` upload and does only what an S3 PUT must (the MD5 of the
 * body for its ETag, the write, an `fsync` before answering). curl is the
 * client on both, so the generator's own costs are not in the figures.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'

/** MiB/s of each, best of `tries` (the first transfer also warms the page cache and the JIT). */
export async function httpCeiling(file: string, scratch: string, tries = 3): Promise<{ get: number; put: number }> {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(req) {
      if (req.method === 'GET') return new Response(Bun.file(file))
      const fd = openSync(scratch, 'w')
      const md5 = new Bun.CryptoHasher('md5')
      try {
        for await (const chunk of req.body!) {
          md5.update(chunk)
          writeSync(fd, chunk)
        }
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      return new Response(md5.digest('hex'))
    },
  })
  const curl = async (args: string[], metric: string): Promise<number> => {
    const p = Bun.spawn(['curl', '-sf', '-o', '/dev/null', '-w', `%{${metric}}`, ...args, `http://127.0.0.1:${server.port}/`], { stdout: 'pipe' })
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited])
    if (code !== 0) throw new Error(`curl exited with ${code}`)
    return Number(out) / 1048576
  }
  try {
    let get = 0
    let put = 0
    for (let i = 0; i < tries; i++) {
      get = Math.max(get, await curl([], 'speed_download'))
      put = Math.max(put, await curl(['-T', file], 'speed_upload'))
    }
    return { get, put }
  } finally {
    await server.stop(true)
    rmSync(scratch, { force: true })
  }
}
