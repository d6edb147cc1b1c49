#!/usr/bin/env bash
# Sets everything up, then runs the default region (Key Region Leiden, 2026-2046).
# Extra arguments go to `regio run`, e.g. scripts/run.sh --seed 7 -o out.h5
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" release
exec "$root/build/release/regio" run "$@"
