// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The two storage kinds every API suite runs against: the fs driver in a temp
 * dir, and the real Ceph RGW (see s3.ts for where it is).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { s3Env } from './s3.ts'

export type Kind = 'fs' | 'rgw'
export const KINDS: Kind[] = ['fs', 'rgw']

/** A `backends:` entry of the config for `kind`, with the env it names; an fs backend gets a fresh `root` the caller removes. */
export function backendDoc(kind: Kind, id = kind === 'fs' ? 'local' : 'rgw'): { doc: Record<string, unknown>; env: Record<string, string>; root?: string } {
  if (kind === 'fs') {
    const root = mkdtempSync(join(tmpdir(), 'stowage-fs-'))
    return { doc: { id, type: 'fs', root }, env: {}, root }
  }
  const s3 = s3Env()
  return {
    doc: { id, type: 's3', endpoint: s3.endpoint, region: s3.region, access_key_env: 'RGW_AK', secret_key_env: 'RGW_SK', path_style: true },
    env: { RGW_AK: s3.accessKey, RGW_SK: s3.secretKey },
  }
}
