#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Stops the throwaway Ceph RADOS Gateway cluster made by scripts/start-rgw.sh
# and removes its directory.
#
# Usage: scripts/stop-rgw.sh [DAEMON...]
#   DAEMON is client.rgw.a, osd.0 or mon.a. With names, only those daemons
#   are stopped and the directory is kept (start-rgw.sh uses this to undo
#   just what a failed run started).
#
# Env: RGW_DIR (default ${TMPDIR:-/tmp}/stowage-rgw), RGW_KEEP_DIR=1 keeps
# the directory (logs, data) after a full stop.
#
# Processes are found only through the pid files in $RGW_DIR/run and only
# signalled when their command line names this cluster's ceph.conf: a pid
# file can outlive its process and the PID can be reused, and other Ceph
# daemons may run on the same machine, so nothing is ever killed by name.
set -euo pipefail

RGW_DIR=$(realpath -m -- "${RGW_DIR:-${TMPDIR:-/tmp}/stowage-rgw}")
conf=$RGW_DIR/ceph.conf
# Present only in directories start-rgw.sh created, so that a mistyped
# RGW_DIR (say, $HOME) is never removed.
marker=$RGW_DIR/.stowage-rgw
term_wait=${RGW_STOP_TIMEOUT:-10}

log() { printf 'stop-rgw: %s\n' "$*" >&2; }

# Succeeds when PID is a live process of this cluster. A zombie counts as
# dead: when PID 1 reaps orphans late, a killed daemon lingers as Z for a
# second or more and kill -0 still succeeds on it.
is_ours() {
  local pid=$1 stat state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  # The comm field is in parentheses and may itself contain spaces or ')'.
  stat=${stat##*) }
  state=${stat%% *}
  [[ $state != Z && $state != X ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Fxq -- "$conf"
}

# Waits up to $2 whole seconds for PID to be gone.
wait_gone() {
  local pid=$1 tries
  tries=$(($2 * 10))
  while ((tries-- > 0)); do
    is_ours "$pid" || return 0
    sleep 0.1
  done
  ! is_ours "$pid"
}

failed=0
stop_one() {
  local name=$1 pidfile pid
  pidfile=$RGW_DIR/run/$name.pid
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile") || pid=
  if ! is_ours "$pid"; then
    rm -f -- "$pidfile"
    return 0
  fi
  # CONT too, so that a stopped (SIGSTOP, debugger-detached) daemon gets
  # to act on the TERM instead of sitting out the whole grace period.
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$term_wait"; then
    log "$name (pid $pid) ignored SIGTERM for ${term_wait}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 5; then
      log "$name (pid $pid) survived SIGKILL"
      failed=1
      return 0
    fi
  fi
  rm -f -- "$pidfile"
  log "stopped $name (pid $pid)"
}

if (($# > 0)); then
  names=("$@")
  keep=1
else
  # Clients first: radosgw needs the OSD and mon to shut down cleanly, and the
  # OSD reports itself down to the mon on the way out.
  names=(client.rgw.a osd.0 mon.a)
  keep=${RGW_KEEP_DIR:-0}
fi
for n in "${names[@]}"; do
  case $n in
    client.rgw.a | osd.0 | mon.a) stop_one "$n" ;;
    *)
      log "unknown daemon '$n' (known: client.rgw.a osd.0 mon.a)"
      exit 2
      ;;
  esac
done

if ((failed)); then
  log "some daemons are still running; keeping $RGW_DIR"
  exit 1
fi

if [[ $keep != 1 && -d $RGW_DIR ]]; then
  if [[ -f $marker ]]; then
    rm -rf -- "$RGW_DIR"
    log "removed $RGW_DIR"
  else
    log "not removing $RGW_DIR: it was not made by start-rgw.sh (no $marker)"
    exit 1
  fi
fi
