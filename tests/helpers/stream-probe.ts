// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Memory of a streamed put + get, measured in a fresh process. Measuring inside
 * the test runner mixes in the garbage of every earlier test (the collector runs
 * later on a bigger heap), so the same driver shows twice the growth late in a
 * full run. `measureStreaming` spawns this file; run directly it does the work
 * and prints one JSON line.
 */
import { createHash } from 'node:crypto'
import type { Backend } from '../../src/backends/backend.ts'
import { createFsBackend } from '../../src/backends/fs/driver.ts'
import { createS3Backend } from '../../src/backends/s3/driver.ts'

export type BackendSpec = { kind: 'fs'; root: string } | { kind: 's3'; endpoint: string; region: string; accessKey: string; secretKey: string }
export type ProbeResult = { putGrowthMiB: number; getGrowthMiB: number; intact: boolean; contentLength: number }

const MiB = 1024 * 1024

export async function measureStreaming(spec: BackendSpec, bucket: string, size: number): Promise<ProbeResult> {
  const proc = Bun.spawn([process.execPath, import.meta.path, JSON.stringify({ spec, bucket, size })], { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`stream probe failed (${code}): ${err}`)
  return JSON.parse(out.trim().split('\n').at(-1)!) as ProbeResult
}

function build(spec: BackendSpec): Backend {
  return spec.kind === 'fs'
    ? createFsBackend({ id: 'probe', root: spec.root })
    : createS3Backend({ id: 'probe', endpoint: spec.endpoint, region: spec.region, accessKey: spec.accessKey, secretKey: spec.secretKey, pathStyle: true })
}

async function phase(run: () => Promise<void>): Promise<number> {
  Bun.gc(true)
  const base = process.memoryUsage.rss()
  let peak = base
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10)
  try {
    await run()
  } finally {
    clearInterval(timer)
  }
  return (Math.max(peak, process.memoryUsage.rss()) - base) / MiB
}

async function main(): Promise<void> {
  const { spec, bucket, size } = JSON.parse(process.argv[2]!) as { spec: BackendSpec; bucket: string; size: number }
  const b = build(spec)
  // Opened before measuring: what opening costs (the fs backend starts its hashing thread) is not the transfer's.
  if (!(await b.bucketExists(bucket))) throw new Error(`no bucket ${bucket}`)
  const sent = createHash('md5')
  let produced = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (produced >= size) return c.close()
      const n = Math.min(MiB, size - produced)
      const chunk = new Uint8Array(n).fill(produced / MiB)
      sent.update(chunk)
      produced += n
      c.enqueue(chunk)
    },
  })
  const putGrowthMiB = await phase(async () => void (await b.putObject(bucket, 'probe.bin', stream, { size })))
  const received = createHash('md5')
  let contentLength = 0
  const getGrowthMiB = await phase(async () => {
    const got = await b.getObject(bucket, 'probe.bin')
    if (got.status === 304) throw new Error('unexpected 304')
    contentLength = got.contentLength
    for await (const chunk of got.body as unknown as AsyncIterable<Uint8Array>) received.update(chunk)
  })
  await b.deleteObject(bucket, 'probe.bin')
  await b.close()
  console.log(JSON.stringify({ putGrowthMiB, getGrowthMiB, intact: sent.digest('hex') === received.digest('hex'), contentLength } satisfies ProbeResult))
}

if (import.meta.main) await main()
