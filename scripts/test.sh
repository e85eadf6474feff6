#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The README's test command: installs what is missing (Bun and npm packages;
# Chromium, Ceph RGW and the S3 clients from Debian when run as root), builds the
# binary, starts a throwaway RGW unless S3_ENDPOINT points elsewhere, runs every
# test (type-check, unit/HTTP, compiled binary, real S3 clients, browser), and
# ends with the line "N passed, N failed, N skipped". Extra arguments go to
# `bun test` (e.g. a path filter). Without arguments, the store, service and HTTP
# suites then run a second time against a throwaway PostgreSQL
# (scripts/start-postgres.sh, Debian's postgresql, installed with the other test
# dependencies), the multi-replica tests among them; STOWAGE_PG=0 skips that pass.
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
started_pg=0
cleanup() {
  [ "$started_rgw" = 1 ] && [ -z "${KEEP_RGW:-}" ] && bash scripts/stop-rgw.sh >/dev/null 2>&1
  [ "$started_pg" = 1 ] && bash scripts/stop-postgres.sh >/dev/null 2>&1
  true
}
trap cleanup EXIT

log=$(mktemp)
failures=$(mktemp)
count() { grep -E "^ *[0-9]+ $1\$" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
pass=0 fail=0 skip=0 code=0
run() {
  "$BUN" test --timeout 60000 "$@" 2>&1 | tee "$log"
  local c=${PIPESTATUS[0]} f
  grep -B 20 -E '^\(fail\) ' "$log" >> "$failures"
  f=$(count fail)
  if [ "$c" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + $(count pass))); fail=$((fail + f)); skip=$((skip + $(count skip) + $(count todo)))
  [ "$c" -ne 0 ] && code=$c
  true
}

# The multi-replica tests need PostgreSQL: they run in the second pass, not as skips in this one.
if [ $# -eq 0 ]; then run --path-ignore-patterns='tests/replicas/**'; else run "$@"; fi

# The suites that talk to the store, again on PostgreSQL.
PG_SUITES=(tests/sqlite tests/users tests/auth tests/audit tests/grants tests/authz.test.ts tests/credentials tests/shares tests/quotas tests/sizes tests/pins tests/http tests/health tests/buckets tests/s3proxy tests/replicas)
if [ $# -eq 0 ] && [ "${STOWAGE_PG:-1}" != 0 ]; then
  if pg_env=$(bash scripts/start-postgres.sh); then
    started_pg=1
    echo "--- the store suites again, on PostgreSQL ---"
    PG_URL=${pg_env#PG_URL=} STOWAGE_TEST_STORE=postgres run "${PG_SUITES[@]}"
  else
    echo "could not start PostgreSQL" >&2
    fail=$((fail + 1)); code=1
  fi
fi
# CI keeps only the end of the output: what failed, with the lines before it, right above the summary.
if [ -s "$failures" ]; then echo "--- failed ---"; cat "$failures"; fi
rm -f "$log" "$failures"
summary "$pass" "$fail" "$skip"
exit "$code"
