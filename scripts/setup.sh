#!/usr/bin/env bash
# Installs the Debian packages Regio needs (only those missing), then configures and
# builds the release build in build/release. Safe to run again: quiet when up to date.
# Usage: scripts/setup.sh [release|debug]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-graph-dev libtbb-dev libhdf5-dev hdf5-tools catch2 libcli11-dev
  libyaml-cpp-dev librandom123-dev libfmt-dev libopenmpi-dev openmpi-bin
  python3 python3-h5py python3-numpy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "build/$preset/build.ninja" ]; then
  cmake --preset "$preset" -G Ninja >/dev/null
fi
cmake --build "build/$preset" -- --quiet 2>/dev/null || cmake --build "build/$preset"
