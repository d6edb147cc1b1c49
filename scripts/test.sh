#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite through CTest.
# Usage: scripts/test.sh            release build, all tests
#        scripts/test.sh --debug    debug build with AddressSanitizer and UBSan
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset=release
[ "${1:-}" = "--debug" ] && preset=debug
"$root/scripts/setup.sh" "$preset"
cd "$root/build/$preset"
exec ctest --output-on-failure -j2 --timeout 900
