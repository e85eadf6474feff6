// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * An app on one storage kind (fs in a temp dir, or the real RGW) with the
 * shipped `access.default: none`, an admin, and grants made the way an admin
 * makes them: through POST /api/admin/grants.
 */
import { expect } from 'bun:test'
import type { Client } from '../helpers/app.ts'
import { storageApp, type Kind, type StorageApp } from '../quotas/storage-fixture.ts'

export type GrantBody = { user_id?: string; group?: string; backend_id: string; bucket?: string; prefix?: string; access: 'read' | 'read-write' }
export type Grant = GrantBody & { id: string; origin: string; subject_type: string; subject: string; bucket: string; prefix: string }

export type GrantsApp = StorageApp & {
  admin: Client
  grant(body: GrantBody): Promise<Grant>
  revoke(id: string): Promise<void>
  /** The JSON of a successful call (fails the test otherwise). */
  ok<T>(method: string, path: string, as: Client, json?: unknown): Promise<T>
}

export async function grantsApp(kind: Kind, doc: Record<string, unknown> = {}): Promise<GrantsApp> {
  const app = await storageApp(kind, { doc: { access: { default: 'none' }, ...doc } })
  const admin = await app.t.user('admin')
  const ok = async <T>(method: string, path: string, as: Client, json?: unknown): Promise<T> => {
    const res = await app.t.call(method, path, { as, ...(json === undefined ? {} : { json }) })
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return (res.status === 204 ? undefined : await res.json()) as T
  }
  return {
    ...app,
    admin,
    ok,
    grant: (body) => ok<Grant>('POST', '/api/admin/grants', admin, body),
    async revoke(id) {
      const res = await app.t.call('DELETE', `/api/admin/grants/${id}`, { as: admin })
      expect(res.status).toBe(204)
    },
  }
}

/** The error code of a JSON error answer. */
export async function codeOf(res: Response): Promise<string | undefined> {
  const body = (await res
    .clone()
    .json()
    .catch(() => ({}))) as { error?: { code?: string } }
  return body.error?.code
}
