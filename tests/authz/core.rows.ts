// SPDX-License-Identifier: AGPL-3.0-or-later
import { ADMIN, ALL, SIGNED_IN, type Row } from './matrix.ts'

export const rows: Row[] = [
  { method: 'GET', route: '/healthz', expect: ALL(200) },
  { method: 'GET', route: '/readyz', expect: ALL(200) },
  { method: 'GET', route: '/metrics', expect: ALL(200) },
  { method: 'GET', route: '/openapi', expect: ALL(200) },
  { method: 'GET', route: '/openapi/json', expect: ALL(200) },
  { method: 'GET', route: '/swagger', expect: ALL(200) },
  { method: 'GET', route: '/*', path: '/admin/users', expect: ALL(200) },
  { method: 'HEAD', route: '/*', path: '/', expect: ALL(200) },
  { method: 'POST', route: '/auth/login/local', body: { username: 'nobody', password: 'nothing' }, expect: ALL(401), public: true },
  { method: 'POST', route: '/auth/logout', expect: ALL(200), public: true },
  { method: 'GET', route: '/api/auth/config', expect: ALL(200) },
  { method: 'GET', route: '/api/me', expect: SIGNED_IN(200) },
  { method: 'POST', route: '/api/me/password', body: { current_password: 'wrong', new_password: 'another long password' }, expect: SIGNED_IN(401) },
  { method: 'GET', route: '/api/admin/users', expect: ADMIN(200) },
  {
    method: 'POST',
    route: '/api/admin/users',
    body: (fx) => ({ username: `new${fx.seq()}`, password: 'a long enough password', role: 'user' }),
    expect: ADMIN(201),
  },
  { method: 'GET', route: '/api/admin/users/:id', path: async (fx) => `/api/admin/users/${await fx.victim()}`, expect: ADMIN(200) },
  {
    method: 'PATCH',
    route: '/api/admin/users/:id',
    path: async (fx) => `/api/admin/users/${await fx.victim()}`,
    body: { role: 'readonly' },
    expect: ADMIN(200),
  },
  {
    method: 'POST',
    route: '/api/admin/users/:id/reset-password',
    path: async (fx) => `/api/admin/users/${await fx.victim()}/reset-password`,
    body: { new_password: 'a brand new password' },
    expect: ADMIN(200),
  },
  { method: 'POST', route: '/api/admin/users/:id/unlock', path: async (fx) => `/api/admin/users/${await fx.victim()}/unlock`, expect: ADMIN(200) },
  { method: 'DELETE', route: '/api/admin/users/:id', path: async (fx) => `/api/admin/users/${await fx.victim()}`, expect: ADMIN(204) },
  { method: 'GET', route: '/api/admin/audit', expect: ADMIN(200) },
  { method: 'GET', route: '/api/admin/audit.csv', expect: ADMIN(200) },
]
