#!/usr/bin/env bash
# Sweep throughput: a 200-run sweep of a small scenario (bench/sweep_small.toml: 30,000
# organisations, 36 steps) at 1 and 2 threads, as runs per second of `csei sweep`, and for
# scale the same scenario as 20 single `csei run` calls (one process and one file per run).
# Usage: bench/sweep.sh   (builds Release first; run it on an otherwise idle machine)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for t in 1 2; do
  build/csei sweep bench/sweep_small.toml -o "$out/t$t.h5" --threads "$t" --format json |
    /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
print("csei sweep --threads %d: %d runs in %.2f s, %.1f runs/s"
      % (d["threads"], d["runs"], d["run_seconds"], d["runs_per_second"]))'
done
for t in 1 2; do
  start=$(date +%s.%N)
  for seed in $(seq 1 20); do
    build/csei run tests/data/small.toml --set organisations.total=30000 --seed "$seed" \
      --threads "$t" -o "$out/run.h5" --format json >/dev/null
  done
  end=$(date +%s.%N)
  /usr/bin/python3 -c "print(f'csei run --threads $t, 20 single runs: {20 / ($end - $start):.1f} runs/s')"
done
