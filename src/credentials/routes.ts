// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Virtual S3 credentials (self-service and admin), anonymous bindings and the
 * admin's merged read-only views. The routes stay registered when the proxy
 * is disabled and answer 503 `s3_proxy_disabled` after the access check, so
 * the authorization matrix covers them either way.
 */
import { Elysia } from 'elysia'
import { NEED } from '../access/needs.ts'
import type { Guard } from '../auth/guard.ts'
import { BucketParams } from '../buckets/model.ts'
import { fail } from '../http/errors.ts'
import type { AnonymousService } from './anonymous.ts'
import {
  AdminCreateCredentialBody,
  AnonymousBody,
  AnonymousDTO,
  AnonymousList,
  CreateCredentialBody,
  CredentialDTO,
  CredentialList,
  CredentialParams,
  MergedAnonymousList,
  MergedCredentialList,
  PatchCredentialBody,
} from './model.ts'
import type { CredentialService } from './service.ts'
import type { ProxyUrls } from './urls.ts'

export type CredentialRouteDeps = {
  guard: Guard
  credentials: CredentialService
  anonymous: AnonymousService
  enabled: boolean
  /** Proxy URLs as seen from this dashboard request (see urls.ts). */
  urls(req: Request): ProxyUrls
}

const ME = '/api/me/s3-credentials'
const ADMIN = '/api/admin/s3-credentials'
const ANON = '/api/admin/s3-anonymous'

const SCOPE_NOTE = [
  '`buckets` items are `{"bucket","access"}` (an existing bucket; a plain name means read-write) or, granted by admins only, `{"prefix","access"}` (every bucket whose name starts with it, existing or created later).',
  'Access is `read`, `read-write` or, granted by admins only, `owner` (also creates, deletes and configures the buckets it covers).',
  'On the self-service routes a prefix or owner entry is 403 `admin_only_scope` unless the key already had it with at least that access, and each bucket needs a grant of yours at that access.',
  'The backend may be of either type: S3 backends are forwarded to, local-directory backends served by the S3 engine.',
  "Whatever the scope says, a key owned by a user never does more than the owner's grants allow at the time of each request (folder grants included).",
].join(' ')

export function credentialRoutes(d: CredentialRouteDeps) {
  const on = (): void => {
    if (!d.enabled) throw fail('s3_proxy_disabled')
  }
  const me = ['s3-credentials']
  const admin = ['admin: s3 proxy']
  return new Elysia()
    .use(d.guard)
    .get(
      ME,
      async ({ actor, request }) => {
        on()
        return { credentials: await d.credentials.list(d.urls(request), actor.id) }
      },
      { access: 'any', response: { 200: CredentialList }, detail: { tags: me, summary: 'Your virtual S3 credentials (secrets are never listed)' } },
    )
    .post(
      ME,
      async ({ actor, body, request, set, origin }) => {
        on()
        const out = await d.credentials.create(actor, body, origin, { self: true }, d.urls(request))
        set.status = 201
        return out
      },
      {
        access: 'writer',
        needs: NEED.credentialScope(async (r) => (r.body as { backend_id: string }).backend_id),
        body: CreateCredentialBody,
        response: { 201: CredentialDTO },
        detail: { tags: me, summary: 'Mint a virtual S3 credential for yourself', description: `The answer carries \`secret_key\` once. ${SCOPE_NOTE}` },
      },
    )
    .patch(
      `${ME}/:akid`,
      async ({ actor, params, body, request, origin }) => {
        on()
        return d.credentials.update(actor, params.akid, body, origin, { self: true }, d.urls(request))
      },
      {
        access: 'writer',
        needs: NEED.credentialScope((r) => d.credentials.backendOf(r.params.akid ?? '', r.actor.id)),
        params: CredentialParams,
        body: PatchCredentialBody,
        response: { 200: CredentialDTO },
        detail: { tags: me, summary: 'Change the scope, description, expiry or enabled state of your credential', description: SCOPE_NOTE },
      },
    )
    .delete(
      `${ME}/:akid`,
      async ({ actor, params, set, origin }) => {
        on()
        await d.credentials.remove(actor, params.akid, origin, { self: true })
        set.status = 204
      },
      { access: 'writer', params: CredentialParams, detail: { tags: me, summary: 'Revoke your credential (effective immediately)' } },
    )
    .get(
      ADMIN,
      async ({ request }) => {
        on()
        return { credentials: await d.credentials.list(d.urls(request)) }
      },
      { access: 'admin', response: { 200: CredentialList }, detail: { tags: admin, summary: 'Every virtual S3 credential' } },
    )
    .post(
      ADMIN,
      async ({ actor, body, request, set, origin }) => {
        on()
        const out = await d.credentials.create(actor, body, origin, { self: false }, d.urls(request))
        set.status = 201
        return out
      },
      {
        access: 'admin',
        body: AdminCreateCredentialBody,
        response: { 201: CredentialDTO },
        detail: {
          tags: admin,
          summary: 'Mint a virtual S3 credential, optionally owned by a user',
          description: `The answer carries \`secret_key\` once. ${SCOPE_NOTE}`,
        },
      },
    )
    .patch(
      `${ADMIN}/:akid`,
      async ({ actor, params, body, request, origin }) => {
        on()
        return d.credentials.update(actor, params.akid, body, origin, { self: false }, d.urls(request))
      },
      {
        access: 'admin',
        params: CredentialParams,
        body: PatchCredentialBody,
        response: { 200: CredentialDTO },
        detail: { tags: admin, summary: 'Change any credential', description: SCOPE_NOTE },
      },
    )
    .delete(
      `${ADMIN}/:akid`,
      async ({ actor, params, set, origin }) => {
        on()
        await d.credentials.remove(actor, params.akid, origin, { self: false })
        set.status = 204
      },
      { access: 'admin', params: CredentialParams, detail: { tags: admin, summary: 'Revoke any credential (effective immediately)' } },
    )
    .get(
      ANON,
      async ({ request }) => {
        on()
        return { bindings: await d.anonymous.list(d.urls(request)) }
      },
      { access: 'admin', response: { 200: AnonymousList }, detail: { tags: admin, summary: 'Anonymous read-only bucket bindings' } },
    )
    .post(
      ANON,
      ({ actor, body, request, origin }) => {
        on()
        return d.anonymous.upsert(actor, body, origin, d.urls(request))
      },
      {
        access: 'admin',
        body: AnonymousBody,
        response: { 200: AnonymousDTO },
        detail: {
          tags: admin,
          summary: 'Add or update an anonymous read-only binding',
          description:
            'Anonymous (unsigned) requests may then read the bucket through the proxy while `s3_proxy.anonymous_enabled` is true. A bucket name can be bound on one backend only (409 conflict otherwise).',
        },
      },
    )
    .delete(
      `${ANON}/:bid/:bucket`,
      async ({ params, set, origin }) => {
        on()
        await d.anonymous.remove(params.bid, params.bucket, origin)
        set.status = 204
      },
      { access: 'admin', params: BucketParams, detail: { tags: admin, summary: 'Remove an anonymous binding' } },
    )
    .get(
      '/api/admin/s3-proxy/credentials',
      async ({ request }) => {
        on()
        return { credentials: (await d.credentials.list(d.urls(request))).map((c) => ({ ...c, source: 'sqlite' as const })) }
      },
      {
        access: 'admin',
        response: { 200: MergedCredentialList },
        detail: { tags: admin, summary: 'Read-only view of every credential the proxy knows, with its source' },
      },
    )
    .get(
      '/api/admin/s3-proxy/anonymous',
      async ({ request }) => {
        on()
        return { bindings: (await d.anonymous.list(d.urls(request))).map((b) => ({ ...b, source: 'sqlite' as const })) }
      },
      {
        access: 'admin',
        response: { 200: MergedAnonymousList },
        detail: { tags: admin, summary: 'Read-only view of every anonymous binding the proxy knows, with its source' },
      },
    )
}
