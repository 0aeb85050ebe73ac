#!/usr/bin/env bash
# Set-up, Release build, then every test: the C++ tests (ctest) and the Python tests (pytest),
# which include workshop mode's API, load and browser tests (tests/workshop; the browser test
# needs Node, npm and Chromium: `npm ci` runs here in tests/workshop/browser when needed), then
# the installed package (scripts/test-install.sh: the CMake package, the program, the Python package).
set -euo pipefail
cd "$(dirname "$0")/.."
# The analysis tests and the workshop page's test use headless Chromium; xarray and h5netcdf read
# run files as netCDF; shellcheck checks the Slurm scripts (scripts/slurm); Node and npm install
# playwright-core for the browser test (a Node that is already there, with its npm, is kept).
bash scripts/setup.sh chromium python3-xarray python3-h5netcdf python3-pil shellcheck
command -v npm >/dev/null || bash scripts/setup.sh nodejs npm
# clang for the fuzz targets (scripts/fuzz.sh); here ctest only replays their committed corpus.
bash scripts/setup.sh clang
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
browser=tests/workshop/browser
if command -v npm >/dev/null; then
  version() { node -p "require('./$browser/$1').$2" 2>/dev/null || true; }
  if [[ "$(version node_modules/playwright-core/package.json version)" != \
    "$(version package.json "dependencies['playwright-core']")" ]]; then
    (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
CSEI_BIN="$PWD/build/csei" /usr/bin/python3 -m pytest -q tests
bash scripts/test-install.sh
