#!/usr/bin/env bash
# Set-up, Release build, then the default scenario (scenarios/baseline_eu27.toml).
# Prints a summary and where the output went. Extra arguments go to `csei run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
CSEI_BUILD_TARGETS=csei bash scripts/build.sh # the program only, not the test suites
./build/csei run scenarios/baseline_eu27.toml "$@"
