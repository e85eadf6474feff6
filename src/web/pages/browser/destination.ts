// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * What is already in a copy or move's destination folder: the names that would be replaced, the
 * subfolders a picker offers, and free names for "keep both" ("report (1).pdf", "photos (1)/").
 */
import { api } from '../../lib/api.ts'
import { apiBucket, baseName } from '../../lib/paths.ts'
import type { ObjectList } from '../../lib/storage-types.ts'
import type { Destination, Item } from './operations.ts'

/** Pages of the destination read to find name clashes: 20 000 names, far more than a folder one copies into by hand. */
const MAX_PAGES = 20

export type Contents = { objects: Set<string>; folders: Set<string> }

/** The names of the objects and subfolders directly in the destination folder. */
export async function folderContents(to: Destination, signal?: AbortSignal): Promise<Contents> {
  const contents: Contents = { objects: new Set(), folders: new Set() }
  let token: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await api.get<ObjectList>(`${apiBucket(to.backend, to.bucket)}/objects`, { prefix: to.prefix, token, max_keys: 1000 }, signal)
    for (const prefix of list.common_prefixes) contents.folders.add(baseName(prefix))
    for (const object of list.objects) if (object.key !== to.prefix) contents.objects.add(baseName(object.key))
    token = list.is_truncated ? list.next_continuation_token : undefined
    if (!token) break
  }
  return contents
}

/** The items whose name is taken in the destination (an object by an object, a folder by a folder). */
export function clashes(items: Item[], contents: Contents): Item[] {
  return items.filter((item) => (item.kind === 'folder' ? contents.folders : contents.objects).has(baseName(item.key)))
}

/** "report.pdf" → "report (1).pdf", then (2)…, skipping names taken in the destination or given already. */
export function freeName(item: Item, contents: Contents, given: Set<string>): string {
  const name = baseName(item.key)
  const dot = item.kind === 'object' ? name.lastIndexOf('.') : -1
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
  const taken = item.kind === 'folder' ? contents.folders : contents.objects
  for (let n = 1; ; n++) {
    const candidate = `${stem} (${n})${ext}`
    if (!taken.has(candidate) && !given.has(candidate)) {
      given.add(candidate)
      return candidate
    }
  }
}
