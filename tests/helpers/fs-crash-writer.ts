// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * A process that writes through the fs driver until it is killed, for the
 * durability tests: run as `bun fs-crash-writer.ts '<json>'`, it prints one
 * line per milestone on stdout so the test knows when to send SIGKILL.
 *
 * - `{ mode: 'put', root, key, mib }`: streams `mib` MiB into `key`, slowly
 *   after the first MiB ("streaming"), so the kill lands mid-body.
 * - `{ mode: 'complete', root, key, parts }`: uploads `parts` parts of 5 MiB
 *   ("uploaded <id>"), then completes ("completing", then "completed").
 * - `{ mode: 'overwrite', root, key }`: puts 1 MiB versions of `key` one
 *   after another ("wrote <n>"), each filled with its number.
 * - `{ mode: 'versioned', root, key }`: the same in a bucket that keeps
 *   versions, with a delete marker after every third version and the oldest
 *   version deleted by id after every fifth.
 */
import { createFsBackend } from '../../src/backends/fs/driver.ts'

const MiB = 1024 * 1024

type Job =
  | { mode: 'put'; root: string; key: string; mib: number }
  | { mode: 'complete'; root: string; key: string; parts: number }
  | { mode: 'overwrite' | 'versioned'; root: string; key: string }

function once(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes)
      c.close()
    },
  })
}

/** The bytes of part `n` (and of overwrite version `n`): MiB-sized runs of the number. */
export function fill(n: number, size: number): Uint8Array {
  return new Uint8Array(size).fill(n & 0xff)
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as Job
  const b = createFsBackend({ id: 'crash', root: job.root })
  if (job.mode === 'put') {
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 1) console.log('streaming')
        if (sent > 0) await Bun.sleep(50)
        c.enqueue(fill(9, MiB))
        if (++sent === job.mib) c.close()
      },
    })
    await b.putObject('bkt', job.key, body, { size: job.mib * MiB })
    console.log('finished')
    return
  }
  if (job.mode === 'complete') {
    const id = await b.createMultipartUpload('bkt', job.key, { contentType: 'application/x-crash' })
    const parts = []
    for (let n = 1; n <= job.parts; n++) parts.push(await b.uploadPart('bkt', job.key, id, n, once(fill(n, 5 * MiB)), { size: 5 * MiB }))
    console.log(`uploaded ${id}`)
    console.log('completing')
    await b.completeMultipartUpload(
      'bkt',
      job.key,
      id,
      parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
    )
    console.log('completed')
    return
  }
  if (job.mode === 'versioned') await b.setVersioning('bkt', true)
  for (let n = 1; ; n++) {
    await b.putObject('bkt', job.key, once(fill(n, MiB)), { size: MiB, contentType: `application/x-version-${n}` })
    if (job.mode === 'versioned' && n % 3 === 0) await b.deleteObject('bkt', job.key)
    if (job.mode === 'versioned' && n % 5 === 0)
      await b.deleteObject('bkt', job.key, { versionId: (await b.listObjectVersions('bkt', job.key)).at(-1)!.versionId })
    console.log(`wrote ${n}`)
  }
}

if (import.meta.main) await main()
