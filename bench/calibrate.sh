#!/usr/bin/env bash
# Calibration throughput: the German energy-cooperative calibration
# (scenarios/calibrated/de_energy_coops.calibration.toml: 2,000 model organisations, 44 steps,
# 300 particles, up to 10 generations) at 1 and 2 threads, as particle evaluations (runs) per
# second of `csei calibrate` and the wall time of the whole calibration. The two runs must give
# the same posterior (checked). Usage: bench/calibrate.sh [CALIBRATION.toml]
# (builds Release first; run it on an otherwise idle machine)
set -euo pipefail
cd "$(dirname "$0")/.."
cal=${1:-scenarios/calibrated/de_energy_coops.calibration.toml}
bash scripts/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for t in 1 2; do
  build/csei calibrate "$cal" -o "$out/t$t.h5" --threads "$t" --format json --no-progress |
    /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
print("csei calibrate --threads %d: %d evaluations in %.2f s, %.1f evaluations/s; %d generations, %.2f s in all"
      % (d["threads"], d["evaluations"], d["run_seconds"], d["evaluations_per_second"],
         d["generations"], d["seconds"]))'
done
/usr/bin/python3 - "$out/t1.h5" "$out/t2.h5" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p) for p in sys.argv[1:])
same = all(np.array_equal(a[k][:], b[k][:], equal_nan=True)
           for k in ("generations/particles", "generations/weights", "posterior/median"))
print("1 and 2 threads give the same posterior:", "yes" if same else "NO")
sys.exit(0 if same else 1)
PY
