// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Two `stowage serve` replicas on a fresh database of the PostgreSQL server at PG_URL, sharing one
 * master key and one `fs` backend directory, as a balancer without stickiness would use them.
 * Without PG_URL it fails with the way to get one: `npm test` starts the server for this pass.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serverProcess, type ServerProcess } from '../helpers/server-process.ts'
import { createPgDatabase } from '../helpers/store.ts'

/** `startedAt`: just before the replicas were started. */
export type Pair = { a: ServerProcess; b: ServerProcess; shared: string; startedAt: number; dispose(): Promise<void> }

/** `bucket` is created in the shared directory; `env` goes to both replicas. Only `a` creates the admin. */
export async function replicaPair(o: { bucket?: string; env?: Record<string, string> } = {}): Promise<Pair> {
  const pg = await createPgDatabase()
  const shared = mkdtempSync(join(tmpdir(), 'stowage-fleet-'))
  if (o.bucket) mkdirSync(join(shared, o.bucket))
  const secretKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  const replica = { postgresUrl: pg.url, objects: shared, secretKey, ...(o.env ? { env: o.env } : {}) }
  const a = await serverProcess({ replica: { ...replica, admin: true } })
  const b = await serverProcess({ replica: { ...replica, admin: false } })
  const startedAt = Date.now()
  await Promise.all([a.start(), b.start()])
  return {
    a,
    b,
    shared,
    startedAt,
    async dispose() {
      await Promise.all([a.dispose(), b.dispose()])
      await pg.drop()
      rmSync(shared, { recursive: true, force: true })
    },
  }
}
