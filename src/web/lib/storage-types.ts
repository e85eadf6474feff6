// SPDX-License-Identifier: AGPL-3.0-or-later
/** JSON shapes of the backend, bucket and object routes (anchor.md §4.3), taken from the server's schemas (see types.ts). */
import type { Static } from '@sinclair/typebox'
import type { CorsRule, LifecycleRule } from '../../bucket-settings/model.ts'
import type { Capabilities, BackendStatusDTO, HealthDTO } from '../../backends/model.ts'
import type { BucketDTO } from '../../buckets/model.ts'
import type { BulkDeleteDTO, CopyPrefixEvent, DeletePrefixEvent, ListDTO, MultipartCreatedDTO, ObjectDTO, PartDTO, VersionsDTO } from '../../objects/model.ts'
import type { PinDTO } from '../../pins/model.ts'
import type { QuotaDTO } from '../../quotas/model.ts'
import type { PartialReason, SearchDTO } from '../../search/model.ts'
import type { PrefixSizeDTO, TrackingDTO } from '../../sizes/model.ts'

export type { Capabilities, CopyPrefixEvent, CorsRule, DeletePrefixEvent, LifecycleRule }

/** An entry of GET /api/backends. */
export type BackendStatus = Static<typeof BackendStatusDTO>
export type BackendHealth = Static<typeof HealthDTO>
export type Bucket = BucketDTO
export type ObjectInfo = ObjectDTO
export type ObjectList = Static<typeof ListDTO>
export type ObjectVersion = VersionsDTO['versions'][number]
export type BulkDeleteResult = Static<typeof BulkDeleteDTO>
export type Quota = QuotaDTO
export type SizeTracking = TrackingDTO
export type PrefixSize = PrefixSizeDTO
export type Pin = PinDTO
export type SearchPartialReason = PartialReason
export type SearchResult = SearchDTO
export type MultipartCreated = Static<typeof MultipartCreatedDTO>
export type UploadedPart = Static<typeof PartDTO>
