// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What the signed-in user may touch (GET /api/me/access), loaded once per sign-in, so pages can
 * hide controls the server would refuse. The rules are the server's (src/access/view.ts): a grant
 * covers a key or folder when the path starts with its folder, exactly; the highest covering
 * grant wins. The server decides; this only spares the user buttons that cannot work.
 */
import { api } from './api.ts'
import type { MyAccess, MyGrant } from './access-types.ts'

export const NONE = 0
export const READ = 1
export const WRITE = 2
export type Level = typeof NONE | typeof READ | typeof WRITE

const levelOf = (g: MyGrant): Level => (g.access === 'read-write' ? WRITE : READ)
const onBackend = (g: MyGrant, backend: string): boolean => g.backend_id === '*' || g.backend_id === backend
const onBucket = (g: MyGrant, backend: string, bucket: string): boolean => onBackend(g, backend) && (g.bucket === '' || g.bucket === bucket)
const covers = (prefix: string, path: string): boolean => prefix === '' || (path.startsWith(prefix) && !path.split('/').includes('..'))

class Access {
  mine = $state<MyAccess | null>(null)
  #pending: Promise<void> | null = null

  load(): Promise<void> {
    this.#pending ??= api
      .get<MyAccess>('/api/me/access')
      .then((result) => {
        this.mine = result
      })
      .finally(() => {
        this.#pending = null
      })
    return this.#pending
  }

  #best(matching: (g: MyGrant) => boolean): Level {
    if (!this.mine) return NONE
    if (this.mine.all) return WRITE
    return this.mine.grants.reduce<Level>((best, g) => (matching(g) && levelOf(g) > best ? levelOf(g) : best), NONE)
  }

  /** The level on a key or folder (`''`: the whole bucket). */
  level(backend: string, bucket: string, path: string): Level {
    return this.#best((g) => onBucket(g, backend, bucket) && covers(g.prefix, path))
  }

  /** Creating buckets takes read-write on the whole backend. */
  canCreateBuckets(backend: string): boolean {
    return this.#best((g) => onBackend(g, backend) && g.bucket === '') === WRITE
  }

  clear(): void {
    this.mine = null
  }
}

export const access = new Access()
