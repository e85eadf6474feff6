// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The dashboard's error catalogue: one stable snake_case code → one HTTP status
 * and a safe default message. Codes double as i18n keys in the web UI and are
 * listed in docs/reference/error-codes.md (generated; a test keeps it true).
 */
export const ERROR_CATALOGUE = {
  bad_request: [400, 'The request is not valid.'],
  invalid_bucket_name: [400, 'Bucket names are 3–63 characters of a-z, 0-9, "." and "-", starting and ending with a letter or digit.'],
  invalid_bucket: [400, 'The destination bucket is not valid.'],
  invalid_key: [400, 'The object key is not valid.'],
  invalid_prefix: [400, 'A prefix must be empty or end with "/".'],
  invalid_bucket_prefix: [400, 'A bucket-name prefix is 1–62 characters of a-z, 0-9, "." and "-", starting with a letter or digit.'],
  invalid_metadata: [400, 'The metadata is not valid.'],
  invalid_tag: [400, 'A tag is not valid.'],
  too_many_tags: [400, 'An object can have at most 10 tags.'],
  invalid_cors: [400, 'The CORS rules are not valid.'],
  invalid_policy: [400, 'The bucket policy is not valid JSON.'],
  invalid_lifecycle: [400, 'The lifecycle rules are not valid.'],
  invalid_quota: [400, 'The quota is not valid.'],
  invalid_request: [400, 'The request is not valid.'],
  invalid_backend: [400, 'The backend settings are not valid.'],
  invalid_grant: [400, 'The grant is not valid.'],
  weak_password: [400, 'The password does not meet the password policy.'],
  password_reused: [400, 'The new password must differ from the current one.'],
  not_local: [400, 'This account signs in through another identity provider.'],
  mode_disabled: [400, 'This sign-in mode is disabled.'],
  self_delete: [400, 'You cannot delete your own account.'],
  static_user: [400, 'The break-glass admin is managed in the config file.'],
  unauthorized: [401, 'Sign in first.'],
  invalid_credentials: [401, 'Wrong username or password.'],
  password_mismatch: [401, 'The password is wrong.'],
  password_required: [401, 'This share needs a password.'],
  oidc_failed: [401, 'Single sign-on failed.'],
  forbidden: [403, 'You do not have permission to do that.'],
  admin_only_scope: [403, 'Only administrators grant bucket-name prefixes and owner access.'],
  csrf_invalid: [403, 'The request lacked a valid CSRF token; reload the page.'],
  self_role_change: [403, 'You cannot change your own role.'],
  password_change_required: [403, 'Change your password first.'],
  oidc_no_role: [403, 'Your account is not allowed to use Stowage.'],
  account_disabled: [403, 'This account is disabled.'],
  access_denied: [403, 'You have no access to this.'],
  read_only_access: [403, 'You have read-only access here.'],
  not_found: [404, 'Not found.'],
  method_not_allowed: [405, 'Method not allowed.'],
  conflict: [409, 'The request conflicts with the current state.'],
  username_taken: [409, 'That username is taken.'],
  email_taken: [409, 'That email address is in use.'],
  id_taken: [409, 'That id is taken.'],
  last_admin: [409, 'At least one enabled admin must remain.'],
  yaml_managed: [409, 'This is defined in the config file and cannot be changed here.'],
  bucket_not_empty: [409, 'The bucket is not empty.'],
  bucket_exists: [409, 'A bucket with that name already exists.'],
  size_tracking_disabled: [409, 'Size tracking is disabled for this bucket.'],
  grant_exists: [409, 'That account or group already has a grant on exactly this; change its access instead.'],
  expired: [410, 'This share has expired.'],
  revoked: [410, 'This share was revoked.'],
  exhausted: [410, 'This share reached its download limit.'],
  access_revoked: [410, 'The person who shared this no longer has access to it.'],
  length_required: [411, 'Content-Length is required.'],
  object_exists: [412, 'An object with that key already exists.'],
  precondition_failed: [412, 'A precondition failed.'],
  too_large: [413, 'The request body is too large.'],
  too_many_keys: [413, 'Too many keys in one request.'],
  unsupported_media_type: [415, 'Unsupported content type.'],
  bad_range: [416, 'The requested range is not satisfiable.'],
  account_locked: [429, 'Too many failed sign-ins; the account is locked for a while.'],
  rate_limited: [429, 'Too many requests; slow down.'],
  internal: [500, 'Something went wrong on our side.'],
  session_error: [500, 'The session could not be created.'],
  not_supported: [501, 'This backend does not support that.'],
  backend_error: [502, 'The storage backend failed.'],
  backend_unavailable: [503, 'The storage backend is unreachable.'],
  secret_key_unset: [503, 'No master key is configured, so secrets cannot be sealed.'],
  store_unavailable: [503, 'The database is unavailable.'],
  s3_proxy_disabled: [503, 'The S3 proxy is disabled.'],
  oidc_unavailable: [503, 'Single sign-on is unavailable right now.'],
  quota_exceeded: [507, 'The bucket quota would be exceeded.'],
} as const satisfies Record<string, readonly [number, string]>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CATALOGUE[code][1])
    this.status = ERROR_CATALOGUE[code][0]
  }
}

/** `throw fail('not_found', 'No such bucket')` — the one way handlers report errors. */
export function fail(code: ErrorCode, message?: string, detail?: unknown, headers?: Record<string, string>): AppError {
  return new AppError(code, message, detail, headers)
}

export function errorBody(code: ErrorCode, message: string, detail?: unknown): string {
  return JSON.stringify({ error: { code, message, detail: detail ?? '' } })
}

export function errorResponse(err: AppError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(errorBody(err.code, err.message, err.detail), {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...err.headers, ...extraHeaders },
  })
}
