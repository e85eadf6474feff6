#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Starts a throwaway single-node Ceph RADOS Gateway (Debian bookworm's radosgw
# 16.2) on 127.0.0.1: the real S3 backend that integration tests and
# benchmarks run the proxy against. One mon, one OSD (bluestore on a sparse file by
# default), no mgr, auth = none, radosgw with the beast frontend.
# Background and measurements: shared/reference/s3-backends.md, section 2.
#
# stdout: KEY=value lines (S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
# S3_REGION, S3_ACCESS_KEY_2, S3_SECRET_KEY_2), also written to $RGW_DIR/env,
# so `eval "$(scripts/start-rgw.sh)"` or `set -a; . "$RGW_DIR/env"` both work.
# Progress and errors go to stderr.
#
# Env knobs (defaults in brackets):
#   RGW_DIR          everything lives here [${TMPDIR:-/tmp}/stowage-rgw]
#   RGW_PORT         S3 endpoint port on 127.0.0.1 [the first free one from 7480]
#   RGW_MON_PORT     mon port; 3300, Ceph's default, is often taken [the first free one from 40300]
#   RGW_STORE        bluestore (sparse file in RGW_DIR) | memstore (RAM) [bluestore]
#   RGW_STORE_BYTES  capacity of the store [34359738368]; sparse, so disk use follows the data
#   RGW_ACCESS_KEY / RGW_SECRET_KEY      user "tester"  [fixed test values]
#   RGW_ACCESS_KEY_2 / RGW_SECRET_KEY_2  user "tenant2" [fixed test values]
#   RGW_TIMEOUT      deadline in seconds for the whole start [120]
#
# Rerunning is cheap: if the cluster is up with the same settings it only
# prints the connection info; if just radosgw died (RGW 16.2 can abort on
# some requests) only radosgw is restarted and the data is kept. Anything
# else is torn down and started afresh. Stop with scripts/stop-rgw.sh.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$here/ports.sh"

# Canonical, because stop-rgw.sh recognises our daemons by this exact path in
# their command lines.
RGW_DIR=$(realpath -m -- "${RGW_DIR:-${TMPDIR:-/tmp}/stowage-rgw}")
export RGW_DIR
# Ports are chosen at a cold start (ports.sh); a reused cluster keeps its own.
rgw_port_asked=${RGW_PORT:-}
mon_port_asked=${RGW_MON_PORT:-}
RGW_PORT=${RGW_PORT:-7480}
RGW_MON_PORT=${RGW_MON_PORT:-40300}
RGW_STORE=${RGW_STORE:-bluestore}
RGW_STORE_BYTES=${RGW_STORE_BYTES:-34359738368}
RGW_ACCESS_KEY=${RGW_ACCESS_KEY:-stowagetestkey}
RGW_SECRET_KEY=${RGW_SECRET_KEY:-stowagetestsecretkey0123456789abcdefghij}
RGW_ACCESS_KEY_2=${RGW_ACCESS_KEY_2:-stowagetenant2key}
RGW_SECRET_KEY_2=${RGW_SECRET_KEY_2:-stowagetenant2secret0123456789abcdefghij}
RGW_TIMEOUT=${RGW_TIMEOUT:-120}

conf=$RGW_DIR/ceph.conf
run=$RGW_DIR/run
logs=$RGW_DIR/log
setup_log=$logs/setup.log
marker=$RGW_DIR/.stowage-rgw
endpoint=http://127.0.0.1:$RGW_PORT

t0=${EPOCHREALTIME//[!0-9]/}
elapsed() {
  local us=$((${EPOCHREALTIME//[!0-9]/} - t0))
  printf '%d.%02d' $((us / 1000000)) $((us / 10000 % 100))
}
log() { printf '[start-rgw %ss] %s\n' "$(elapsed)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---- validate knobs ---------------------------------------------------------

# Succeeds when $1 is a decimal integer (no leading zero: bash would read
# it as octal) within [$2, $3].
in_range() {
  [[ $1 =~ ^[1-9][0-9]{0,17}$ ]] && (($1 >= $2 && $1 <= $3))
}
for v in RGW_PORT RGW_MON_PORT; do
  in_range "${!v}" 1 65535 || die "$v must be a TCP port, got '${!v}'"
done
((RGW_PORT != RGW_MON_PORT)) || die "RGW_PORT and RGW_MON_PORT must differ"
case $RGW_STORE in memstore | bluestore) ;; *) die "RGW_STORE must be memstore or bluestore, got '$RGW_STORE'" ;; esac
in_range "$RGW_STORE_BYTES" 1073741824 1099511627776 ||
  die "RGW_STORE_BYTES must be a byte count between 1 GiB and 1 TiB, got '$RGW_STORE_BYTES'"
in_range "$RGW_TIMEOUT" 1 86400 || die "RGW_TIMEOUT must be whole seconds, got '$RGW_TIMEOUT'"
# The keys end up unquoted in ceph commands and in a sourceable env file.
for v in RGW_ACCESS_KEY RGW_SECRET_KEY RGW_ACCESS_KEY_2 RGW_SECRET_KEY_2; do
  [[ ${!v} =~ ^[A-Za-z0-9+/=._-]+$ ]] || die "$v may only contain letters, digits and + / = . _ -"
done
[[ $RGW_ACCESS_KEY != "$RGW_ACCESS_KEY_2" ]] || die "the two users need different access keys"

# A running cluster is reused only if it was started with these settings.
settings="port=${rgw_port_asked:-auto} mon_port=${mon_port_asked:-auto} store=$RGW_STORE bytes=$RGW_STORE_BYTES"
settings+=" key=$RGW_ACCESS_KEY secret=$RGW_SECRET_KEY key2=$RGW_ACCESS_KEY_2 secret2=$RGW_SECRET_KEY_2"

env_text() {
  printf '%s\n' \
    "S3_ENDPOINT=$endpoint" \
    "S3_ACCESS_KEY=$RGW_ACCESS_KEY" \
    "S3_SECRET_KEY=$RGW_SECRET_KEY" \
    "S3_REGION=us-east-1" \
    "S3_ACCESS_KEY_2=$RGW_ACCESS_KEY_2" \
    "S3_SECRET_KEY_2=$RGW_SECRET_KEY_2"
}

# ---- process helpers --------------------------------------------------------

# Same test as stop-rgw.sh: live (a zombie is dead: PID 1 may reap late and
# kill -0 still succeeds on it) and started with this cluster's ceph.conf.
is_ours() {
  local pid=$1 stat state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  state=${stat%% *}
  [[ $state != Z && $state != X ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Fxq -- "$conf"
}

alive() {
  local f=$run/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f") 2>/dev/null || return 1
  is_ours "$pid"
}

# Fails once a daemon has written its pid file and died, so a crash at start
# surfaces at once instead of after the whole timeout.
died() {
  [[ -f $run/$1.pid ]] && ! alive "$1"
}

endpoint_answers() {
  curl -s -o /dev/null --max-time 3 "$endpoint/"
}

# A busy radosgw (say, under a benchmark) can miss one probe; restarting it
# then would pull it from under the tests, so only give up after a few.
rgw_healthy() {
  local try
  for try in 1 2 3; do
    alive client.rgw.a || return 1
    endpoint_answers && return 0
    ((try == 3)) || sleep 0.5
  done
  return 1
}

# ---- fast paths: reuse what is running --------------------------------------

# Test runners may call this from several processes at once; serialise them so
# that only one builds the cluster and the others reuse it. The lock file sits
# beside RGW_DIR because the directory itself is removed on teardown.
exec {lock_fd}>"$RGW_DIR.lock"
if ! flock -w "$RGW_TIMEOUT" "$lock_fd"; then
  die "another start-rgw.sh still holds $RGW_DIR.lock after ${RGW_TIMEOUT}s"
fi

reusable=0
if [[ -f $marker && -f $RGW_DIR/env && -f $RGW_DIR/settings ]] &&
  [[ $(<"$RGW_DIR/settings") == "$settings" ]] && alive mon.a && alive osd.0; then
  reusable=1
  endpoint=$(sed -n 's/^S3_ENDPOINT=//p' "$RGW_DIR/env")
fi

if ((reusable)) && rgw_healthy; then
  log "already running in $RGW_DIR"
  env_text
  exit 0
fi

# ---- from here on this run starts daemons; undo them if it fails ------------

deadline=$((SECONDS + RGW_TIMEOUT))
started=()

on_exit() {
  local rc=$? f i rev=()
  trap - EXIT
  ((rc != 0)) || return 0
  log "failed (exit $rc)"
  if [[ -d $logs ]]; then
    for f in "$logs"/*; do
      [[ -s $f ]] || continue
      printf '==> %s <==\n' "$f" >&2
      tail -n 20 -- "$f" >&2
    done
  fi
  if ((${#started[@]})); then
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do rev+=("${started[i]}"); done
    log "stopping what this run started: ${rev[*]}"
    "$here/stop-rgw.sh" "${rev[@]}" || true
  fi
  [[ -f $marker ]] && log "kept $RGW_DIR for inspection (scripts/stop-rgw.sh removes it)"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints min($1, seconds left before the deadline); fails past the deadline.
limit() {
  local left=$((deadline - SECONDS))
  if ((left <= 0)); then
    log "deadline of ${RGW_TIMEOUT}s (RGW_TIMEOUT) passed"
    return 1
  fi
  echo $(($1 < left ? $1 : left))
}

# Runs a setup command for at most $1 seconds and never past the deadline;
# a trace line and the command's stderr go to setup.log, stdout to the caller.
bounded() {
  local t
  t=$(limit "$1") || return 1
  shift
  printf '+ %s\n' "$*" >>"$setup_log"
  timeout -k 2 "$t" "$@" 2>>"$setup_log"
}

ceph_cli() { bounded 20 ceph -c "$conf" --connect-timeout 15 "$@"; }

# Polls CHECK every 0.2 s until it succeeds; gives up past the deadline or
# as soon as DAEMON has died.
wait_for() {
  local daemon=$1 what=$2
  shift 2
  until "$@"; do
    if died "$daemon"; then
      log "$daemon died while waiting for $what"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "timed out after ${RGW_TIMEOUT}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# Daemons fork into the background and outlive us. Their stdio must not hold
# our stdout, or `$(start-rgw.sh)` would never return, and they must not
# inherit the lock, or the next start would wait for them forever.
launch() {
  local name=$1 t
  shift
  rm -f -- "$run/$name.pid"
  started+=("$name")
  t=$(limit 60) || return 1
  printf '+ %s\n' "$*" >>"$setup_log"
  timeout -k 2 "$t" "$@" </dev/null >>"$logs/$name.stderr" 2>&1 {lock_fd}>&-
}

start_rgw() {
  launch client.rgw.a radosgw -c "$conf" -n client.rgw.a
  wait_for client.rgw.a "radosgw to answer on $endpoint" endpoint_answers
  log "radosgw answers on $endpoint"
}

publish() {
  env_text >"$RGW_DIR/env.tmp"
  mv -f -- "$RGW_DIR/env.tmp" "$RGW_DIR/env"
  env_text
}

if ((reusable)); then
  # mon and OSD are fine, so the data is too: replace only radosgw. It may
  # still be running but hung (e.g. after an abort in a worker thread).
  log "mon.a and osd.0 are up but radosgw is not answering; restarting radosgw only"
  "$here/stop-rgw.sh" client.rgw.a
  start_rgw
  publish
  log "ready in $(elapsed)s"
  exit 0
fi

# ---- cold start ---------------------------------------------------------------

need=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl)
missing=()
for b in "${need[@]}"; do
  command -v "$b" >/dev/null 2>&1 || missing+=("$b")
done
if ((${#missing[@]})); then
  log "missing ${missing[*]}; running install-test-deps.sh"
  "$here/install-test-deps.sh" rgw curl >&2 || die "cannot install the Ceph packages"
  # The install does not count against the daemons' deadline.
  deadline=$((SECONDS + RGW_TIMEOUT))
fi

if [[ -e $RGW_DIR ]]; then
  log "tearing down the previous cluster in $RGW_DIR"
  RGW_KEEP_DIR=0 "$here/stop-rgw.sh" || die "could not clear $RGW_DIR"
fi
RGW_PORT=$(pick_port "$RGW_PORT" "$rgw_port_asked" "$RGW_MON_PORT") || die "no port for radosgw (RGW_PORT)"
RGW_MON_PORT=$(pick_port "$RGW_MON_PORT" "$mon_port_asked" "$RGW_PORT") || die "no port for the mon (RGW_MON_PORT)"
endpoint=http://127.0.0.1:$RGW_PORT

mkdir -p -- "$run" "$logs" "$RGW_DIR/mon.a" "$RGW_DIR/osd.0" "$RGW_DIR/rgw" "$RGW_DIR/crash"
: >"$marker"
: >"$RGW_DIR/keyring"
printf '%s\n' "$settings" >"$RGW_DIR/settings"
fsid=$(</proc/sys/kernel/random/uuid)

if [[ $RGW_STORE == bluestore ]]; then
  # The block file must be outside osd data: as osd.0/block, the symlink the
  # OSD makes there points at itself ("Too many levels of symbolic links").
  store_conf="bluestore block path = $RGW_DIR/osd.0.block
bluestore block size = $RGW_STORE_BYTES
bluestore block create = true"
else
  store_conf="memstore device bytes = $RGW_STORE_BYTES"
fi

cat >"$conf" <<EOF
# Generated by scripts/start-rgw.sh; rewritten on every cold start.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$RGW_MON_PORT
ms bind msgr1 = false
ms bind msgr2 = true
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# With auth none, radosgw (a daemon, so it asks for "secure") otherwise loops
# on "get_initial_auth_request returned -13" and gives up after 300 s.
ms mon client mode = crc
ms mon service mode = crc secure
# Make a mon that cannot be reached fail in seconds, not minutes.
client mount timeout = 30
rados mon op timeout = 30
run dir = $run
admin socket = $run/\$name.asok
pid file = $run/\$name.pid
log file = $logs/\$name.log
mon cluster log file = $logs/cluster.log
crash dir = $RGW_DIR/crash
keyring = $RGW_DIR/keyring
log to stderr = false
err to stderr = false
# One OSD, and RGW makes about 7 pools on first start: keep pgs few and
# allow unreplicated pools.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
# The mon batches map changes for paxos_propose_interval (1 s) before each
# commit, and OSD boot plus RGW's first-start pool creation take a dozen
# serial commits: 0.05 s brings a cold start from ~14 s to ~3.6 s. Harmless
# with a single mon on loopback.
paxos propose interval = 0.05

[mon]
mon data = $RGW_DIR/mon.a

[osd]
osd data = $RGW_DIR/osd.0
osd objectstore = $RGW_STORE
$store_conf
osd memory target = 939524096
osd max object name len = 460
osd max object namespace len = 64
osd crush update on start = false

[client.rgw.a]
# tcp_nodelay: without it small GETs stall on delayed ACKs (p50 45 -> 17 ms).
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $RGW_DIR/rgw
# Enables virtual-hosted addressing as <bucket>.localhost; path-style
# requests to 127.0.0.1 work regardless.
rgw dns name = localhost
rgw thread pool size = 64
# Deleted objects are reclaimed after 2 h by default; test runs delete hundreds
# of MiB, so reclaim within a minute or the store fills up.
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF

log "cold start in $RGW_DIR ($RGW_STORE, mon port $RGW_MON_PORT, S3 port $RGW_PORT)"

# mon
bounded 20 monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$RGW_MON_PORT]" "$RGW_DIR/monmap" >>"$setup_log"
bounded 60 ceph-mon -c "$conf" --mkfs -i a --monmap "$RGW_DIR/monmap" >>"$setup_log"
launch mon.a ceph-mon -c "$conf" -i a
# The port opening is a cheap first check; each ceph CLI call costs ~0.3 s.
mon_up() { port_in_use "$RGW_MON_PORT" && ceph_cli mon stat >/dev/null; }
wait_for mon.a "mon.a to answer" mon_up
log "mon.a up"

# osd
osd_uuid=$(</proc/sys/kernel/random/uuid)
osd_id=$(ceph_cli osd new "$osd_uuid")
[[ $osd_id == 0 ]] || die "ceph osd new returned id '$osd_id', expected 0"
bounded 60 ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$setup_log"
ceph_cli osd crush add osd.0 1.0 host=localhost root=default >>"$setup_log"
launch osd.0 ceph-osd -c "$conf" -i 0
osd_up() {
  local dump
  dump=$(ceph_cli osd dump) || return 1
  grep -q '^osd\.0 up' <<<"$dump"
}
wait_for osd.0 "osd.0 to be up" osd_up
log "osd.0 up"

# radosgw and its users
start_rgw
make_user() {
  bounded 60 radosgw-admin -c "$conf" -n client.admin user create \
    --uid="$1" --display-name="$2" --access-key="$3" --secret-key="$4" >>"$setup_log"
}
make_user tester "S3 tester" "$RGW_ACCESS_KEY" "$RGW_SECRET_KEY"
make_user tenant2 "S3 tenant2" "$RGW_ACCESS_KEY_2" "$RGW_SECRET_KEY_2"
log "users tester and tenant2 created"

# The env file is written last: its presence means the cluster is complete.
publish
log "ready in $(elapsed)s"
