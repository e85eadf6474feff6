// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The object browser's column sort. Until one is chosen the rows keep S3's order (keys ascending):
 * it is the only order in which the pages loaded so far are the start of the whole folder, so
 * "load more" only ever appends. A chosen sort orders the rows loaded so far. Folders stay above
 * objects either way: they have no size or date of their own to sort by.
 */
import type { Entry, FolderEntry, ObjectEntry } from './listing.svelte.ts'

export type SortColumn = 'name' | 'size' | 'modified'
/** Spelled as `aria-sort` spells it, so the header can use it as is. */
export type SortDirection = 'ascending' | 'descending'
export type Sort = { column: SortColumn; direction: SortDirection }

/** What the rows are in when nothing was chosen: S3 lists keys in ascending order. */
export const SERVER_ORDER: Sort = { column: 'name', direction: 'ascending' }

const KEY = 'stowage.browser.sort'
const COLUMNS: readonly SortColumn[] = ['name', 'size', 'modified']
// "file2" before "file10", and "a" next to "A": the order people expect of names, in their language.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

export function readSort(): Sort | null {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(KEY) ?? 'null')
    if (typeof saved !== 'object' || saved === null) return null
    const { column, direction } = saved as Record<string, unknown>
    const known = COLUMNS.find((c) => c === column)
    return known && (direction === 'ascending' || direction === 'descending') ? { column: known, direction } : null
  } catch {
    // Blocked storage or a value from another version: S3's order is the right fallback.
    return null
  }
}

export function saveSort(sort: Sort | null): void {
  try {
    if (sort) localStorage.setItem(KEY, JSON.stringify(sort))
    else localStorage.removeItem(KEY)
  } catch {
    // Not kept across reloads, but still applied on this page.
  }
}

/** A click on a column header: the active column turns around, another one starts ascending. */
export function nextSort(current: Sort | null, column: SortColumn): Sort {
  const active = current ?? SERVER_ORDER
  if (active.column !== column) return { column, direction: 'ascending' }
  return { column, direction: active.direction === 'ascending' ? 'descending' : 'ascending' }
}

function byName(a: Entry, b: Entry): number {
  // Names the collator calls equal ("a.txt", "A.txt") still get one fixed order.
  return collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

function valueOf(entry: ObjectEntry, column: 'size' | 'modified'): number {
  if (column === 'size') return entry.size
  return Number.isNaN(entry.modified) ? 0 : entry.modified
}

export function sortEntries(folders: FolderEntry[], objects: ObjectEntry[], sort: Sort | null): Entry[] {
  // No copy when one side is empty: a big folder grows by a page at a time, and copying its whole
  // listing for every page is garbage the browser collects in the middle of scrolling.
  if (!sort) return folders.length === 0 ? objects : objects.length === 0 ? folders : [...folders, ...objects]
  const sign = sort.direction === 'ascending' ? 1 : -1
  if (sort.column === 'name') return [...folders.toSorted((a, b) => sign * byName(a, b)), ...objects.toSorted((a, b) => sign * byName(a, b))]
  const column = sort.column
  const sorted = objects.toSorted((a, b) => sign * (valueOf(a, column) - valueOf(b, column)) || byName(a, b))
  return [...folders.toSorted(byName), ...sorted]
}
