// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The S3 engine (an `fs` backend served by Stowage's S3 listener) against
 * RGW on the same machine, in one run:
 *
 * 1. GET and PUT of 1 KiB and 1 MiB, PUT of 1 KiB over a few keys in a
 *    versioned bucket, and ListObjectsV2 of 1000 keys, with N
 *    concurrent keep-alive clients: the engine through the S3 listener vs
 *    the same calls made to RGW directly. Same client on both sides (our
 *    SigV4 signer, UNSIGNED-PAYLOAD, keep-alive fetch); each case runs
 *    `--runs` times alternating which side goes first; the ratio is engine ÷
 *    RGW req/s, the median of the per-run ratios.
 * 2. A 1 GiB PUT and GET (timed, then again checked by MD5) through the engine against `dd` (written with
 *    conv=fsync, as the engine syncs) and `cat` of the same size on the same
 *    filesystem, with the server's RSS growth during each transfer.
 * 3. Listing page cost in folders of 100,000 and 1,000,000 files dropped in
 *    from outside, measured on the fs driver itself: the first page (which
 *    reads and sorts the folder), every following page while paging through
 *    all of it, and the first page after another file is dropped in.
 *
 * The server runs in its own process (the compiled binary, or the sources
 * with --source), so /proc figures are its alone. The fs root and the big
 * folders live under --root (default: a directory next to the system temp
 * dir), which must be on the filesystem being compared with dd and cat; the
 * big folders are kept between runs (`--keep-folders`) since making a
 * million files takes minutes.
 *
 * Usage: bun bench/engine.ts [--duration 10] [--warmup 2] [--concurrency 16]
 *   [--runs 3] [--cases get-1k,get-1m,put-1k,put-1m,put-1k-versioned,list] [--big-mib 1024]
 *   [--folders 100000,1000000] [--root DIR] [--keep-folders]
 *   [--no-load] [--no-big] [--no-folders] [--write] [--source] [--binary dist/stowage]
 *   [--profile DIR] [--perf DIR]
 *
 * --profile runs the server from the sources under `bun --cpu-prof-md` and
 * leaves a markdown CPU profile in DIR when it stops; --perf samples it with
 * Linux perf instead (bench/lib/perf.ts).
 */
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { indexStats } from '../src/backends/fs/dir-index.ts'
import { createFsBackend } from '../src/backends/fs/driver.ts'
import { s3Env } from '../tests/helpers/s3.ts'
import { flags } from './lib/args.ts'
import { httpCeiling } from './lib/http-ceiling.ts'
import { bigTransferTable, compare, cpuTable, throughputTable, type Case as CaseOf } from './lib/compare.ts'
import { expectStatus, type OpContext, must } from './lib/load.ts'
import { loadAverage, pidsByName } from './lib/proc.ts'
import { fixed, publish, table, type Cell } from './lib/report.ts'
import { headersOf, s3Client, type S3Client } from './lib/s3.ts'
import { DIST_BINARY, runsSources, signIn, startServer, type BenchServer } from './lib/server.ts'
import { median } from './lib/stats.ts'

const f = flags(process.argv.slice(2), {
  duration: 10,
  warmup: 2,
  concurrency: 16,
  runs: 3,
  cases: '',
  'big-mib': 1024,
  folders: '100000,1000000',
  root: join(tmpdir(), 'stowage-bench-engine'),
  'keep-folders': false,
  'no-load': false,
  'no-big': false,
  'no-folders': false,
  write: false,
  source: false,
  binary: DIST_BINARY,
  profile: '',
  perf: '',
})
const KiB = 1024
const MiB = 1024 * KiB
const LIST_KEYS = 1000
const PASSWORD = `pw-${crypto.randomUUID()}`

const env = s3Env()
const rgw = s3Client(env)
const bucket = `bench-engine-${Date.now().toString(36)}`
/** Versioning on at both sides: overwrites keep every version. */
const versionedBucket = `${bucket}-v`
const payload = { '1k': crypto.getRandomValues(new Uint8Array(KiB)), '1m': crypto.getRandomValues(new Uint8Array(MiB)) }
const upstreamPids = [...pidsByName('radosgw'), ...pidsByName('ceph-osd')]
const fsRoot = join(f.root, 'objects')

let srv: BenchServer | undefined
let engine: S3Client

type Side = 'engine' | 'rgw'
type Case = CaseOf<Side>

/** The same keys on both sides: the list folder and the objects GET reads. */
async function seed(s3: S3Client): Promise<void> {
  for (let i = 0; i < LIST_KEYS; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        must(s3.call('PUT', bucket, `list/obj-${String(i + j).padStart(4, '0')}`, { body: payload['1k'] }), 200, 'seed list'),
      ),
    )
  }
  for (const size of ['1k', '1m'] as const) await must(s3.call('PUT', bucket, `obj/${size}`, { body: payload[size] }), 200, `seed ${size}`)
}

async function start(): Promise<void> {
  rmSync(fsRoot, { recursive: true, force: true })
  mkdirSync(join(fsRoot, bucket), { recursive: true })
  mkdirSync(join(fsRoot, versionedBucket), { recursive: true })
  srv = await startServer({
    binary: f.binary,
    from: f,
    config: {
      backends: [{ id: 'local', name: 'Local', type: 'fs', root: fsRoot }],
      s3_proxy: { enabled: true, listen: '127.0.0.1:0' },
      quotas: { scan_interval: '0' },
    },
    admin: { username: 'bench', password: PASSWORD },
    listeners: ['s3-proxy'],
  })
  const session = await signIn(srv.url, 'bench', PASSWORD)
  const res = await fetch(`${srv.url}/api/admin/s3-credentials`, {
    method: 'POST',
    headers: session.headers({ mutation: true, extra: { 'content-type': 'application/json' } }),
    body: JSON.stringify({ backend_id: 'local', buckets: [bucket, { bucket: versionedBucket, access: 'owner' }], description: 'bench' }),
  })
  if (res.status !== 201) throw new Error(`minting a credential failed: ${res.status} ${await res.text()}`)
  const cred = (await res.json()) as { access_key: string; secret_key: string }
  engine = s3Client({ endpoint: srv.listeners['s3-proxy']!, region: 'us-east-1', accessKey: cred.access_key, secretKey: cred.secret_key })
}

function cases(): Case[] {
  const both = (fn: (s3: S3Client, c: OpContext, tag: string) => Promise<void>): Case['run'] => ({
    engine: (c, t) => fn(engine, c, t),
    rgw: (c, t) => fn(rgw, c, t),
  })
  const get = (size: '1k' | '1m'): Case['run'] => both(async (s3) => expectStatus(await s3.call('GET', bucket, `obj/${size}`), 200))
  const put = (size: '1k' | '1m'): Case['run'] =>
    both(async (s3, c, tag) => expectStatus(await s3.call('PUT', bucket, `put/${tag}/${c.worker}-${c.seq}`, { body: payload[size] }), 200))
  const overwrite: Case['run'] = both(async (s3, c, tag) =>
    expectStatus(await s3.call('PUT', versionedBucket, `hot/${tag}/${c.worker}`, { body: payload['1k'] }), 200),
  )
  const list: Case['run'] = both(async (s3) => expectStatus(await s3.call('GET', bucket, '', { query: { 'list-type': '2', prefix: 'list/' } }), 200))
  const all: Case[] = [
    { name: 'get-1k', label: 'GET 1 KiB', run: get('1k') },
    { name: 'get-1m', label: 'GET 1 MiB', run: get('1m') },
    { name: 'put-1k', label: 'PUT 1 KiB', run: put('1k'), cleanup: 'put/' },
    { name: 'put-1m', label: 'PUT 1 MiB', run: put('1m'), cleanup: 'put/' },
    { name: 'put-1k-versioned', label: 'PUT 1 KiB over a key, versioned (every version kept)', run: overwrite },
    { name: 'list', label: `ListObjectsV2 (${LIST_KEYS} keys)`, run: list },
  ]
  return all.filter((c) => !f.cases || f.cases.split(',').includes(c.name))
}

/**
 * ext4 without a journal (this machine's root) does not reuse an inode freed
 * a short while ago, and looks each one up again whenever it creates a file
 * (`recently_deleted` in the kernel's inode allocator). Measured here with 16
 * writers creating, syncing and renaming 1 KiB files: 2771 files/s fresh,
 * 1413 right after deleting 22,000 files, 1354 forty seconds after, 3963
 * eighty seconds after. A run that started right after the cleanup of the
 * one before would measure that window, not the engine.
 */
const INODE_REUSE_WINDOW_MS = 75_000

async function cleanupPrefix(prefix: string): Promise<void> {
  const engineKeys = await engine.listKeys(bucket, prefix)
  await Promise.all([rgw.deleteKeys(bucket, await rgw.listKeys(bucket, prefix)), engine.deleteKeys(bucket, engineKeys)])
  if (engineKeys.length > 0) await Bun.sleep(INODE_REUSE_WINDOW_MS)
}

async function loadCases(): Promise<string> {
  const results = await compare(f, { serverPid: srv!.pid, upstreamPids, cleanup: cleanupPrefix }, cases(), 'engine', 'rgw')
  return [
    `Throughput and latency: ${f.concurrency} concurrent clients, ${f.warmup} s warm-up + ${f.duration} s per case and side, ${f.runs} runs alternating which side goes first; medians over the runs. Latencies in ms. "engine" is an fs backend served by Stowage's S3 listener; "direct" is RGW itself, on the same machine. A ratio of 1 or more means the engine serves at least as many requests per second as RGW.`,
    throughputTable(results, 'engine'),
    "CPU milliseconds per request (user + system from /proc, medians over the runs): the Stowage process (all threads); RGW (radosgw + ceph-osd, which also serve anything else using this RGW) while the engine side ran and while serving its own side; the load generator on each side. Then the share of wall time the server's main (JavaScript) thread spent on a CPU and waiting in a run queue for one, during the engine side: waiting means the server had work but no free core.",
    cpuTable(
      results,
      ['case', 'stowage', 'RGW (engine side)', 'RGW direct', 'generator (engine)', 'generator (direct)', 'server main thread on CPU', 'waiting for CPU'],
      true,
    ),
  ].join('\n\n')
}

/** Seconds a command takes. */
function timed(cmd: string, args: string[]): number {
  const started = performance.now()
  execFileSync(cmd, args, { stdio: 'ignore' })
  return (performance.now() - started) / 1000
}

async function bigTransfers(): Promise<string> {
  const size = f['big-mib'] * MiB
  const key = 'big/object.bin'
  const put = engine.request('PUT', bucket, key)
  const get = engine.request('GET', bucket, key)
  const objectFile = join(fsRoot, bucket, key)
  const big = await bigTransferTable({
    pid: srv!.pid,
    size,
    names: ['PUT (engine)', 'GET (engine)'],
    upload: { url: put.url, method: 'PUT', headers: headersOf(put.init), status: 200 },
    download: { url: get.url, headers: headersOf(get.init) },
    // The PUT wrote past the page cache, and a long read of what is not cached goes past it too.
    downloads: [
      { check: false, note: ', first read (from the disk, past the page cache)' },
      { check: false, note: ', again (still from the disk: nothing was cached)' },
      { check: false, note: ', after `cat` loaded it into the page cache', before: () => void execFileSync('cat', [objectFile], { stdio: 'ignore' }) },
      { check: true, note: ', client hashing MD5' },
    ],
  })
  await must(engine.call('DELETE', bucket, key), 204, 'delete big object')
  const file = join(f.root, 'dd.bin')
  const write = timed('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${f['big-mib']}`, 'conv=fsync', 'status=none'])
  const cached = timed('sh', ['-c', `cat '${file}' > /dev/null`])
  const direct = timed('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none'])
  // Written past the page cache as the engine writes: on this VM the first read of such a file costs several times a later one.
  const past = join(f.root, 'dd-direct.bin')
  execFileSync('dd', ['if=/dev/zero', `of=${past}`, 'bs=1M', `count=${f['big-mib']}`, 'oflag=direct', 'status=none'])
  const cold = timed('sh', ['-c', `cat '${past}' > /dev/null`])
  rmSync(past, { force: true })
  const ceiling = await httpCeiling(file, join(f.root, 'ceiling.bin'))
  rmSync(file, { force: true })
  const raw = table(
    ['raw disk', 'MiB/s'],
    [
      [`dd ${f['big-mib']} MiB from /dev/zero, conv=fsync (the engine syncs what it writes)`, fixed(f['big-mib'] / write, 0)],
      [`cat ${f['big-mib']} MiB just written (from the page cache, as the engine's GET after cat reads it)`, fixed(f['big-mib'] / cached, 0)],
      [
        `cat ${f['big-mib']} MiB just written with dd oflag=direct (from the disk, as the engine's first GET reads what its PUT wrote)`,
        fixed(f['big-mib'] / cold, 0),
      ],
      [`dd ${f['big-mib']} MiB, iflag=direct (the device itself)`, fixed(f['big-mib'] / direct, 0)],
      [`a bare Bun.serve sending the file with sendfile, to curl -o /dev/null (any HTTP GET's ceiling)`, fixed(ceiling.get, 0)],
      [`a bare Bun.serve taking a curl -T upload with the MD5 an ETag needs and fsync (an S3 PUT's ceiling)`, fixed(ceiling.put, 0)],
    ],
  )
  return [
    `A ${f['big-mib']} MiB object through the engine (one PUT, which writes it past the page cache; three GETs timed with the client only counting bytes: two that read it from the disk past the page cache, as a long read of what is not cached goes, and one after \`cat\` has loaded it into the page cache; then one more in which the client hashes them, which checks the object by MD5), with the server's RSS (sampled every 50 ms plus VmHWM; MiB) and CPU per MiB, and the disk itself on the same filesystem (${f.root}). The target is at least 70 % of the raw copy and under 64 MiB of RSS growth. Idle RSS: ${fixed(big.idleKiB / 1024, 0)} MiB.`,
    big.table,
    raw,
  ].join('\n\n')
}

/** A folder of `n` empty files named `f-0000000.dat`…, made (or reused) under the bench root. */
function folder(n: number): string {
  const root = join(f.root, `folder-${n}`)
  const dir = join(root, 'bkt', 'big')
  const done = join(root, 'complete')
  if (existsSync(done)) return root
  rmSync(root, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  console.error(`making ${n} files in ${dir}…`)
  for (let i = 0; i < n; i++) closeSync(openSync(join(dir, `f-${String(i).padStart(7, '0')}.dat`), 'w'))
  writeFileSync(done, '')
  return root
}

async function pageCosts(n: number): Promise<Cell[]> {
  const root = folder(n)
  const b = createFsBackend({ id: `folder-${n}`, root })
  try {
    const time = async (opts: Parameters<typeof b.listObjects>[1]): Promise<[number, Awaited<ReturnType<typeof b.listObjects>>]> => {
      const started = performance.now()
      const page = await b.listObjects('bkt', opts)
      return [performance.now() - started, page]
    }
    const held = indexStats().bytes
    const [first, firstPage] = await time({ prefix: 'big/' })
    const indexMiB = (indexStats().bytes - held) / MiB
    const costs: number[] = []
    let page = firstPage
    let listed = page.objects.length
    const started = performance.now()
    while (page.isTruncated) {
      const [ms, next] = await time({ prefix: 'big/', token: page.nextToken })
      costs.push(ms)
      listed += next.objects.length
      page = next
    }
    const all = (performance.now() - started) / 1000
    if (listed !== n) throw new Error(`listed ${listed} of ${n} files`)
    const dropped = join(root, 'bkt', 'big', `f-${String(Math.floor(n / 2)).padStart(7, '0')}.dropped`)
    writeFileSync(dropped, '')
    const [afterDrop, around] = await time({ prefix: 'big/', startAfter: `big/f-${String(Math.floor(n / 2)).padStart(7, '0')}.dat` })
    rmSync(dropped)
    if (around.objects[0]?.key !== `big/${dropped.split('/').at(-1)}`) throw new Error('the dropped file did not appear')
    const sorted = [...costs].sort((a, b2) => a - b2)
    return [
      n.toLocaleString('en'),
      fixed(first, 0),
      fixed(median(costs), 1),
      fixed(sorted[Math.floor(sorted.length * 0.9)] ?? 0, 1),
      fixed(sorted.at(-1) ?? 0, 1),
      fixed(all, 1),
      fixed(afterDrop, 0),
      fixed(indexMiB, 1),
    ]
  } finally {
    await b.close()
    rmSync(join(root, '.stowage'), { recursive: true, force: true })
  }
}

async function folders(): Promise<string> {
  const rows: Cell[][] = []
  for (const n of f.folders.split(',').map(Number)) rows.push(await pageCosts(n))
  if (!f['keep-folders']) for (const n of f.folders.split(',').map(Number)) rmSync(join(f.root, `folder-${n}`), { recursive: true, force: true })
  return [
    'Listing pages of 1000 keys in one folder of files dropped in from outside (fs driver, in the benchmark process; ms). "first page" reads and sorts the folder; "page" figures are every later page while paging through all of it; "after a drop" is the first page after one more file was dropped in (the file is on that page: the folder is watched, so its index is patched, not read again). Targets: a page costs about the same at both sizes, ≤ 50 ms at 100,000 and ≤ 100 ms at 1,000,000.',
    table(['files', 'first page', 'page p50', 'page p90', 'page max', 'all pages (s)', 'after a drop', 'index (MiB)'], rows),
  ].join('\n\n')
}

function commit(): string {
  const r = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: new URL('..', import.meta.url).pathname, stdout: 'pipe', stderr: 'ignore' })
  return r.exitCode === 0 ? r.stdout.toString().trim() : 'unknown'
}

async function main(): Promise<void> {
  mkdirSync(f.root, { recursive: true })
  const header = [
    `Run ${new Date().toISOString()} on ${navigator.hardwareConcurrency} CPUs, bun ${Bun.version}, commit ${commit()}, server ${runsSources(f) ? 'from the sources' : 'compiled binary'}, filesystem of ${f.root} (device ${statSync(f.root).dev}).`,
    `Load average before: ${loadAverage()}.`,
  ]
  const sections: string[] = []
  let folderSection: string | undefined
  if (!f['no-load'] || !f['no-big']) {
    await must(rgw.call('PUT', bucket, ''), 200, 'create RGW bucket')
    await must(rgw.call('PUT', versionedBucket, ''), 200, 'create RGW versioned bucket')
    await start()
    const enable = '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'
    for (const s3 of [rgw, engine]) await must(s3.call('PUT', versionedBucket, '', { query: { versioning: '' }, body: enable }), 200, 'enable versioning')
    if (!f['no-load']) {
      await seed(rgw)
      await seed(engine)
      sections.push(await loadCases())
    }
    if (!f['no-big']) sections.push(await bigTransfers())
  }
  if (!f['no-folders']) folderSection = await folders()
  header.push(`Load average after: ${loadAverage()}.`)
  if (sections.length > 0) publish('engine-results', [header.join(' '), ...sections].join('\n\n'), f.write)
  if (folderSection) publish('engine-folders', [header.join(' '), folderSection].join('\n\n'), f.write)
}

async function cleanup(): Promise<void> {
  await srv?.stop().catch(() => {})
  rmSync(fsRoot, { recursive: true, force: true })
  for (const b of [bucket, versionedBucket]) await rgw.removeBucket(b)
}

try {
  await main()
} finally {
  await cleanup()
}
