-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Access grants: who may read or read-write which backend, bucket or key
-- prefix. Times are Unix milliseconds.

-- subject is a user id (subject_type 'user') or a group name as the identity
-- provider sends it (subject_type 'group'). backend_id '*' means every
-- backend, present and future, including those defined only in the config
-- file; bucket '' means every bucket of the backend; prefix '' means the whole
-- bucket, otherwise it is a folder path ending in "/". origin says why the
-- grant exists: an admin made it, the user created the bucket, or the upgrade
-- to this schema carried over what the account could already do.
CREATE TABLE access_grants (
  id           TEXT PRIMARY KEY,
  subject_type TEXT NOT NULL CHECK (subject_type IN ('user', 'group')),
  subject      TEXT NOT NULL,
  backend_id   TEXT NOT NULL,
  bucket       TEXT NOT NULL DEFAULT '',
  prefix       TEXT NOT NULL DEFAULT '',
  access       TEXT NOT NULL CHECK (access IN ('read', 'read-write')),
  origin       TEXT NOT NULL DEFAULT 'admin' CHECK (origin IN ('admin', 'creator', 'upgrade')),
  created_at   INTEGER NOT NULL,
  created_by   TEXT,
  updated_at   INTEGER NOT NULL,
  updated_by   TEXT,
  CHECK (bucket <> '' OR prefix = ''),
  CHECK (backend_id <> '*' OR bucket = ''),
  UNIQUE (subject_type, subject, backend_id, bucket, prefix)
) STRICT;
CREATE INDEX access_grants_target ON access_grants (backend_id, bucket);

-- The groups each account was seen with at its latest single sign-on; group
-- grants are evaluated against these.
CREATE TABLE user_groups (
  user_id    TEXT NOT NULL,
  group_name TEXT NOT NULL,
  seen_at    INTEGER NOT NULL,
  PRIMARY KEY (user_id, group_name)
) STRICT;
CREATE INDEX user_groups_group ON user_groups (group_name);

CREATE TRIGGER users_delete_access AFTER DELETE ON users BEGIN
  DELETE FROM access_grants WHERE subject_type = 'user' AND subject = OLD.id;
  DELETE FROM user_groups WHERE user_id = OLD.id;
END;

-- Before grants, every user could read and write every bucket of every
-- backend and every readonly account could read them: they keep exactly that,
-- as one grant on all backends. A fresh install has no users yet and so gets
-- no grants.
INSERT INTO access_grants (id, subject_type, subject, backend_id, access, origin, created_at, updated_at)
SELECT lower(hex(randomblob(16))), 'user', id, '*', CASE role WHEN 'readonly' THEN 'read' ELSE 'read-write' END, 'upgrade',
       CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER)
FROM users WHERE role IN ('user', 'readonly');
