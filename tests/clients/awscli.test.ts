// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The real AWS CLI v2 from Debian (`/usr/bin/aws`: a pyenv shim `aws` v1 may
 * shadow it on PATH). `aws s3 cp` switches to multipart above 8 MiB. The CLI
 * presigns GETs only (`aws s3 presign`), so presigned PUT is not covered here.
 */
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { conformance, run, type Ctx, type Driver, type Key } from './scenario.ts'

const AWS = '/usr/bin/aws'

function driver(key: Key, ctx: Ctx): Driver {
  const home = join(ctx.dir, 'aws-home')
  mkdirSync(home, { recursive: true })
  const env = {
    AWS_ACCESS_KEY_ID: key.access_key,
    AWS_SECRET_ACCESS_KEY: key.secret_key,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
    HOME: home,
  }
  const aws = (...args: string[]): Promise<string> => run([AWS, '--endpoint-url', ctx.endpoint, ...args], env)
  return {
    async listBuckets() {
      return (await aws('s3', 'ls'))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/).at(-1)!)
    },
    upload: async (bucket, k, file) => void (await aws('s3', 'cp', '--no-progress', file, `s3://${bucket}/${k}`)),
    download: async (bucket, k, file) => void (await aws('s3', 'cp', '--no-progress', `s3://${bucket}/${k}`, file)),
    presignGet: async (bucket, k, s) => (await aws('s3', 'presign', `s3://${bucket}/${k}`, '--expires-in', String(s))).trim(),
    copy: async (sb, sk, db, dk) => void (await aws('s3api', 'copy-object', '--bucket', db, '--key', dk, '--copy-source', `${sb}/${sk}`)),
    remove: async (bucket, k) => void (await aws('s3', 'rm', `s3://${bucket}/${k}`)),
  }
}

conformance({ name: 'aws-cli-v2', driver, noPresignPut: 'the AWS CLI presigns GET only' })
