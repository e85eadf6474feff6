// SPDX-License-Identifier: AGPL-3.0-or-later
/** The backend contract on the s3 driver, against the real Ceph RGW (see tests/helpers/s3.ts). */
import { createS3Backend } from '../../src/backends/s3/driver.ts'
import { s3Env } from '../helpers/s3.ts'
import { backendContract } from './contract.ts'

backendContract('s3', async () => {
  const env = s3Env()
  const backend = createS3Backend({
    id: 's3-contract',
    endpoint: env.endpoint,
    region: env.region,
    accessKey: env.accessKey,
    secretKey: env.secretKey,
    pathStyle: true,
  })
  return {
    backend,
    cleanup: () => backend.close(),
    spec: { kind: 's3', endpoint: env.endpoint, region: env.region, accessKey: env.accessKey, secretKey: env.secretKey },
  }
})
