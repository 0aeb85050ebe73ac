#!/usr/bin/env bash
# Configures and builds csei (Release by default) into build/ (or $CSEI_BUILD_DIR).
# Extra arguments go to CMake's configure step, e.g. -DCSEI_WERROR=ON. CSEI_BUILD_TARGETS (e.g.
# "csei") builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CSEI_BUILD_DIR:-build}
extra=()
if [[ "${CI:-}" == "true" ]]; then extra+=(-DCSEI_WERROR=ON); fi
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${CSEI_BUILD_TYPE:-Release}" "${extra[@]}" "$@" >/dev/null
targets=()
for t in ${CSEI_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
