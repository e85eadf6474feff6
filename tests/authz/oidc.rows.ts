// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The SSO routes are public (they are how one signs in). The matrix app has no
 * OIDC configured, so both answer 400 `mode_disabled` to everybody; the flows
 * themselves are tested against a real provider in tests/auth/oidc/.
 */
import { ALL, type Row } from './matrix.ts'

export const rows: Row[] = [
  { method: 'GET', route: '/auth/login/oidc', path: '/auth/login/oidc?next=/admin/users', expect: ALL(400) },
  { method: 'GET', route: '/auth/callback', path: '/auth/callback?code=x&state=y', expect: ALL(400) },
]
