-- SPDX-License-Identifier: AGPL-3.0-or-later
-- PostgreSQL form of db/0003_s3proxy.sql: virtual credentials and anonymous
-- read-only bucket bindings.

-- Secrets are sealed with the master key (context "s3cred:<access_key>").
-- buckets is a JSON array of {"bucket","access"} with access "read" or "read-write".
CREATE TABLE s3_credentials (
  access_key     TEXT PRIMARY KEY,
  secret_key_enc BYTEA NOT NULL,
  backend_id     TEXT NOT NULL,
  buckets        TEXT NOT NULL,
  user_id        TEXT,
  description    TEXT NOT NULL DEFAULT '',
  enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  expires_at     BIGINT,
  created_at     BIGINT NOT NULL,
  created_by     TEXT,
  updated_at     BIGINT NOT NULL,
  updated_by     TEXT
);

CREATE INDEX s3_credentials_user ON s3_credentials (user_id);

-- A bucket name is bound on at most one backend: anonymous requests name only
-- the bucket, so two bindings of one name would be ambiguous.
CREATE TABLE s3_anonymous_bindings (
  backend_id        TEXT NOT NULL,
  bucket            TEXT NOT NULL UNIQUE,
  mode              TEXT NOT NULL DEFAULT 'ReadOnly' CHECK (mode IN ('ReadOnly')),
  per_source_ip_rps INTEGER NOT NULL DEFAULT 0 CHECK (per_source_ip_rps >= 0),
  created_at        BIGINT NOT NULL,
  created_by        TEXT,
  updated_at        BIGINT NOT NULL,
  PRIMARY KEY (backend_id, bucket)
);

-- A deleted user's credentials go with them.
CREATE FUNCTION users_delete_s3_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM s3_credentials WHERE user_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_delete_s3_credentials AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_delete_s3_credentials();
