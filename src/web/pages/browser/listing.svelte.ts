// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * One folder's listing, a page (1000 keys) at a time with the server's continuation token: the
 * table shows what has loaded and says so while more exists, never a silently cut list (peers.md
 * §3.2: buckets with 100k+ keys). Folders and objects are each kept in the server's key order;
 * sort.ts arranges them for display.
 */
import { api } from '../../lib/api.ts'
import { apiBucket, baseName } from '../../lib/paths.ts'
import type { ObjectInfo, ObjectList } from '../../lib/storage-types.ts'

export const PAGE_SIZE = 1000

export type FolderEntry = { kind: 'folder'; key: string; name: string }
/**
 * Only what a row shows and sorts by: a folder of 100 000 keys keeps this many entries alive, and
 * each field more (an ETag, a storage class, a date string) is more for the collector to walk and
 * move while the person scrolls.
 */
export type ObjectEntry = { kind: 'object'; key: string; name: string; size: number; modified: number; type: string | undefined }
export type Entry = FolderEntry | ObjectEntry

function objectEntry(info: ObjectInfo): ObjectEntry {
  const modified = info.last_modified ? Date.parse(info.last_modified) : Number.NaN
  return { kind: 'object', key: info.key, name: baseName(info.key), size: info.size, modified, type: info.content_type }
}
export class Listing {
  readonly backend: string
  readonly bucket: string
  /** The folder shown, "" or ending in "/". */
  readonly folder: string
  /** Typed filter text: the listing prefix is folder + filter. */
  readonly filter: string
  // Raw, not deep, state: a folder can hold thousands of entries, and they are only ever replaced
  // (a page appended, one entry added or removed), never changed in place.
  folders = $state.raw<FolderEntry[]>([])
  objects = $state.raw<ObjectEntry[]>([])
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
      if (!this.folders.some((entry) => entry.key === key)) this.folders = this.#inserted(this.folders, { kind: 'folder', key, name: baseName(key) })
    } else if (rest.endsWith('/')) {
      if (!this.folders.some((entry) => entry.key === info.key))
        this.folders = this.#inserted(this.folders, { kind: 'folder', key: info.key, name: baseName(info.key) })
    } else {
      const others = this.objects.filter((entry) => entry.key !== info.key)
      this.objects = this.#inserted(others, objectEntry(info))
    }
  }

  remove(keys: Set<string>): void {
    this.folders = this.folders.filter((entry) => !keys.has(entry.key))
    this.objects = this.objects.filter((entry) => !keys.has(entry.key))
  }

  /** Keeps key order, but only among what has loaded: a key past the last loaded page would appear twice later. */
  #inserted<T extends Entry>(list: T[], entry: T): T[] {
    const at = list.findIndex((other) => other.key > entry.key)
    if (at >= 0) return list.toSpliced(at, 0, entry)
    return this.hasMore ? list : [...list, entry]
  }

  async #page(token: string | undefined, signal?: AbortSignal): Promise<void> {
    this.loading = true
    this.error = null
    try {
      const page = await api.get<ObjectList>(
        `${apiBucket(this.backend, this.bucket)}/objects`,
        { prefix: this.folder + this.filter, token, max_keys: PAGE_SIZE },
        signal,
      )
      if (signal?.aborted) return
      this.folders = this.folders.concat(page.common_prefixes.map((key): FolderEntry => ({ kind: 'folder', key, name: baseName(key) })))
      // The folder's own placeholder object ("photos/") is the folder itself, not a child of it.
      const objects: ObjectEntry[] = []
      for (const info of page.objects) if (info.key !== this.folder) objects.push(objectEntry(info))
      this.objects = this.objects.concat(objects)
      this.token = page.is_truncated ? page.next_continuation_token : undefined
      this.loadedOnce = true
    } catch (err) {
      if (!signal?.aborted) this.error = err
    } finally {
      if (!signal?.aborted) this.loading = false
    }
  }
}
