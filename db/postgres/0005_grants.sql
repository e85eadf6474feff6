-- SPDX-License-Identifier: AGPL-3.0-or-later
-- PostgreSQL form of db/0005_grants.sql: access grants and the groups each
-- account was seen with. Times are Unix milliseconds.

CREATE TABLE access_grants (
  id           TEXT PRIMARY KEY,
  subject_type TEXT NOT NULL CHECK (subject_type IN ('user', 'group')),
  subject      TEXT NOT NULL,
  backend_id   TEXT NOT NULL,
  bucket       TEXT NOT NULL DEFAULT '',
  prefix       TEXT NOT NULL DEFAULT '',
  access       TEXT NOT NULL CHECK (access IN ('read', 'read-write')),
  origin       TEXT NOT NULL DEFAULT 'admin' CHECK (origin IN ('admin', 'creator', 'upgrade')),
  created_at   BIGINT NOT NULL,
  created_by   TEXT,
  updated_at   BIGINT NOT NULL,
  updated_by   TEXT,
  CHECK (bucket <> '' OR prefix = ''),
  CHECK (backend_id <> '*' OR bucket = ''),
  UNIQUE (subject_type, subject, backend_id, bucket, prefix)
);
CREATE INDEX access_grants_target ON access_grants (backend_id, bucket);

CREATE TABLE user_groups (
  user_id    TEXT NOT NULL,
  group_name TEXT NOT NULL,
  seen_at    BIGINT NOT NULL,
  PRIMARY KEY (user_id, group_name)
);
CREATE INDEX user_groups_group ON user_groups (group_name);

CREATE FUNCTION users_delete_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM access_grants WHERE subject_type = 'user' AND subject = OLD.id;
  DELETE FROM user_groups WHERE user_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_delete_access AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_delete_access();

-- Accounts that existed before grants keep what they could do (see db/0005_grants.sql).
INSERT INTO access_grants (id, subject_type, subject, backend_id, access, origin, created_at, updated_at)
SELECT md5(random()::text || clock_timestamp()::text || id), 'user', id, '*', CASE role WHEN 'readonly' THEN 'read' ELSE 'read-write' END, 'upgrade',
       (extract(epoch FROM clock_timestamp()) * 1000)::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
FROM users WHERE role IN ('user', 'readonly');
