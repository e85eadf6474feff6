// SPDX-License-Identifier: AGPL-3.0-or-later
/** Shapes of the share API, taken from the server's schemas (src/shares/model.ts; see lib/types.ts), and link helpers. */
import type { Static } from '@sinclair/typebox'
import type {
  CreateShareBody,
  Disposition as DispositionSchema,
  InfoDTO,
  PreviewKind,
  SharedFile,
  ShareDTO,
  ShareListDTO,
  SharePolicyDTO,
  ShareStatus,
} from '../../../shares/model.ts'

export type { PreviewKind, SharedFile, ShareDTO, ShareStatus }

export type Disposition = Static<typeof DispositionSchema>
export type ShareList = Static<typeof ShareListDTO>
export type SharePolicy = SharePolicyDTO
export type CreateShare = CreateShareBody
/** What /s/{code}/info tells the recipient page. */
export type ShareInfo = InfoDTO

/** The link as recipients open it: the server's absolute URL when it has a public URL, else this origin's. */
export function absoluteLink(url: string): string {
  return new URL(url, window.location.origin).toString()
}

/** The last segment of a key or folder prefix. */
export function shareName(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}
