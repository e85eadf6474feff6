-- SPDX-License-Identifier: AGPL-3.0-or-later
-- PostgreSQL form of db/0002_storage.sql: UI-managed backends, pins, quotas,
-- usage, size tracking, bucket CORS.

CREATE TABLE backends (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  type           TEXT NOT NULL CHECK (type IN ('s3')),
  endpoint       TEXT NOT NULL,
  region         TEXT NOT NULL DEFAULT 'us-east-1',
  path_style     INTEGER NOT NULL DEFAULT 1 CHECK (path_style IN (0, 1)),
  access_key     TEXT NOT NULL,
  secret_key_enc BYTEA NOT NULL,
  enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at     BIGINT NOT NULL,
  created_by     TEXT,
  updated_at     BIGINT NOT NULL,
  updated_by     TEXT
);

CREATE TABLE bucket_pins (
  user_id    TEXT NOT NULL,
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, backend_id, bucket)
);

CREATE TABLE bucket_quotas (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  soft_bytes BIGINT,
  hard_bytes BIGINT,
  updated_at BIGINT NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
);

-- Last known usage per bucket, from the scanner and adjusted by writes and deletes.
CREATE TABLE bucket_usage (
  backend_id   TEXT NOT NULL,
  bucket       TEXT NOT NULL,
  bytes        BIGINT NOT NULL,
  objects      BIGINT NOT NULL,
  computed_at  BIGINT NOT NULL,
  PRIMARY KEY (backend_id, bucket)
);

-- Only buckets whose tracking differs from the default (on) have a row.
CREATE TABLE bucket_size_tracking (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  updated_at BIGINT NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
);

-- CORS rules answered by the S3 proxy (not written upstream).
CREATE TABLE bucket_cors (
  backend_id TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  rules      TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (backend_id, bucket)
);

CREATE FUNCTION users_delete_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM sessions WHERE user_id = OLD.id;
  DELETE FROM bucket_pins WHERE user_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_delete_cleanup AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_delete_cleanup();
