// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One folder's listing, a page (1000 keys) at a time with the server's continuation token: the
 * table shows what has loaded and says so while more exists, never a silently cut list (peers.md
 * §3.2: buckets with 100k+ keys). Folders come first, each group in the server's key order.
 */
import { api } from '../../lib/api.ts'
import { apiBucket, baseName } from '../../lib/paths.ts'
import type { ObjectInfo, ObjectList } from '../../lib/storage-types.ts'

export const PAGE_SIZE = 1000

export type Entry = { kind: 'folder'; key: string; name: string } | { kind: 'object'; key: string; name: string; info: ObjectInfo }

export class Listing {
  readonly backend: string
  readonly bucket: string
  /** The folder shown, "" or ending in "/". */
  readonly folder: string
  /** Typed filter text: the listing prefix is folder + filter. */
  readonly filter: string
  folders = $state<Entry[]>([])
  objects = $state<Entry[]>([])
  token = $state<string | undefined>(undefined)
  loading = $state(false)
  error = $state<unknown>(null)
  loadedOnce = $state(false)

  constructor(backend: string, bucket: string, folder: string, filter: string) {
    this.backend = backend
    this.bucket = bucket
    this.folder = folder
    this.filter = filter
  }

  get entries(): Entry[] {
    return [...this.folders, ...this.objects]
  }

  get hasMore(): boolean {
    return this.token !== undefined
  }

  async load(signal?: AbortSignal): Promise<void> {
    this.folders = []
    this.objects = []
    this.token = undefined
    await this.#page(undefined, signal)
  }

  async more(signal?: AbortSignal): Promise<void> {
    if (this.token && !this.loading) await this.#page(this.token, signal)
  }

  /** Shows an object that was just uploaded or created here, without reloading the pages loaded so far. */
  add(info: ObjectInfo): void {
    if (!info.key.startsWith(this.folder + this.filter)) return
    const rest = info.key.slice(this.folder.length)
    const slash = rest.indexOf('/')
    if (slash >= 0 && slash < rest.length - 1) {
      const key = this.folder + rest.slice(0, slash + 1)
      if (!this.folders.some((entry) => entry.key === key)) this.#insert(this.folders, { kind: 'folder', key, name: baseName(key) })
    } else if (rest.endsWith('/')) {
      if (!this.folders.some((entry) => entry.key === info.key)) this.#insert(this.folders, { kind: 'folder', key: info.key, name: baseName(info.key) })
    } else {
      this.objects = this.objects.filter((entry) => entry.key !== info.key)
      this.#insert(this.objects, { kind: 'object', key: info.key, name: baseName(info.key), info })
    }
  }

  remove(keys: Set<string>): void {
    this.folders = this.folders.filter((entry) => !keys.has(entry.key))
    this.objects = this.objects.filter((entry) => !keys.has(entry.key))
  }

  /** Keeps key order, but only among what has loaded: a key past the last loaded page would appear twice later. */
  #insert(list: Entry[], entry: Entry): void {
    const at = list.findIndex((other) => other.key > entry.key)
    if (at >= 0) list.splice(at, 0, entry)
    else if (!this.hasMore) list.push(entry)
  }

  async #page(token: string | undefined, signal?: AbortSignal): Promise<void> {
    this.loading = true
    this.error = null
    try {
      const page = await api.get<ObjectList>(`${apiBucket(this.backend, this.bucket)}/objects`, { prefix: this.folder + this.filter, token, max_keys: PAGE_SIZE }, signal)
      if (signal?.aborted) return
      for (const key of page.common_prefixes) this.folders.push({ kind: 'folder', key, name: baseName(key) })
      // The folder's own placeholder object ("photos/") is the folder itself, not a child of it.
      for (const info of page.objects) if (info.key !== this.folder) this.objects.push({ kind: 'object', key: info.key, name: baseName(info.key), info })
      this.token = page.is_truncated ? page.next_continuation_token : undefined
      this.loadedOnce = true
    } catch (err) {
      if (!signal?.aborted) this.error = err
    } finally {
      if (!signal?.aborted) this.loading = false
    }
  }
}
