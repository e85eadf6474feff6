#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Stops the throwaway cluster of scripts/start-postgres.sh and removes its
# directory (PG_KEEP_DIR=1 keeps it). Only a directory carrying that script's
# marker is touched, and the server is stopped through its own data directory,
# never by process name.
set -euo pipefail

PG_DIR=$(realpath -m -- "${PG_DIR:-${TMPDIR:-/tmp}/stowage-pg}")
[[ -f $PG_DIR/.stowage-pg ]] || exit 0
if [[ -z ${PG_BIN:-} ]]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
as_pg() { (cd / && runuser -u postgres -- "$@"); }
if ((EUID != 0)); then as_pg() { (cd / && "$@"); }; fi
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
[[ -n ${PG_KEEP_DIR:-} ]] || rm -rf -- "$PG_DIR"
