// SPDX-License-Identifier: AGPL-3.0-or-later
/**
 * The single source of truth for config keys: type, default and meaning.
 * `config.yaml` and `docs/reference/config.md` are generated from this file
 * (`bun scripts/gen-docs.ts`), and a test fails when they drift.
 * Secrets never live here: keys ending in `_env` name an environment variable.
 */
import { Type as T, type Static, type TSchema } from '@sinclair/typebox'
import { ROLES } from '../auth/roles.ts'
import { DURATION_PATTERN } from '../lib/duration.ts'

/** A duration written like "15m" in YAML; the loader hands out milliseconds. */
function Duration(def: string, description: string) {
  return T.Unsafe<number>(T.String({ pattern: DURATION_PATTERN, default: def, description, duration: true }))
}
const Str = (def: string, description: string, extra: object = {}) => T.String({ default: def, description, ...extra })
const Bool = (def: boolean, description: string) => T.Boolean({ default: def, description })
const Int = (def: number, description: string, extra: object = {}) => T.Integer({ default: def, description, ...extra })
const Num = (def: number, description: string, extra: object = {}) => T.Number({ default: def, description, ...extra })
const StrList = (def: string[], description: string) => T.Array(T.String(), { default: def, description })
const Section = <P extends Record<string, TSchema>>(props: P, description: string) => T.Object(props, { additionalProperties: false, default: {}, description })

/** Sign-in modes; `GET /api/auth/config` lists the enabled ones. */
export const AuthMode = T.Union([T.Literal('local'), T.Literal('oidc'), T.Literal('static')])

export const BackendConfig = T.Object(
  {
    id: T.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      description: 'Stable identifier used in URLs and the database. Lowercase letters, digits, `-` and `_`.',
    }),
    name: Str('', 'Display name; defaults to the id.'),
    type: T.Union([T.Literal('s3'), T.Literal('s3v4'), T.Literal('fs')], {
      description: '`s3` for any S3-compatible upstream (`s3v4` is accepted as an alias), `fs` for a local directory.',
    }),
    endpoint: Str(
      '',
      's3 only: upstream base URL, e.g. `http://127.0.0.1:9000`. An https endpoint needs a certificate from a CA the system trusts, or from one in the file NODE_EXTRA_CA_CERTS names.',
    ),
    region: Str('us-east-1', 's3 only: signing region.'),
    path_style: Bool(true, 's3 only: path-style addressing (`http://host/bucket/key`); most self-hosted servers need it.'),
    access_key_env: Str('', 's3 only: name of the environment variable holding the access key.'),
    secret_key_env: Str('', 's3 only: name of the environment variable holding the secret key.'),
    root: Str('', 'fs only: directory whose subdirectories are the buckets.'),
  },
  { additionalProperties: false },
)
export type BackendConfig = Static<typeof BackendConfig>

export const ConfigSchema = T.Object(
  {
    server: Section(
      {
        listen: Str(':8080', 'Dashboard listener, `host:port` or `:port`.'),
        public_url: Str(
          '',
          'External URL of the dashboard (e.g. `https://stowage.example.com`). Used for OIDC redirects, share links and same-origin checks; empty means "whatever Host the request carried".',
        ),
        shutdown_timeout: Duration('10s', 'How long SIGTERM/SIGINT waits for in-flight requests before closing connections.'),
        trusted_proxies: StrList(
          [],
          'CIDRs or IPs of reverse proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed. Empty trusts nobody (the original trusted everybody).',
        ),
        secret_key_file: Str(
          '',
          'File holding the 32-byte master key (hex) that seals backend and credential secrets. Created with mode 0600 when missing. Empty means `stowage.key` next to the database. `STOWAGE_SECRET_KEY` (64 hex chars or base64) wins over the file.',
        ),
      },
      'HTTP server.',
    ),
    log: Section(
      {
        level: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error')], {
          default: 'info',
          description: 'Minimum level written to stdout.',
        }),
        format: T.Union([T.Literal('json'), T.Literal('text')], {
          default: 'json',
          description: '`json` writes one JSON object per line; `text` is for humans at a terminal.',
        }),
        access_level: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error'), T.Literal('off')], {
          default: 'info',
          description:
            'Level of the access log: one line per request on both listeners (method, route template or S3 operation, status, bytes, duration, user or access key id; never secrets). Below `level` the lines are dropped; `off` writes none.',
        }),
      },
      'Logging.',
    ),
    db: Section(
      {
        driver: T.Union([T.Literal('sqlite'), T.Literal('postgres')], {
          default: 'sqlite',
          description:
            'Where Stowage keeps its state. `sqlite`: one file, one process (the embedded default). `postgres`: a PostgreSQL database shared by several replicas behind a load balancer.',
        }),
        sqlite: Section({ path: Str('./stowage.db', 'SQLite database file (WAL mode). Its directory must be writable.') }, 'SQLite store.'),
        postgres: Section(
          {
            url_env: Str(
              'STOWAGE_POSTGRES_URL',
              'Name of the environment variable holding the connection URL (`postgres://user:password@host:5432/db`); the URL itself is never written in this file.',
            ),
            pool_size: Int(
              10,
              'Connections each replica keeps open at most. The S3 listener and the dashboard share them; the server must allow replicas × pool_size plus one listening connection per replica.',
              { minimum: 1, maximum: 200 },
            ),
            statement_timeout: Duration(
              '15s',
              'A statement running longer is cancelled by the server, so a stuck query cannot hold a request (or a connection) forever.',
            ),
            connect_timeout: Duration('10s', 'How long a new connection may take before the attempt fails (at start: a clear error instead of a hang).'),
          },
          'PostgreSQL store (`db.driver: postgres`).',
        ),
      },
      'Database.',
    ),
    auth: Section(
      {
        modes: T.Array(AuthMode, { default: ['local'], minItems: 1, description: 'Enabled sign-in modes: any of `local`, `oidc`, `static`.' }),
        session: Section(
          {
            lifetime: Duration('8h', 'Absolute session lifetime: a session ends this long after sign-in, however active.'),
            idle_timeout: Duration('1h', 'A session unused for this long ends.'),
          },
          'Browser sessions.',
        ),
        local: Section(
          {
            password: Section(
              {
                min_length: Int(12, 'Minimum password length in characters.', { minimum: 8, maximum: 256 }),
                prevent_reuse: Bool(true, 'Refuse a new password equal to the current one.'),
              },
              'Password policy.',
            ),
            lockout: Section(
              {
                max_attempts: Int(5, 'Failed sign-ins in a row that lock an account.', { minimum: 1 }),
                window: Duration('15m', 'How long a locked account stays locked (an admin can unlock sooner).'),
              },
              'Account lockout.',
            ),
          },
          'Local (username + password) accounts.',
        ),
        oidc: Section(
          {
            issuer: Str('', 'OpenID Provider issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`.'),
            client_id: Str('', 'OAuth client id registered at the provider.'),
            client_secret_env: Str('', 'Name of the environment variable holding the client secret (empty for public clients using PKCE only).'),
            scopes: StrList(['openid', 'profile', 'email'], 'Scopes requested at sign-in.'),
            role_claim: Str('groups', 'Claim holding groups/roles; a dotted path such as `realm_access.roles` reaches nested claims.'),
            role_mapping: Section(
              {
                admin: StrList([], 'Claim values that grant `admin`.'),
                user: StrList([], 'Claim values that grant `user`.'),
                readonly: StrList([], 'Claim values that grant `readonly`.'),
              },
              'Claim values mapped to roles; the first match in the order admin, user, readonly wins.',
            ),
            default_role: T.Union([T.Literal(''), ...ROLES.map((r) => T.Literal(r))], {
              default: '',
              description: 'Role for users matching no mapping. Empty refuses their sign-in.',
            }),
            display_name: Str('SSO', 'Label of the sign-in button.'),
          },
          'OpenID Connect sign-in.',
        ),
        static: Section(
          {
            enabled: Bool(false, 'Enable the break-glass admin account from config.'),
            username: Str('', 'Username of the break-glass admin.'),
            password_hash_env: Str('', 'Name of the environment variable holding its argon2id hash (make one with `stowage hash-password`).'),
          },
          'Static break-glass admin.',
        ),
      },
      'Authentication.',
    ),
    access: Section(
      {
        default: T.Union([T.Literal('none'), T.Literal('read'), T.Literal('read-write')], {
          default: 'none',
          description:
            'What every `user` and `readonly` account may do on every backend without a grant. `none` (the default) shows them nothing until an admin grants access; `read-write` restores the open behaviour of earlier versions. `readonly` accounts never exceed `read`; admins always have everything.',
        }),
      },
      'Who may see which bucket: grants are made by admins in the UI or under `/api/admin/grants`; this is the floor every account gets.',
    ),
    backends: T.Array(BackendConfig, {
      default: [],
      description: 'Storage backends defined in this file (read-only in the UI). Backends can also be added from the admin UI.',
    }),
    fs: Section(
      {
        abort_incomplete_uploads_after: Duration(
          '7d',
          "Multipart uploads into `fs` backends (from S3 clients or the dashboard) still unfinished this long after they began are aborted and their parts deleted, by a sweep at start-up and then hourly (the same sweep applies the buckets' lifecycle rules). `0` keeps them until they are completed or aborted (or a lifecycle rule aborts them).",
        ),
        listing_cache_mib: Int(
          64,
          'Memory for the sorted directory indexes that let a listing page of an `fs` folder cost the same however many files it holds (~26 bytes a file; a folder larger than this is still listed, from an index built for each page).',
          { minimum: 0 },
        ),
      },
      'Local-directory (`fs`) backends.',
    ),
    quotas: Section(
      { scan_interval: Duration('30m', 'How often bucket usage is recounted for quotas and sizes; `0` disables the background scan.') },
      'Bucket quotas and size tracking.',
    ),
    ratelimit: Section(
      {
        api_per_minute: Int(600, 'API requests per session per minute; 0 disables.', { minimum: 0 }),
        login_per_ip: Int(10, 'Sign-in attempts per client IP per `login_window`; 0 disables.', { minimum: 0 }),
        login_window: Duration('15m', 'Window of `login_per_ip`.'),
        share_per_minute: Int(10, 'Requests per client IP per minute on public share endpoints; 0 disables.', { minimum: 0 }),
      },
      'Rate limits.',
    ),
    shares: Section(
      {
        max_lifetime: Duration('0', 'Longest allowed share lifetime; `0` allows shares without expiry.'),
        require_password: Bool(false, 'Refuse to create shares without a password.'),
        unlock_ttl: Duration('30m', 'How long a password unlock of a share lasts in the browser.'),
        wrong_password_limit: Int(5, 'Wrong passwords per share per client IP per 15 minutes before unlocking is refused.', { minimum: 1 }),
      },
      'Share links.',
    ),
    s3_proxy: Section(
      {
        enabled: Bool(false, 'Run the S3 SigV4 proxy listener.'),
        listen: Str(':8090', 'Proxy listener; must differ from `server.listen`.'),
        host_suffixes: StrList([], 'Domain suffixes for virtual-hosted requests: `bucket.<suffix>`.'),
        public_hostname: Str('', 'Host[:port] clients use to reach the proxy, for ready-to-paste endpoint URLs.'),
        public_scheme: T.Union([T.Literal('http'), T.Literal('https')], { default: 'https', description: 'Scheme of the public endpoint URLs.' }),
        global_rps: Num(0, 'Requests per second across all clients; 0 is unlimited.', { minimum: 0 }),
        per_key_rps: Num(0, 'Requests per second per access key; 0 is unlimited.', { minimum: 0 }),
        anonymous_enabled: Bool(false, 'Kill switch for anonymous read-only bindings.'),
        anonymous_rps: Num(20, 'Default anonymous requests per second per client IP.', { minimum: 0 }),
      },
      'S3 proxy for virtual credentials.',
    ),
    audit: Section(
      {
        sampling: Section(
          { proxy_success_read_rate: Num(0, 'Fraction (0..1) of successful proxy GET/HEAD requests recorded in the audit log.', { minimum: 0, maximum: 1 }) },
          'Sampling of high-volume events.',
        ),
        retention: Duration('0', 'Delete audit events older than this; `0` keeps them forever.'),
      },
      'Audit log.',
    ),
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema>
