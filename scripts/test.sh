#!/usr/bin/env bash
# Builds Kennel and runs every test: unit tests and end-to-end tests that start
# the real binary and drive it with kubectl and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
