// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Turns what the user dropped or picked into files with their path inside any dropped folder.
 * Dropped folders are walked with the entries API (`webkitGetAsEntry`), which every current
 * browser has; folder pickers give `webkitRelativePath` instead.
 */

export interface PickedFile {
  file: File
  /** `photo.jpg`, or `holiday/day 1/photo.jpg` for a file inside a dropped or picked folder. */
  path: string
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject))
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject))
}

/** A directory reader hands out entries in batches (about 100 in Chrome) until it returns none. */
async function childrenOf(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader()
  const all: FileSystemEntry[] = []
  for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) all.push(...batch)
  return all
}

async function walk(entry: FileSystemEntry, parent: string, out: PickedFile[]): Promise<void> {
  const path = parent ? `${parent}/${entry.name}` : entry.name
  if (entry.isFile) {
    out.push({ file: await fileOf(entry as FileSystemFileEntry), path })
  } else if (entry.isDirectory) {
    for (const child of await childrenOf(entry as FileSystemDirectoryEntry)) await walk(child, path, out)
  }
}

/**
 * Reads a drop. The items must be turned into entries before the first `await`: the browser
 * empties the DataTransfer once the drop event handler returns.
 */
export function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = []
  const plain: PickedFile[] = []
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== 'file') continue
    const entry = item.webkitGetAsEntry?.()
    if (entry) {
      entries.push(entry)
    } else {
      const file = item.getAsFile()
      if (file) plain.push({ file, path: file.name })
    }
  }
  return (async () => {
    const out = [...plain]
    for (const entry of entries) await walk(entry, '', out)
    return out
  })()
}

export function filesFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }))
}

/** True while the user drags files (not text or links) over the page. */
export function draggingFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files')
}
