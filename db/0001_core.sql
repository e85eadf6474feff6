-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Users, sessions and the audit log. Times are Unix milliseconds.

CREATE TABLE users (
  id              TEXT PRIMARY KEY,
  username        TEXT NOT NULL COLLATE NOCASE UNIQUE,
  email           TEXT COLLATE NOCASE,
  password_hash   TEXT,
  role            TEXT NOT NULL CHECK (role IN ('admin', 'user', 'readonly')),
  identity_source TEXT NOT NULL DEFAULT 'local',
  oidc_issuer     TEXT,
  oidc_subject    TEXT,
  enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  must_change_pw  INTEGER NOT NULL DEFAULT 0 CHECK (must_change_pw IN (0, 1)),
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER,
  created_at      INTEGER NOT NULL,
  created_by      TEXT,
  last_login_at   INTEGER,
  pw_changed_at   INTEGER
) STRICT;
CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_oidc ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
CREATE INDEX users_role ON users (role);

-- The id is the SHA-256 of the cookie token: a leaked database cannot be replayed as cookies.
CREATE TABLE sessions (
  id               TEXT PRIMARY KEY,
  user_id          TEXT NOT NULL,
  identity_source  TEXT NOT NULL,
  csrf_token       TEXT NOT NULL,
  ip               TEXT,
  user_agent       TEXT,
  created_at       INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  end_session_hint TEXT
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  ts          INTEGER NOT NULL,
  user_id     TEXT,
  username    TEXT,
  action      TEXT NOT NULL,
  backend_id  TEXT,
  bucket      TEXT,
  object_key  TEXT,
  request_id  TEXT,
  ip          TEXT,
  user_agent  TEXT,
  status      TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'denied', 'error')),
  detail      TEXT
) STRICT;
CREATE INDEX audit_ts ON audit_events (ts DESC);
CREATE INDEX audit_user ON audit_events (user_id, ts DESC);
CREATE INDEX audit_action ON audit_events (action, ts DESC);
CREATE INDEX audit_target ON audit_events (backend_id, bucket, ts DESC);
