-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Work that a fleet of replicas does once, not once per replica (health
-- probes, size scans, audit retention, sweeps): the replica holding a
-- lease runs it, renews it while it lives, and another takes over once a
-- dead holder's lease has run out. On one SQLite process the lease is always
-- its own. Times are Unix milliseconds.

CREATE TABLE fleet_leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

-- The latest backend probe results, written by the replica that probes (the
-- holder of the "backend-probes" lease) and read by the others. health is a
-- JSON object (healthy, lastProbeAt, lastError, latencyMs, history).
CREATE TABLE backend_health (
  backend_id TEXT PRIMARY KEY,
  health     TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
