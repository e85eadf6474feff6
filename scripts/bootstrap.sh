#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Makes the pinned Bun and the locked npm packages present, on a machine that
# may have only Node and npm. Sourced by start.sh and test.sh; prints BUN=<path>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want=$(node -p "require('./package.json').devDependencies.bun")
bun=node_modules/.bin/bun
if [ ! -x "$bun" ] || [ "$("$bun" --version 2>/dev/null)" != "$want" ]; then
  # Bun is not installed yet: fetch exactly the pinned version from npm into a
  # private prefix, then let it install the project (including itself).
  boot=.cache/bun-$want
  if [ ! -x "$boot/node_modules/.bin/bun" ]; then
    echo "bootstrap: installing bun@$want from npm" >&2
    if command -v npm >/dev/null; then
      npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$boot" "bun@$want" >&2
    else
      node scripts/fetch-bun.mjs "$want" "$boot"
    fi
  fi
  bun=$boot/node_modules/.bin/bun
  if ! "$bun" --version >/dev/null 2>&1; then
    # npm skipped bun's postinstall: the real binary ships in the platform package.
    bun=$(ls "$boot"/node_modules/@oven/bun-linux-*/bin/bun | head -n 1)
  fi
fi
"$bun" install --frozen-lockfile --silent >&2
[ -x node_modules/.bin/bun ] && bun=node_modules/.bin/bun
echo "BUN=$PWD/$bun"
