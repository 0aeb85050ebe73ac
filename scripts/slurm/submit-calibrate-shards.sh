#!/usr/bin/env bash
# Submits a calibration as rounds of Slurm job arrays: a round of N shards, then a merge that
# submits the next round until the calibration is complete (one round fills a generation at
# its estimated acceptance rate; the posterior predictive runs are the last round).
#   scripts/slurm/submit-calibrate-shards.sh CAL.toml OUT.h5 N [sbatch options for the shards...]
# CSEI names the program (default: build/csei of this checkout if built, else csei on PATH).
# Resubmitting after a failure continues from the journal ($OUT.journal).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 CAL.toml OUT.h5 N [sbatch options for the shards...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
export CAL=$1 OUT=$2 SHARDS=$3 CSEI_SLURM=$here
shift 3
if [[ ! "$SHARDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: N must be a positive integer, got '$SHARDS'" >&2
  exit 2
fi
export CSEI_SHARD_OPTIONS="$*"
if [[ -z "${CSEI:-}" ]]; then
  CSEI=csei
  if [[ -x "$here/../../build/csei" ]]; then CSEI=$(cd "$here/../../build" && pwd)/csei; fi
fi
export CSEI
"$CSEI" calibrate "$CAL" -o "$OUT" --dry-run >/dev/null # a bad file stops here, not in the queue
array=$(sbatch --parsable --array="1-$SHARDS" "$@" "$here/calibrate-shard.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/calibrate-merge.sbatch")
echo "submitted: round 1 shards $array (array 1-$SHARDS), merge ${merge%%;*} -> $OUT"
