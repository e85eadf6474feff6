// SPDX-License-Identifier: AGPL-3.0-or-later
/** The backend contract on the fs driver, rooted in a fresh temp directory. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFsBackend } from '../../src/backends/fs/driver.ts'
import { backendContract } from './contract.ts'

backendContract('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-fs-contract-'))
  const backend = createFsBackend({ id: 'fs-contract', root })
  return {
    backend,
    spec: { kind: 'fs', root },
    async cleanup() {
      await backend.close()
      await rm(root, { recursive: true, force: true })
    },
  }
})
