#!/usr/bin/env bash
# Side-by-side benchmark: csei against the NumPy/SciPy peer on the same model and size.
#
#   bench/peer.sh [--runs N] [--no-x10] [--no-peer] [--peer-x10] [--peer PATH] [--threads N]
#
# Builds Release (scripts/build.sh), then runs csei N times (default 3) under /usr/bin/time -v on
#   scenarios/bench/eu_scale.toml           2.8 M organisations, 8 partners, 120 Bass steps
#   scenarios/bench/eu_scale_clusters.toml  the same with the cluster model (3 innovations)
#   scenarios/bench/eu_x10.toml             28 M organisations, as eu_scale (--no-x10 skips it)
# and the peer (default ../shared/bench/peer_numpy.py next to the repository, or --peer PATH;
# `peer_numpy.py N_ORGS TERRITORIES STEPS`) N times at the matching size: 2800000 27 120. At
# 28 M the peer needs about 17 GiB, so it runs there only with --peer-x10 (default off).
# --no-peer skips the peer altogether (a quick run: --runs 1 --no-x10 --no-peer).
#
# Prints one table: median wall time and median peak RSS of each, csei's build and run seconds
# from its JSON summary (medians), and the ratios peer/csei (time) and csei/peer (memory). For
# eu_scale_clusters it also prints its run (step) phase per innovation divided by eu_scale's run
# phase (the product's target is <= 1.5 x).
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE may be set on this machine and slow NumPy down; the
# script unsets both for the peer's command only.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 x10=1 peer_on=1 peer_x10=0 peer=../shared/bench/peer_numpy.py csei_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --no-x10) x10=0; shift ;;
  --no-peer) peer_on=0; shift ;;
  --peer-x10) peer_x10=1; shift ;;
  --peer) peer=$2; shift 2 ;;
  --threads) csei_args+=(--threads "$2"); shift 2 ;;
  -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench/peer.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench/peer.sh: --runs needs a positive integer" >&2; exit 2; }
if [[ $peer_on == 1 && ! -f "$peer" ]]; then
  echo "bench/peer.sh: no peer at $peer (use --peer PATH or --no-peer); skipping the peer" >&2
  peer_on=0
fi

bash scripts/build.sh >/dev/null
command -v /usr/bin/time >/dev/null || bash scripts/setup.sh time
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One timed run: label, then the command; appends "label wall_s rss_kib" to $out/runs.txt.
timed() {
  local label=$1 r=$2
  shift 2
  /usr/bin/time -v "$@" >"$out/$label.$r.out" 2>"$out/$label.$r.time"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/$label.$r.time" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(awk '/Maximum resident set size/ {print $NF}' "$out/$label.$r.time")
  echo "$label $wall $rss" >>"$out/runs.txt"
}

scenarios=(eu_scale eu_scale_clusters)
[[ $x10 == 1 ]] && scenarios+=(eu_x10)
for r in $(seq "$runs"); do
  for sc in "${scenarios[@]}"; do
    echo "csei $sc, run $r of $runs ..." >&2
    timed "$sc" "$r" ./build/csei run "scenarios/bench/$sc.toml" -o "$out/$sc.h5" --format json \
      --no-progress "${csei_args[@]}"
    rm -f "$out/$sc.h5"
  done
  if [[ $peer_on == 1 ]]; then
    echo "peer 2800000, run $r of $runs ..." >&2
    timed peer_2800000 "$r" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      /usr/bin/python3 "$peer" 2800000 27 120
    if [[ $x10 == 1 && $peer_x10 == 1 ]]; then
      echo "peer 28000000, run $r of $runs ..." >&2
      timed peer_28000000 "$r" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        /usr/bin/python3 "$peer" 28000000 27 120
    fi
  fi
done

/usr/bin/python3 - "$out" "$runs" "${scenarios[@]}" <<'EOF'
import json, statistics, sys
from pathlib import Path

out, runs, scenarios = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
rows = {}
for line in (out / "runs.txt").read_text().split("\n"):
    if line:
        label, wall, rss = line.split()
        rows.setdefault(label, []).append((float(wall), int(rss)))

def med(label, i):
    return statistics.median(v[i] for v in rows[label]) if label in rows else None

def phase(sc, key):
    vals = [json.loads((out / f"{sc}.{r}.out").read_text())["seconds"][key] for r in range(1, runs + 1)]
    return statistics.median(vals)

size = {"eu_scale": 2800000, "eu_scale_clusters": 2800000, "eu_x10": 28000000}
fmt = lambda x, f: "-" if x is None else f.format(x)
head = ("scenario", "csei wall s", "csei peak MiB", "build s", "run s", "peer wall s",
        "peer peak MiB", "peer/csei time", "csei/peer memory")
table = []
for sc in scenarios:
    wall, rss = med(sc, 0), med(sc, 1) / 1024
    pw, pr = med(f"peer_{size[sc]}", 0), med(f"peer_{size[sc]}", 1)
    pr = pr / 1024 if pr is not None else None
    table.append((sc, fmt(wall, "{:.2f}"), fmt(rss, "{:,.0f}"), fmt(phase(sc, "build"), "{:.2f}"),
                  fmt(phase(sc, "run"), "{:.2f}"), fmt(pw, "{:.2f}"), fmt(pr, "{:,.0f}"),
                  fmt(pw / wall if pw else None, "{:.1f} x"),
                  fmt(rss / pr if pr else None, "{:.0%}")))
width = [max(len(str(r[i])) for r in [head] + table) for i in range(len(head))]
print(f"medians of {runs} run(s)")
for r in [head] + table:
    print("  ".join(str(c).rjust(w) for c, w in zip(r, width)))
if "eu_scale_clusters" in scenarios:
    k = len(json.loads((out / "eu_scale_clusters.1.out").read_text())["innovations"])
    ratio = phase("eu_scale_clusters", "run") / k / phase("eu_scale", "run")
    print(f"eu_scale_clusters run phase per innovation ({k} innovations) / eu_scale run phase: "
          f"{ratio:.2f} x (target <= 1.5 x)")
if "eu_x10" in scenarios:
    print(f"eu_x10 / eu_scale wall time: {med('eu_x10', 0) / med('eu_scale', 0):.1f} x "
          f"(target <= 12 x); eu_x10 peak: {med('eu_x10', 1) / 1024 ** 2:.2f} GiB (target <= 6)")
for label in sorted(rows):
    if label.startswith("peer_"):
        print(f"{label}: {(out / f'{label}.1.out').read_text().strip()}")
EOF
