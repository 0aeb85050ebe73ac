#!/usr/bin/env bash
# Sanitizer builds and runs: every C++ test under AddressSanitizer + UndefinedBehaviorSanitizer,
# and the parallel parts (world building, kernel, output, the workshop's worker pool) under
# ThreadSanitizer. The sweep runner schedules runs on oneTBB directly; Debian's TBB is not
# instrumented, so TSan would report false races inside it: the sweep tests run under ASan only.
# Usage: scripts/sanitize.sh [asan|tsan]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=("$@")
if ((${#which[@]} == 0)); then which=(asan tsan); fi
werror=()
if [[ "${CI:-}" == "true" ]]; then werror=(-DCSEI_WERROR=ON); fi

for w in "${which[@]}"; do
  case "$w" in
  asan)
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSEI_SANITIZE=address,undefined \
      "${werror[@]}" >/dev/null
    cmake --build build-asan -j"$(nproc)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
    # The command-line program end to end, instrumented too.
    CSEI_BIN="$PWD/build-asan/csei" ASAN_OPTIONS=detect_leaks=1 \
      /usr/bin/python3 -m pytest -q tests/cli
    ;;
  tsan)
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSEI_SANITIZE=thread \
      "${werror[@]}" >/dev/null
    cmake --build build-tsan -j"$(nproc)" --target csei_tests
    TSAN_OPTIONS="halt_on_error=1" \
      ./build-tsan/tests/csei_tests "[world],[kernel],[output],[workshop]"
    ;;
  *)
    echo "unknown sanitizer set '$w' (asan or tsan)" >&2
    exit 2
    ;;
  esac
done
