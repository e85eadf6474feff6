#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The README's "run it" command: builds the binary if needed and starts it on
# the embedded default (a local-disk backend under ./data), no server needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(bash scripts/bootstrap.sh)"
"$BUN" scripts/build.ts
exec dist/stowage quickstart --data-dir "${STOWAGE_DATA_DIR:-./data}" "$@"
