-- SPDX-License-Identifier: AGPL-3.0-or-later
-- PostgreSQL form of db/0004_shares.sql: share links. Times are Unix milliseconds.

-- Public requests find a share by code_hash (SHA-256 hex of the code), so the
-- lookup compares hashes, never the secret itself. The code is kept so owners
-- can copy their links again.
CREATE TABLE shares (
  id               TEXT PRIMARY KEY,
  code             TEXT NOT NULL,
  code_hash        TEXT NOT NULL UNIQUE,
  kind             TEXT NOT NULL CHECK (kind IN ('object', 'folder')),
  backend_id       TEXT NOT NULL,
  bucket           TEXT NOT NULL,
  object_key       TEXT NOT NULL,
  created_by       TEXT NOT NULL,
  created_by_name  TEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  expires_at       BIGINT,
  password_hash    TEXT,
  max_downloads    INTEGER CHECK (max_downloads IS NULL OR max_downloads > 0),
  download_count   INTEGER NOT NULL DEFAULT 0 CHECK (download_count >= 0),
  disposition      TEXT NOT NULL DEFAULT 'attachment' CHECK (disposition IN ('attachment', 'inline')),
  revoked          INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  revoked_at       BIGINT,
  revoked_by       TEXT,
  last_accessed_at BIGINT
);
CREATE INDEX shares_owner ON shares (created_by, created_at);
CREATE INDEX shares_created ON shares (created_at);
