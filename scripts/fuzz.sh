#!/usr/bin/env bash
# Fuzzing (README "Fuzzing"): builds the libFuzzer targets of tests/fuzz with clang, ASan and
# UBSan into build-fuzz/ (or $CSEI_FUZZ_BUILD_DIR), runs each for SECONDS (default 60), seeded
# from the committed corpus tests/fuzz/corpus/<target>/ and the shipped files (scenarios/), then
# replays the committed corpus (past findings, regression inputs). Any finding (crash, sanitizer
# report, leak, timeout) makes it exit non-zero; the input is left in build-fuzz/findings/<target>/
# to be fixed and then committed to tests/fuzz/corpus/<target>/.
# CSEI_FUZZ_SEED (default 0: a new random seed each run) fixes libFuzzer's seed: CI sets it, so
# that CI's fuzzing is repeatable (the same seed, corpus and program explore the same inputs, and
# a run with that seed here, as long or longer, has tried what CI will try); exploring with new
# seeds is a developer's run.
# Usage: [CSEI_FUZZ_SEED=N] scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=${CSEI_FUZZ_BUILD_DIR:-build-fuzz}
seed=${CSEI_FUZZ_SEED:-0}
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(scenario territory_csv sweep_spec journal workshop run_file sweep_file run_from
    calibration_state)
fi
command -v clang++ >/dev/null || bash scripts/setup.sh clang

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCSEI_FUZZ=ON -DCSEI_BUILD_TESTS=OFF -DCSEI_WITH_MPI=OFF -DCSEI_PYTHON=OFF \
  "${launcher[@]}" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j"$(nproc)" "${build_targets[@]}"

# The shipped files each target starts from, besides its committed corpus.
seeds() {
  case "$1" in
  scenario) find scenarios tests/data -name '*.toml' -not -path '*/sweeps/*' ;;
  territory_csv) find scenarios/data -name '*.csv' ;;
  sweep_spec) find scenarios/sweeps -name '*.toml' ;;
  esac
}
# The HDF5 targets read their input as edits of a valid file (tests/fuzz/h5_edit.hpp): a 16-bit
# object index, a 16-bit attribute index, the edit kind, then its values. Their starting points
# are single edits: each of the first 24 objects and attributes, by each kind of edit that
# changes values or shapes (attribute rewritten, integer attribute, dataset of another type and
# shape, one element overwritten, object deleted, huge declared extent).
h5_edit_seeds() {
  local dir=$1 o k x y
  for o in $(seq 0 23); do
    for k in 0 1 3 4 6 7; do
      x=$(printf %02x "$o") y=$(printf %02x "$k")
      printf "\\x00\\x$x\\x00\\x$x\\x$y\\x01\\x02\\x03\\xff\\xff\\xff\\xff\\x80" >"$dir/edit-$o-$k"
    done
  done
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  corpus="$build/corpus/$t"
  findings="$build/findings/$t"
  # A fixed seed starts from the committed corpus and the shipped files only, as in CI.
  if ((seed != 0)); then rm -rf "$corpus"; fi
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  while IFS= read -r f; do cp -n "$f" "$corpus/seed-$(basename "$f")"; done < <(seeds "$t")
  case "$t" in run_file | sweep_file | run_from) h5_edit_seeds "$corpus" ;; esac
  echo "fuzz: $t for ${seconds} s (seed ${seed/#0/random})"
  log="$build/fuzz-$t.log"
  if ! "$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
    -seed="$seed" -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1; then
    echo "fuzz: $t: FINDING (log: $log, input in $findings/)" >&2
    grep -E "ERROR|finding|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
  grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|cov: " "$log" | tail -2 | sed "s/^/fuzz: $t: /"
  # The committed corpus as regression inputs (each file run once).
  if ! "$exe" -runs=1 tests/fuzz/corpus/"$t"/* >"$build/replay-$t.log" 2>&1; then
    echo "fuzz: $t: the committed corpus fails (log: $build/replay-$t.log)" >&2
    failed+=("$t (corpus)")
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no finding in ${targets[*]} (${seconds} s each)"
