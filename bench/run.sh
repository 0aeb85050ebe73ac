#!/usr/bin/env bash
# Benchmark: builds Release, then runs a scenario (default: the EU-scale benchmark,
# scenarios/bench/eu_scale.toml: 2.8 million organisations, 120 monthly steps) under
# /usr/bin/time -v and prints wall time and peak memory of the whole process.
# Usage: bench/run.sh [SCENARIO] [--threads N] [more csei run options]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=scenarios/bench/eu_scale.toml
if [[ $# -gt 0 && "$1" != -* ]]; then scenario=$1; shift; fi
bash scripts/build.sh >/dev/null
command -v /usr/bin/time >/dev/null || bash scripts/setup.sh time
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v ./build/csei run "$scenario" -o "$out/bench.h5" --format json --no-progress "$@" \
  >"$out/summary.json" 2>"$out/time.txt"
wall=$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')
rss_kb=$(grep 'Maximum resident set size' "$out/time.txt" | awk '{print $NF}')
echo "scenario:    $scenario"
echo "summary:     $(cat "$out/summary.json")"
echo "wall time:   $wall (m:ss)"
echo "peak memory: $((rss_kb / 1024)) MiB"
