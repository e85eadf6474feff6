-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Storage: UI-managed backends, pins, quotas, usage, size tracking, bucket CORS.

CREATE TABLE backends (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  type           TEXT NOT NULL CHECK (type IN ('s3')),
  endpoint       TEXT NOT NULL,
  region         TEXT NOT NULL DEFAULT 'us-east-1',
  path_style     INTEGER NOT NULL DEFAULT 1 CHECK (path_style IN (0, 1)),
  access_key     TEXT NOT NULL,
  secret_key_enc BLOB NOT NULL,
  enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at     INTEGER NOT NULL,
  created_by     TEXT,
  updated_at     INTEGER NOT NULL,
  updated_by     TEXT
) STRICT;

CREATE TABLE bucket_pins (
  user_id    TEXT NOT NULL,
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, backend_id, bucket)
) STRICT;

CREATE TABLE bucket_quotas (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  soft_bytes INTEGER,
  hard_bytes INTEGER,
  updated_at INTEGER NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
) STRICT;

-- Last known usage per bucket, from the scanner and adjusted by writes and deletes.
CREATE TABLE bucket_usage (
  backend_id   TEXT NOT NULL,
  bucket       TEXT NOT NULL,
  bytes        INTEGER NOT NULL,
  objects      INTEGER NOT NULL,
  computed_at  INTEGER NOT NULL,
  PRIMARY KEY (backend_id, bucket)
) STRICT;

-- Only buckets whose tracking differs from the default (on) have a row.
CREATE TABLE bucket_size_tracking (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  updated_at INTEGER NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
) STRICT;

-- CORS rules answered by the S3 proxy (not written upstream).
CREATE TABLE bucket_cors (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  rules      TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
) STRICT;

CREATE TRIGGER users_delete_cleanup AFTER DELETE ON users BEGIN
  DELETE FROM sessions WHERE user_id = OLD.id;
  DELETE FROM bucket_pins WHERE user_id = OLD.id;
END;
