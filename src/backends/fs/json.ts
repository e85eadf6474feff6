// SPDX-License-Identifier: AGPL-3.0-or-later
/** Small JSON records (sidecars, upload and part records), replaced atomically. */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { tempPath, type FsContext } from './context.ts'
import { isErrno } from './errors.ts'

/** Null when the file is missing or not JSON: a torn or foreign record counts as none. */
export async function readJson<T>(path: string): Promise<T | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return null
    throw err
  }
  try {
    return JSON.parse(text) as T
  } catch {
    return null
  }
}

/** Writes `value` to a synced staging file, ready for `placeFile`. */
export async function stageJson(ctx: FsContext, value: unknown): Promise<string> {
  const tmp = tempPath(ctx, 'json')
  const fh = await open(tmp, 'wx')
  try {
    await fh.writeFile(JSON.stringify(value))
    await fh.sync()
  } finally {
    await fh.close()
  }
  return tmp
}

export async function placeFile(tmp: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await rename(tmp, path)
}

export async function writeJson(ctx: FsContext, path: string, value: unknown): Promise<void> {
  const tmp = await stageJson(ctx, value)
  try {
    await placeFile(tmp, path)
  } finally {
    await rm(tmp, { force: true })
  }
}
