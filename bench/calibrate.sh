#!/usr/bin/env bash
# Calibration throughput: the German energy-cooperative calibration
# (scenarios/calibrated/de_energy_coops.calibration.toml: 2,000 model organisations, 44 steps,
# 300 particles, up to 10 generations) at 1 and 2 threads, and on 2 MPI ranks of 1 thread
# where mpirun is installed, as particle evaluations (runs) per second of `csei calibrate`, the
# wall time of the whole calibration, and the CPU the process got: its CPU time over its wall
# time, in cores. On a machine shared with other work the kernel's scheduler (autogroup: an
# equal share per session) may give the process less than 2 cores whatever its thread count;
# the "cores" column says so. Every run must give the same posterior (checked).
# Usage: bench/calibrate.sh [CALIBRATION.toml]   (builds Release first)
set -euo pipefail
cd "$(dirname "$0")/.."
cal=${1:-scenarios/calibrated/de_energy_coops.calibration.toml}
bash scripts/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
report() { # label, json summary, time file
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
label, summary, times = sys.argv[1:]
d = json.load(open(summary))
wall, user, sys_ = (float(x) for x in open(times).read().split()[-3:])
print("%-34s %6d evaluations in %6.2f s: %6.1f evaluations/s; %d generations, %.2f s in all; "
      "%.2f cores (CPU %.1f s), %.1f evaluations per CPU-second"
      % (label, d["evaluations"], d["run_seconds"], d["evaluations_per_second"],
         d["generations"], d["seconds"], (user + sys_) / wall, user + sys_,
         d["evaluations"] / (user + sys_)))
PY
}
runs=()
for t in 1 2; do
  /usr/bin/time -f "%e %U %S" -o "$out/time$t" build/csei calibrate "$cal" -o "$out/t$t.h5" \
    --threads "$t" --format json --no-progress >"$out/t$t.json"
  report "csei calibrate --threads $t" "$out/t$t.json" "$out/time$t"
  runs+=("$out/t$t.h5")
done
if command -v mpirun >/dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMPI_MCA_btl_vader_single_copy_mechanism=none
  /usr/bin/time -f "%e %U %S" -o "$out/timempi" mpirun -n 2 --oversubscribe \
    build/csei calibrate "$cal" -o "$out/mpi.h5" --threads 1 --format json --no-progress \
    >"$out/mpi.json"
  report "mpirun -n 2 csei calibrate --threads 1" "$out/mpi.json" "$out/timempi"
  runs+=("$out/mpi.h5")
fi
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "${runs[@]}" <<'PY'
import sys, h5py, numpy as np
files = [h5py.File(p) for p in sys.argv[1:]]
same = all(np.array_equal(files[0][k][:], f[k][:], equal_nan=True)
           for f in files[1:]
           for k in ("generations/particles", "generations/weights", "posterior/median"))
print("every run gives the same posterior:", "yes" if same else "NO")
sys.exit(0 if same else 1)
PY
