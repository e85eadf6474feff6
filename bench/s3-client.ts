// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 client alone, in this process, against RGW: minio-js (the client
 * the stack card names) next to Stowage's own (src/s3/client.ts: our signer
 * over the keep-alive HTTP/1.1 transport of src/s3/http1.ts), with fetch
 * plus our signer as a third reference. No server in between: what is
 * measured is the client's CPU per call (user + system of this process,
 * which does nothing else) and the latency one call sees.
 *
 * Each client makes the same calls: HeadObject and GetObject of 1 KiB,
 * GetObject of 1 MiB (body read to the end), PutObject of 1 KiB and 1 MiB
 * (UNSIGNED-PAYLOAD for all three, which is how the driver signs; minio with
 * `enableSHA256 = false`). minio gets the keep-alive agent the driver gave it
 * before it left (lifo, 64 sockets). Every cell runs `--runs` times, the order
 * of the clients rotating; figures are medians over the runs.
 *
 * Usage: bun bench/s3-client.ts [--duration 2] [--warmup 0.5] [--runs 3]
 *   [--concurrency 1,16] [--write]
 */
import http from 'node:http'
import { Client } from 'minio'
import { createS3Client } from '../src/s3/client.ts'
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { loadAverage } from './lib/proc.ts'
import { fixed, publish, table } from './lib/report.ts'
import { s3Client } from './lib/s3.ts'
import { median, summarise } from './lib/stats.ts'

const f = flags(process.argv.slice(2), { duration: 2, warmup: 0.5, runs: 3, concurrency: '1,16', write: false })
const KiB = 1024
const MiB = 1024 * KiB
const env = s3Env()
const url = new URL(env.endpoint)
const bucket = `bench-client-${Date.now().toString(36)}`
const payload = { '1k': crypto.getRandomValues(new Uint8Array(KiB)), '1m': crypto.getRandomValues(new Uint8Array(MiB)) }

type Op = 'head' | 'get-1k' | 'get-1m' | 'put-1k' | 'put-1m'
const OPS: Op[] = ['head', 'get-1k', 'get-1m', 'put-1k', 'put-1m']
const LABEL: Record<Op, string> = { head: 'HEAD 1 KiB', 'get-1k': 'GET 1 KiB', 'get-1m': 'GET 1 MiB', 'put-1k': 'PUT 1 KiB', 'put-1m': 'PUT 1 MiB' }
type Driver = { name: string; run(op: Op, n: number): Promise<void> }

let unique = 0
const keyFor = (op: Op, n: number): string => (op === 'head' || op === 'get-1k' ? 'obj/1k' : op === 'get-1m' ? 'obj/1m' : `put/${op}-${n}-${unique++}`)

function minioDriver(): Driver {
  const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 64, maxFreeSockets: 16, scheduling: 'lifo' })
  const mc = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: env.accessKey,
    secretKey: env.secretKey,
    region: env.region,
    pathStyle: true,
    transportAgent: agent,
  })
  mc.enableSHA256 = false
  return {
    name: 'minio-js 8.0.7',
    async run(op, n) {
      const key = keyFor(op, n)
      if (op === 'head') await mc.statObject(bucket, key)
      else if (op === 'get-1k' || op === 'get-1m') {
        const s = await mc.getObject(bucket, key)
        for await (const _ of s);
      } else {
        const body = Buffer.from(op === 'put-1k' ? payload['1k'] : payload['1m'])
        await mc.putObject(bucket, key, body, body.length)
      }
    },
  }
}

function ownDriver(): Driver {
  const c = createS3Client(
    { endpoint: env.endpoint, region: env.region, accessKey: env.accessKey, secretKey: env.secretKey, pathStyle: true },
    { idleMs: 30_000 },
  )
  return {
    name: 'own (src/s3)',
    async run(op, n) {
      const key = keyFor(op, n)
      if (op === 'head') return void (await (await c.send({ method: 'HEAD', bucket, key, headers: new Headers() })).discard())
      if (op === 'get-1k' || op === 'get-1m') {
        const a = await c.send({ method: 'GET', bucket, key, headers: new Headers() })
        const reader = a.stream().getReader()
        while (!(await reader.read()).done);
        return
      }
      const body = op === 'put-1k' ? payload['1k'] : payload['1m']
      const a = await c.send({ method: 'PUT', bucket, key, headers: new Headers({ 'content-length': String(body.byteLength) }), body })
      if (a.status !== 200) throw new Error(`PUT ${a.status}`)
      await a.discard()
    },
  }
}

function fetchDriver(): Driver {
  const s3 = s3Client(env)
  return {
    name: 'fetch + our signer',
    async run(op, n) {
      const key = keyFor(op, n)
      const method = op === 'head' ? 'HEAD' : op.startsWith('get') ? 'GET' : 'PUT'
      const res = await s3.call(method, bucket, key, method === 'PUT' ? { body: op === 'put-1k' ? payload['1k'] : payload['1m'] } : {})
      if (!res.ok) throw new Error(`${method} ${res.status}`)
      await res.arrayBuffer()
    },
  }
}

/** `concurrency` loops calling `op` for `seconds`; CPU of this whole process over the window. */
async function cell(d: Driver, op: Op, concurrency: number): Promise<{ cpuMs: number; p50: number; p99: number; rps: number; errors: number }> {
  let stop = false
  const loop = async (lat: number[] | undefined, errs: { n: number }): Promise<void> => {
    for (let n = 0; !stop; n++) {
      const t0 = performance.now()
      try {
        await d.run(op, n)
        lat?.push(performance.now() - t0)
      } catch {
        errs.n++
      }
    }
  }
  const warm = Array.from({ length: concurrency }, () => loop(undefined, { n: 0 }))
  await Bun.sleep(f.warmup * 1000)
  stop = true
  await Promise.all(warm)
  stop = false
  const lat: number[] = []
  const errs = { n: 0 }
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const loops = Array.from({ length: concurrency }, () => loop(lat, errs))
  await Bun.sleep(f.duration * 1000)
  stop = true
  await Promise.all(loops)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(c0)
  const s = summarise(lat, errs.n, seconds)
  return { cpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, s.ok), p50: s.p50, p99: s.p99, rps: s.rps, errors: errs.n }
}

async function main(): Promise<void> {
  // The bucket and the objects read back, made with the direct client.
  const s3 = s3Client(env)
  if ((await s3.call('PUT', bucket, '')).status !== 200) throw new Error('cannot create the bench bucket')
  await s3.call('PUT', bucket, 'obj/1k', { body: payload['1k'] })
  await s3.call('PUT', bucket, 'obj/1m', { body: payload['1m'] })
  const drivers = [minioDriver(), ownDriver(), fetchDriver()]
  const header = `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}. Load average before: ${loadAverage()}.`
  const sections: string[] = []
  for (const concurrency of f.concurrency.split(',').map(Number)) {
    const rows: Array<Array<string | number>> = []
    for (const op of OPS) {
      const per = new Map<string, Array<Awaited<ReturnType<typeof cell>>>>(drivers.map((d) => [d.name, []]))
      for (let r = 0; r < f.runs; r++) {
        for (let i = 0; i < drivers.length; i++) {
          const d = drivers[(i + r) % drivers.length]!
          per.get(d.name)!.push(await cell(d, op, concurrency))
        }
      }
      for (const d of drivers) {
        const runs = per.get(d.name)!
        rows.push([
          LABEL[op],
          d.name,
          fixed(median(runs.map((x) => x.cpuMs)), 3),
          fixed(median(runs.map((x) => x.p50)), 2),
          fixed(median(runs.map((x) => x.p99)), 2),
          fixed(median(runs.map((x) => x.rps)), 0),
          runs.reduce((a, x) => a + x.errors, 0),
        ])
      }
      console.error(`done: ${LABEL[op]} at ${concurrency}`)
    }
    sections.push(
      `${concurrency} ${concurrency === 1 ? 'call' : 'calls'} at a time, ${f.warmup} s warm-up + ${f.duration} s per cell, ${f.runs} runs rotating the clients' order; medians over the runs. CPU is this process's (the client's) per call.\n\n` +
        table(['call', 'client', 'client CPU ms/call', 'p50 ms', 'p99 ms', 'calls/s', 'errors'], rows),
    )
  }
  const keys = await s3.listKeys(bucket, '')
  await s3.deleteKeys(bucket, keys)
  await s3.call('DELETE', bucket, '')
  const md = [header, `Load average after: ${loadAverage()}.`, ...sections].join('\n\n')
  publish('s3-client-results', md, f.write)
  process.exit(0)
}

await main()
