#!/usr/bin/env bash
# Submits a sweep as a Slurm job array of N shards and the merge that waits for them.
#   scripts/slurm/submit-sweep-shards.sh SWEEP.toml OUT.h5 N [sbatch options for the shards...]
# CSEI names the program (default: build/csei of this checkout if built, else csei on PATH).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 SWEEP.toml OUT.h5 N [sbatch options for the shards...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
export SWEEP=$1 OUT=$2 SHARDS=$3
shift 3
if [[ ! "$SHARDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: N must be a positive integer, got '$SHARDS'" >&2
  exit 2
fi
if [[ -z "${CSEI:-}" ]]; then
  CSEI=csei
  if [[ -x "$here/../../build/csei" ]]; then CSEI=$(cd "$here/../../build" && pwd)/csei; fi
fi
export CSEI
"$CSEI" validate "$SWEEP" >/dev/null # a bad sweep file stops here, not in the queue
array=$(sbatch --parsable --array="1-$SHARDS" "$@" "$here/sweep-shard.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/sweep-merge.sbatch")
echo "submitted: shards $array (array 1-$SHARDS), merge ${merge%%;*} -> $OUT"
