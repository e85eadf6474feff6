// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Multipart uploads in progress, kept in localStorage so a reload (or a crash, or a lost session)
 * does not throw away the parts already sent. Only the upload id and the file's identity are kept;
 * which parts arrived is asked from the server on resume, so this record can never disagree with it.
 */
import type { FileIdentity } from './identity.ts'

const KEY = 'stowage.uploads.v1'

export interface ResumeRecord {
  id: string
  /** Records of one user are never offered to another user of the same browser. */
  userId: string
  backend: string
  bucket: string
  key: string
  uploadId: string
  partSize: number
  contentType: string
  file: FileIdentity
  createdAt: number
}

function readAll(): ResumeRecord[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]')
    return Array.isArray(parsed) ? (parsed as ResumeRecord[]) : []
  } catch {
    return []
  }
}

function writeAll(records: ResumeRecord[]): void {
  try {
    if (records.length === 0) localStorage.removeItem(KEY)
    else localStorage.setItem(KEY, JSON.stringify(records))
  } catch {
    // Storage blocked or full: the upload still works, it just cannot be resumed after a reload.
  }
}

export function recordsOf(userId: string): ResumeRecord[] {
  return readAll().filter((record) => record.userId === userId)
}

export function saveRecord(record: ResumeRecord): void {
  writeAll([...readAll().filter((other) => other.id !== record.id), record])
}

export function deleteRecord(id: string): void {
  writeAll(readAll().filter((record) => record.id !== id))
}
