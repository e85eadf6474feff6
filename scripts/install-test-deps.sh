#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Installs the Debian packages that the integration tests, browser tests and
# benchmarks need. Nothing outside this repository exists on a fresh CI
# machine, so the project has to bring its own tools; this script is the one
# place that knows which package provides which binary.
#
# Usage: scripts/install-test-deps.sh [GROUP...]
#   GROUP is one of: rgw browser clients s3tests bench curl container systemd postgres
#   (default: all of them)
#
# Presence is checked by binary rather than with dpkg, so a tool that arrived
# some other way counts as present and a partly removed package does not.
#
# Env:
#   APT_LOCK_TIMEOUT  seconds to wait for another apt/dpkg run to finish
#                     (default 600). The machine image may still be running
#                     its own apt-get in the background when we start.
set -euo pipefail

APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}

# group -> "binary..." and group -> "package..."; the RGW group checks every
# binary start-rgw.sh calls, because they come from four packages and a half
# installed set (e.g. radosgw without ceph-mon) must not pass as complete.
declare -A group_bins=(
  [rgw]="/usr/bin/radosgw /usr/bin/ceph-mon /usr/bin/ceph-osd /usr/bin/ceph /usr/bin/radosgw-admin /usr/bin/monmaptool"
  [browser]="/usr/bin/chromium"
  [clients]="/usr/bin/aws /usr/bin/s3cmd /usr/bin/rclone /usr/bin/restic /usr/lib/python3/dist-packages/boto3"
  # What the ceph s3-tests runner (../shared/tools/run-s3-tests.sh) imports, from Debian's python3.
  [s3tests]="/usr/lib/python3/dist-packages/pytest /usr/lib/python3/dist-packages/boto3 /usr/lib/python3/dist-packages/yaml /usr/lib/python3/dist-packages/munch /usr/lib/python3/dist-packages/gevent /usr/lib/python3/dist-packages/isodate /usr/lib/python3/dist-packages/requests /usr/lib/python3/dist-packages/pytz /usr/lib/python3/dist-packages/httplib2 /usr/lib/python3/dist-packages/lxml"
  [bench]="/usr/bin/wrk"
  [curl]="curl"
  [container]="/usr/bin/podman /usr/sbin/debootstrap"
  [systemd]="/usr/bin/systemd-analyze /usr/bin/systemctl"
  # The server binaries, under a versioned directory (the client package alone brings psql there too).
  [postgres]="/usr/lib/postgresql/*/bin/pg_ctl /usr/lib/postgresql/*/bin/initdb"
)
declare -A group_pkgs=(
  [rgw]="ceph-mon ceph-osd radosgw ceph-common"
  [browser]="chromium"
  [clients]="awscli s3cmd rclone restic python3-boto3"
  [s3tests]="python3-pytest python3-boto3 python3-yaml python3-munch python3-gevent python3-isodate python3-requests python3-tz python3-httplib2 python3-lxml"
  [bench]="wrk"
  [curl]="curl"
  [container]="podman debootstrap"
  [systemd]="systemd"
  [postgres]="postgresql"
)
all_groups=(rgw browser clients s3tests bench curl container systemd postgres)

log() { printf 'install-test-deps: %s\n' "$*" >&2; }

have() {
  case $1 in
    *'*'*) compgen -G "$1" >/dev/null ;;
    /*) [[ -x $1 ]] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

groups=("$@")
if ((${#groups[@]} == 0)); then
  groups=("${all_groups[@]}")
fi
for g in "${groups[@]}"; do
  if [[ -z ${group_pkgs[$g]+set} ]]; then
    log "unknown group '$g' (known: ${all_groups[*]})"
    exit 2
  fi
done

# Fills missing_bins / missing_pkgs for the requested groups.
scan() {
  missing_bins=()
  missing_pkgs=()
  local g b lacking
  for g in "${groups[@]}"; do
    lacking=0
    for b in ${group_bins[$g]}; do
      if ! have "$b"; then
        missing_bins+=("$b")
        lacking=1
      fi
    done
    if ((lacking)); then
      # shellcheck disable=SC2206 # word splitting of the package list is wanted
      missing_pkgs+=(${group_pkgs[$g]})
    fi
  done
}

scan
if ((${#missing_bins[@]} == 0)); then
  echo "install-test-deps: all present (${groups[*]})"
  exit 0
fi

if ((EUID != 0)); then
  log "missing: ${missing_bins[*]}"
  log "install them as root with:"
  log "  sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${missing_pkgs[*]}"
  log "or run this script as root: sudo $0 ${groups[*]}"
  exit 1
fi

deadline=$((SECONDS + APT_LOCK_TIMEOUT))

# Process names as the kernel keeps them (15 characters at most).
apt_procs=(apt-get apt dpkg aptitude unattended-upgr)

# True while some other apt/dpkg is at work. Process names catch a run that is
# between lock acquisitions (apt-get drops the lists lock before taking the
# dpkg one); fuser catches holders with other names (unattended-upgrades,
# python-apt). Locks are fcntl locks, so flock(1) cannot probe them.
apt_busy() {
  local n
  for n in "${apt_procs[@]}"; do
    if pgrep -x "$n" >/dev/null 2>&1; then
      return 0
    fi
  done
  if command -v fuser >/dev/null 2>&1 &&
    fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock \
      /var/lib/apt/lists/lock /var/cache/apt/archives/lock >/dev/null 2>&1; then
    return 0
  fi
  return 1
}

wait_for_apt() {
  local said=0 n
  while apt_busy; do
    if ((SECONDS >= deadline)); then
      log "another apt/dpkg run still holds the package locks after ${APT_LOCK_TIMEOUT}s; giving up"
      for n in "${apt_procs[@]}"; do pgrep -a -x "$n" >&2 || true; done
      exit 1
    fi
    if ((!said)); then
      log "waiting for another apt/dpkg run to finish (up to ${APT_LOCK_TIMEOUT}s)..."
      said=1
    fi
    sleep 2
  done
}

wait_for_apt
# The background run we waited for may have installed what we need.
scan
if ((${#missing_bins[@]} == 0)); then
  echo "install-test-deps: all present (${groups[*]}) after waiting for apt"
  exit 0
fi

apt_log=$(mktemp "${TMPDIR:-/tmp}/install-test-deps.XXXXXX")
trap 'rm -f "$apt_log"' EXIT

# apt-get itself can also wait for the dpkg lock; this closes the race where
# someone grabs it between our check and our call.
apt_run() {
  local left=$((deadline - SECONDS))
  ((left > 0)) || left=1
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$left" "$@" >>"$apt_log" 2>&1; then
    log "apt-get $* failed; last lines:"
    tail -n 25 "$apt_log" >&2
    exit 1
  fi
}

started=$SECONDS
pkgs=("${missing_pkgs[@]}")
log "installing ${pkgs[*]} (missing: ${missing_bins[*]})"
apt_run update -q
wait_for_apt
apt_run install -y -q --no-install-recommends "${pkgs[@]}"

scan
if ((${#missing_bins[@]} > 0)); then
  log "apt-get succeeded but still missing: ${missing_bins[*]}"
  exit 1
fi
echo "install-test-deps: installed ${pkgs[*]} in $((SECONDS - started))s"
