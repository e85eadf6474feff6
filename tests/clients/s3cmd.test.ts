// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * s3cmd 2.3 from Debian, configured from a temp file (nothing in $HOME),
 * SigV4, path-style. Uploads above 15 MiB are multipart. `s3cmd signurl`
 * makes SigV2 URLs, which the proxy (SigV4 only) does not accept, so the
 * presigned GET step uses a SigV4 URL from the proxy's own presigner for the
 * same key; s3cmd cannot presign uploads at all.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { presignUrl } from '../../src/s3/sign.ts'
import { conformance, run, type Ctx, type Driver, type Key } from './scenario.ts'

let n = 0

function driver(key: Key, ctx: Ctx): Driver {
  const cfg = join(ctx.dir, `s3cmd-${++n}.cfg`)
  writeFileSync(
    cfg,
    [
      '[default]',
      `access_key = ${key.access_key}`,
      `secret_key = ${key.secret_key}`,
      `host_base = 127.0.0.1:${ctx.port}`,
      `host_bucket = 127.0.0.1:${ctx.port}`,
      'use_https = False',
      'signature_v2 = False',
      'bucket_location = us-east-1',
      'check_ssl_certificate = False',
      'max_retries = 1',
      '',
    ].join('\n'),
  )
  const s3cmd = (...args: string[]): Promise<string> => run(['s3cmd', '-c', cfg, '--no-progress', ...args], { HOME: ctx.dir })
  return {
    async listBuckets() {
      return (await s3cmd('ls'))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) =>
          l
            .trim()
            .split(/\s+/)
            .at(-1)!
            .replace(/^s3:\/\//, ''),
        )
    },
    upload: async (bucket, k, file) => void (await s3cmd('put', file, `s3://${bucket}/${k}`)),
    download: async (bucket, k, file) => void (await s3cmd('get', '--force', `s3://${bucket}/${k}`, file)),
    async presignGet(bucket, k, s) {
      return presignUrl({
        method: 'GET',
        url: new URL(`${ctx.endpoint}/${bucket}/${k}`),
        accessKeyId: key.access_key,
        secretKey: key.secret_key,
        region: 'us-east-1',
        expiresSeconds: s,
      }).toString()
    },
    copy: async (sb, sk, db, dk) => void (await s3cmd('cp', `s3://${sb}/${sk}`, `s3://${db}/${dk}`)),
    remove: async (bucket, k) => void (await s3cmd('del', `s3://${bucket}/${k}`)),
  }
}

conformance({ name: 's3cmd', driver, noPresignPut: 's3cmd cannot presign uploads' })
