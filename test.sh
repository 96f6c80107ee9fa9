#!/usr/bin/env bash
# attnrate: install what is missing, build, run every test (unit and claim tests) through ctest.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
