// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * rclone 1.60 from Debian, run with AWS_CA_BUNDLE unset (it refuses to start
 * with it set) and configured from environment variables. `--s3-no-check-bucket`
 * stops it from trying CreateBucket, which virtual credentials may not do;
 * an upload cutoff and chunk size of 8 MiB force multipart for the 50 MiB file.
 * `rclone link` presigns GETs only.
 */
import { join } from 'node:path'
import { conformance, run, type Ctx, type Driver, type Key } from './scenario.ts'

function driver(key: Key, ctx: Ctx): Driver {
  const env = {
    AWS_CA_BUNDLE: undefined,
    RCLONE_CONFIG: join(ctx.dir, 'rclone.conf'),
    RCLONE_CONFIG_PX_TYPE: 's3',
    RCLONE_CONFIG_PX_PROVIDER: 'Other',
    RCLONE_CONFIG_PX_ENV_AUTH: 'false',
    RCLONE_CONFIG_PX_ACCESS_KEY_ID: key.access_key,
    RCLONE_CONFIG_PX_SECRET_ACCESS_KEY: key.secret_key,
    RCLONE_CONFIG_PX_ENDPOINT: ctx.endpoint,
    RCLONE_CONFIG_PX_REGION: 'us-east-1',
    RCLONE_CONFIG_PX_FORCE_PATH_STYLE: 'true',
  }
  const rclone = (...args: string[]): Promise<string> =>
    run(
      [
        'env',
        '-u',
        'AWS_CA_BUNDLE',
        'rclone',
        '--retries',
        '1',
        '--low-level-retries',
        '1',
        '--s3-no-check-bucket',
        '--s3-upload-cutoff',
        '8M',
        '--s3-chunk-size',
        '8M',
        ...args,
      ],
      env,
    )
  return {
    async listBuckets() {
      return (await rclone('lsd', 'px:'))
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/).at(-1)!)
    },
    upload: async (bucket, k, file) => void (await rclone('copyto', file, `px:${bucket}/${k}`)),
    download: async (bucket, k, file) => void (await rclone('copyto', `px:${bucket}/${k}`, file)),
    presignGet: async (bucket, k, s) => (await rclone('link', '--expire', `${s}s`, `px:${bucket}/${k}`)).trim(),
    copy: async (sb, sk, db, dk) => void (await rclone('copyto', `px:${sb}/${sk}`, `px:${db}/${dk}`)),
    remove: async (bucket, k) => void (await rclone('deletefile', `px:${bucket}/${k}`)),
  }
}

conformance({ name: 'rclone', driver, noPresignPut: '`rclone link` presigns GET only' })
