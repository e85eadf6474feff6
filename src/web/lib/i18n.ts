// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * Every user-facing string of the web UI lives here, so a translation is one more catalogue object
 * (users asked for one string catalogue from day one: peers.md §3.8). Error codes from the API double
 * as keys under `errors`; a code this build does not know falls back to the server's own message.
 */
import { ApiError } from './api-error.ts'

const en = {
  app: {
    name: 'Stowage',
    loading: 'Loading…',
    skipToContent: 'Skip to content',
    loadFailedTitle: 'Stowage could not start',
    chunkFailed: 'Part of the app failed to load, probably because Stowage was updated. Reload the page.',
    reload: 'Reload',
    retry: 'Try again',
  },
  nav: {
    label: 'Main',
    openMenu: 'Open menu',
    closeMenu: 'Close menu',
    sectionAccount: 'Account',
    sectionAdmin: 'Administration',
    profile: 'Profile',
    users: 'Users',
  },
  theme: {
    system: 'System theme',
    light: 'Light theme',
    dark: 'Dark theme',
    toggle: '{current}. Switch to {next}.',
  },
  account: {
    menu: 'Account menu',
    profile: 'Profile',
    signOut: 'Sign out',
  },
  common: {
    cancel: 'Cancel',
    close: 'Close',
    save: 'Save',
    optional: 'optional',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'Could not copy. Select the text and copy it by hand.',
    generate: 'Generate',
    showPassword: 'Show password',
    never: 'Never',
    empty: '—',
    all: 'All',
  },
  roles: {
    admin: 'Admin',
    user: 'User',
    readonly: 'Read-only',
  },
  roleHelp: {
    admin: 'Manages users, backends and settings, and can do everything a user can.',
    user: 'Browses, uploads, changes and shares objects in every bucket.',
    readonly: 'Browses and downloads; cannot change anything.',
  },
  source: {
    local: 'Local account',
    oidc: 'Single sign-on ({host})',
    static: 'Built-in admin (config file)',
  },
  login: {
    title: 'Sign in to Stowage',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    sso: 'Sign in with {name}',
    ssoUnavailable: 'Single sign-on is unavailable right now.',
    ssoRetry: 'Try {name} again',
    or: 'or',
    noModes: 'No sign-in method is enabled. Ask the person who runs this Stowage.',
    configFailed: 'Could not load the sign-in options.',
  },
  password: {
    title: 'Change password',
    forced: 'Choose a new password before you continue.',
    current: 'Current password',
    new: 'New password',
    confirm: 'Repeat new password',
    hint: 'A long passphrase of several words is easiest to remember.',
    mismatch: 'The two new passwords are different.',
    submit: 'Change password',
    changed: 'Your password was changed.',
    notLocal: 'You sign in with {source}; your password is managed there.',
  },
  profile: {
    title: 'Profile',
    username: 'Username',
    email: 'Email',
    role: 'Role',
    source: 'Signs in with',
    id: 'User ID',
    changePassword: 'Change password',
    mustChange: 'You must change your password.',
    staticNotice: 'You are signed in as the built-in admin from the config file. Use it to repair access, then sign in with a normal account.',
  },
  home: {
    title: 'Home',
    greeting: 'Welcome, {name}',
    intro: 'Stowage puts one dashboard and one S3 endpoint in front of your S3-compatible storage.',
    signedInAs: 'You are signed in as {role}.',
    profileLink: 'See your profile',
    usersLink: 'Manage users',
  },
  notFound: {
    title: 'Page not found',
    body: 'There is nothing at {path}.',
    home: 'Go to the start page',
  },
  forbidden: {
    title: 'No access',
    body: 'Only administrators can open this page.',
  },
  pager: {
    label: 'Pages',
    range: '{from}–{to} of {total}',
    rangeOpen: '{from}–{to}',
    previous: 'Previous page',
    next: 'Next page',
  },
  users: {
    title: 'Users',
    new: 'New user',
    search: 'Search users',
    searchPlaceholder: 'Username or email',
    roleFilter: 'Role',
    statusFilter: 'Status',
    enabled: 'Enabled',
    disabled: 'Disabled',
    you: 'you',
    locked: 'Locked',
    lockedUntil: 'until {time}',
    mustChange: 'Must change password',
    empty: 'No users match these filters.',
    caption: 'Users',
    col: {
      user: 'User',
      role: 'Role',
      status: 'Status',
      lastLogin: 'Last sign-in',
      created: 'Created',
      actions: 'Actions',
    },
    action: {
      edit: 'Edit {name}',
      resetPassword: 'Reset password of {name}',
      unlock: 'Unlock {name}',
      delete: 'Delete {name}',
    },
    selfRoleHint: 'You cannot change your own role or disable yourself.',
    selfDeleteHint: 'You cannot delete yourself.',
    create: {
      title: 'New user',
      username: 'Username',
      email: 'Email',
      password: 'Initial password',
      passwordHint: 'Share it through a private channel.',
      role: 'Role',
      mustChange: 'Ask for a new password at first sign-in',
      submit: 'Create user',
      done: 'User {name} created.',
    },
    edit: {
      title: 'Edit {name}',
      email: 'Email',
      role: 'Role',
      enabled: 'Account enabled',
      enabledHint: 'A disabled user cannot sign in.',
      done: 'Saved changes to {name}.',
    },
    reset: {
      title: 'Reset password of {name}',
      password: 'New password',
      hint: 'Share it through a private channel.',
      submit: 'Reset password',
      done: 'Password of {name} was reset.',
    },
    unlocked: '{name} was unlocked.',
    remove: {
      title: 'Delete {name}?',
      body: 'The account and its sessions are removed. This cannot be undone.',
      submit: 'Delete user',
      done: '{name} was deleted.',
    },
  },
  errors: {
    network_error: 'Cannot reach Stowage. Check your connection and try again.',
    unknown: 'Something went wrong (HTTP {status}).',
    unexpected: 'Something unexpected went wrong. Reload the page and try again.',
    retryIn: 'Try again in {time}.',
    retryLater: 'Wait a little and try again.',
    account_disabled: 'This account is disabled in Stowage. Ask an administrator to enable it.',
    account_locked: 'This account is locked after too many failed sign-ins. Wait, or ask an administrator to unlock it.',
    backend_error: 'The storage backend reported an error.',
    bad_range: 'The requested byte range is outside the object.',
    bad_request: 'The request was not valid.',
    conflict: 'That conflicts with something that already exists.',
    csrf_invalid: 'Your session token is missing or out of date. Reload the page and try again.',
    email_taken: 'Another user already has this email address.',
    exhausted: 'This share link has reached its download limit.',
    expired: 'This share link has expired.',
    forbidden: 'You are not allowed to do that.',
    id_taken: 'A backend with this ID already exists.',
    internal: 'Stowage hit an internal error. Try again; if it persists, check the server log.',
    invalid_bucket: 'That bucket cannot be used as the destination.',
    invalid_bucket_name: 'Bucket names have 3–63 characters: lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.',
    invalid_cors: 'The CORS rules are not valid.',
    invalid_credentials: 'Wrong username or password.',
    invalid_key: 'That object name is not allowed.',
    invalid_lifecycle: 'The lifecycle rules are not valid.',
    invalid_metadata: 'The metadata is not valid: keys must not be empty or contain control characters.',
    invalid_policy: 'The bucket policy is not valid JSON.',
    invalid_prefix: 'A folder prefix must be empty or end with "/".',
    invalid_quota: 'The quota is not valid: sizes cannot be negative and the soft limit cannot exceed the hard limit.',
    invalid_request: 'The request was not valid.',
    invalid_tag: 'A tag is not valid: keys have 1–128 characters, values at most 256.',
    k8s_managed: 'This backend is managed by Kubernetes and cannot be changed here.',
    last_admin: 'This is the last enabled administrator. Make someone else an administrator first.',
    length_required: 'The upload did not say how large it is.',
    mode_disabled: 'This sign-in method is turned off.',
    not_found: 'Not found. It may have been deleted.',
    not_local: 'This account signs in through another system; its password cannot be changed here.',
    not_supported: 'The backend does not support this.',
    object_exists: 'An object with this name already exists.',
    oidc_failed: 'Single sign-on failed. Try again.',
    oidc_no_role: 'Your single sign-on account is not allowed to use Stowage. Ask an administrator to map your groups to a role.',
    oidc_unavailable: 'Single sign-on is unavailable right now.',
    password_change_required: 'Change your password before you continue.',
    password_mismatch: 'The password is incorrect.',
    password_required: 'This share link needs a password.',
    password_reused: 'Choose a password different from the current one.',
    payload_too_large: 'That is too large to send.',
    quota_exceeded: 'The bucket quota is full.',
    rate_limited: 'Too many attempts.',
    register_failed: 'Registration failed.',
    revoked: 'This share link was revoked.',
    s3_proxy_disabled: 'The S3 proxy is turned off.',
    secret_key_unset: 'The server has no secret key configured, so secrets cannot be stored.',
    self_delete: 'You cannot delete your own account.',
    self_role_change: 'You cannot change your own role.',
    session_error: 'Your session could not be saved. Try again.',
    size_tracking_disabled: 'Size tracking is turned off for this bucket.',
    static_user: 'The built-in admin from the config file cannot do that.',
    store_unavailable: 'The database is unavailable right now.',
    too_large: 'That is too large.',
    too_many_keys: 'Too many objects selected at once.',
    too_many_requests: 'Too many requests.',
    too_many_tags: 'An object can have at most 10 tags.',
    unauthorized: 'Your session has ended. Sign in again.',
    username_taken: 'This username is taken.',
    weak_password: 'The password is too weak.',
    yaml_managed: 'This backend is defined in the config file and cannot be changed here.',
  },
} as const

type Catalogue = typeof en

/** Dotted paths to every string in the catalogue, e.g. `'users.create.title'`. */
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>
}[keyof T & string]

export type MessageKey = Leaves<Catalogue>
export type Vars = Record<string, string | number>

/** BCP 47 tag of the active catalogue; Intl formatters use it so dates and units match the words. */
export const locale = 'en'

function lookup(key: string): string | undefined {
  let node: unknown = en
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string' ? node : undefined
}

function interpolate(text: string, vars?: Vars): string {
  if (!vars) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
}

export function t(key: MessageKey, vars?: Vars): string {
  return interpolate(lookup(key) ?? key, vars)
}

export function hasErrorCode(code: string): boolean {
  return Object.hasOwn(en.errors, code)
}

function formatSeconds(seconds: number): string {
  const [value, unit] = seconds >= 5400 ? [Math.ceil(seconds / 3600), 'hour'] : seconds >= 90 ? [Math.ceil(seconds / 60), 'minute'] : [seconds, 'second']
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value)
}

/** One sentence for the user: the catalogued text for a known code, else the server's message. */
export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return t('errors.unexpected')
  const known = hasErrorCode(err.code) ? lookup(`errors.${err.code}`) : undefined
  const base = known ?? (err.message || t('errors.unknown', { status: err.status }))
  if (err.retryAfter) return `${base} ${t('errors.retryIn', { time: formatSeconds(err.retryAfter) })}`
  return err.status === 429 ? `${base} ${t('errors.retryLater')}` : base
}

/**
 * The server's `detail`, flattened to lines: a plain string, or a list of validation problems
 * (`[{path, message}]`) as schema validators produce them.
 */
export function errorDetails(err: unknown): string[] {
  if (!(err instanceof ApiError) || err.detail == null || err.detail === '') return []
  const detail = err.detail
  if (typeof detail === 'string') return [detail]
  const items = Array.isArray(detail) ? detail : [detail]
  return items.map((item) => {
    if (typeof item === 'string') return item
    if (typeof item === 'object' && item !== null) {
      const { path, message } = item as { path?: unknown; message?: unknown }
      if (typeof message === 'string') return typeof path === 'string' && path ? `${path}: ${message}` : message
    }
    return JSON.stringify(item)
  })
}

/** The message and its detail in one string, for the small space under a form field. */
export function errorText(err: unknown): string {
  return [errorMessage(err), ...errorDetails(err)].join(' ')
}
