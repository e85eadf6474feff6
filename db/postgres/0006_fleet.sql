-- SPDX-License-Identifier: AGPL-3.0-or-later
-- PostgreSQL form of db/0005_fleet.sql: leases for work a fleet does once.

CREATE TABLE fleet_leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);

-- The latest backend probe results, written by the replica that probes and
-- read by the others (see db/0005_fleet.sql).
CREATE TABLE backend_health (
  backend_id TEXT PRIMARY KEY,
  health     TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
