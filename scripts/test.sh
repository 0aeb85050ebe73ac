#!/usr/bin/env bash
# Set-up, Release build, then every test: the C++ tests (ctest) and the Python tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
CSEI_BIN="$PWD/build/csei" /usr/bin/python3 -m pytest -q tests
