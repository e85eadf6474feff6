#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Starts a throwaway PostgreSQL cluster (Debian's postgresql package) on
# 127.0.0.1: the shared store that the PostgreSQL test pass, the multi-replica
# tests and bench/replicas.ts run against. Data lives in a temp directory,
# the server runs as the postgres system user (initdb refuses root), and only
# loopback TCP with a password is accepted.
#
# stdout: PG_URL=<DSN> of the role `stowage` (not a superuser; it may create
# databases, which is how each test gets its own), also written to $PG_DIR/env.
#
# Env knobs (defaults in brackets):
#   PG_DIR       everything lives here [${TMPDIR:-/tmp}/stowage-pg]
#   PG_PORT      port on 127.0.0.1 [the first free one from 55432]
#   PG_BIN       PostgreSQL binaries [newest /usr/lib/postgresql/*/bin]
#   PG_PASSWORD  password of the stowage role [a fixed test value]
#
# Rerunning is cheap: a cluster already up in PG_DIR only prints its env.
# Stop with scripts/stop-postgres.sh.
set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/ports.sh"

PG_DIR=$(realpath -m -- "${PG_DIR:-${TMPDIR:-/tmp}/stowage-pg}")
port_asked=${PG_PORT:-}
PG_PORT=${PG_PORT:-55432}
PG_PASSWORD=${PG_PASSWORD:-stowage-test-password}
if [[ -z ${PG_BIN:-} ]]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[[ -x $PG_BIN/pg_ctl ]] || { echo "start-postgres: no PostgreSQL binaries (install Debian's postgresql)" >&2; exit 1; }
[[ $PG_PORT =~ ^[1-9][0-9]{0,4}$ ]] || { echo "start-postgres: PG_PORT must be a TCP port" >&2; exit 1; }
[[ $PG_PASSWORD =~ ^[A-Za-z0-9._-]+$ ]] || { echo "start-postgres: PG_PASSWORD may hold letters, digits, . _ -" >&2; exit 1; }

data=$PG_DIR/data
marker=$PG_DIR/.stowage-pg
as_pg() { (cd / && runuser -u postgres -- "$@"); }
if ((EUID != 0)); then as_pg() { (cd / && "$@"); }; fi

if [[ -f $marker ]] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  cat "$PG_DIR/env"
  exit 0
fi

if [[ -e $PG_DIR && ! -f $marker ]]; then
  echo "start-postgres: $PG_DIR exists and was not made by this script" >&2
  exit 1
fi
rm -rf -- "$PG_DIR"
mkdir -p "$PG_DIR"
touch "$marker"
if ((EUID == 0)); then chown postgres: "$PG_DIR"; fi

pwfile=$PG_DIR/pw
printf '%s\n' "$PG_PASSWORD" >"$pwfile"
((EUID == 0)) && chown postgres: "$pwfile"
as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
  { cat "$PG_DIR/initdb.log" >&2; exit 1; }
rm -f "$pwfile"

PG_PORT=$(pick_port "$PG_PORT" "$port_asked") || { echo "start-postgres: no port (PG_PORT)" >&2; exit 1; }

# Tests make a database per app; fsync stays on so a killed replica's
# committed rows are really on disk, but the small checkpoint spacing of a
# default cluster is relaxed for speed.
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 300
shared_buffers = 128MB
max_wal_size = 1GB
log_destination = 'stderr'
logging_collector = off
CONF

as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
  { tail -n 30 "$PG_DIR/server.log" >&2; exit 1; }
as_pg "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<SQL >/dev/null
CREATE ROLE stowage LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
CREATE DATABASE stowage OWNER stowage;
SQL
echo "start-postgres: PostgreSQL on 127.0.0.1:$PG_PORT, data in $data" >&2
printf 'PG_URL=postgres://stowage:%s@127.0.0.1:%s/stowage\n' "$PG_PASSWORD" "$PG_PORT" | tee "$PG_DIR/env"
