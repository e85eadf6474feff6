#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The README's test command: installs what is missing (Bun and npm packages;
# Chromium, Ceph RGW and the S3 clients from Debian when run as root), builds the
# binary, starts a throwaway RGW unless S3_ENDPOINT points elsewhere, runs every
# test (type-check, unit/HTTP, compiled binary, real S3 clients, browser), and
# ends with the line "N passed, N failed, N skipped". Extra arguments go to
# `bun test` (e.g. a path filter).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

summary() { echo "$1 passed, $2 failed, $3 skipped"; }

eval "$(bash scripts/bootstrap.sh)" || { echo "bootstrap failed" >&2; summary 0 1 0; exit 1; }
bash scripts/install-test-deps.sh || { echo "installing test dependencies failed" >&2; summary 0 1 0; exit 1; }
"$BUN" scripts/build.ts || { echo "build failed" >&2; summary 0 1 0; exit 1; }

started_rgw=0
if [ -z "${S3_ENDPOINT:-}" ]; then
  env_lines=$(bash scripts/start-rgw.sh) || { echo "could not start Ceph RGW" >&2; summary 0 1 0; exit 1; }
  set -a; eval "$env_lines"; set +a
  started_rgw=1
fi
cleanup() { [ "$started_rgw" = 1 ] && [ -z "${KEEP_RGW:-}" ] && bash scripts/stop-rgw.sh >/dev/null 2>&1; true; }
trap cleanup EXIT

log=$(mktemp)
"$BUN" test --timeout 60000 "$@" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}

count() { grep -E "^ *[0-9]+ $1\$" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
pass=$(count pass); fail=$(count fail); skip=$(( $(count skip) + $(count todo) ))
if [ "$code" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
rm -f "$log"
summary "$pass" "$fail" "$skip"
exit "$code"
