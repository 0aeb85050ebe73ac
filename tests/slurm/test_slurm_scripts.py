"""The Slurm scripts of scripts/slurm (docs/cluster.md): valid bash (bash -n, and shellcheck
where installed), and run end to end under a fake Slurm: `sbatch` runs the job at once (each
task of an --array in turn, with SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, after
checking that a --dependency names a job it already ran), `srun` starts 2 MPI ranks with mpirun
(or the program alone without mpirun). A sweep and a calibration, each as one MPI job and as a
job array of 3 shards merged afterwards, give files identical to a single process's. (Not in
tests/cli, which scripts/sanitize.sh runs under LeakSanitizer: OpenMPI leaks at exit.)"""
import json
import os
import pathlib
import shutil
import subprocess

import h5py
import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SLURM = REPO / "scripts" / "slurm"
SCRIPTS = sorted(SLURM.glob("*.sbatch")) + sorted(SLURM.glob("*.sh"))
DATA = REPO / "tests" / "calibrate" / "data"

FAKE_SBATCH = r"""#!/usr/bin/env bash
# A fake sbatch: runs the job now and prints its id.
set -euo pipefail
log=$FAKE_SLURM_DIR/jobs
parsable=0 array=""
while [[ $# -gt 0 && "$1" == -* ]]; do
  case "$1" in
    --parsable) parsable=1 ;;
    --array=*) array=${1#--array=} ;;
    --dependency=afterok:*)
      dep=${1#--dependency=afterok:}
      grep -q "^$dep " "$log" || { echo "fake sbatch: dependency on unknown job $dep" >&2; exit 1; } ;;
    --dependency=*) echo "fake sbatch: unexpected $1" >&2; exit 1 ;;
    --*=*) ;;
    *) echo "fake sbatch: unexpected option $1" >&2; exit 1 ;;
  esac
  shift
done
script=$1
shift
bash -n "$script"
if grep '^#SBATCH' "$script" | grep -Evq '^#SBATCH --[a-z-]+(=[^ ]+)?$'; then
  echo "fake sbatch: a malformed #SBATCH line in $script" >&2; exit 1
fi
id=$(( $(wc -l < "$log") + 1001 ))
echo "$id $(basename "$script") ${array:-single}" >> "$log"
if [[ -n "$array" ]]; then
  lo=${array%-*} hi=${array#*-}
  for ((k = lo; k <= hi; k++)); do
    SLURM_JOB_ID=$id SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$k \
      SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) SLURM_CPUS_PER_TASK=1 \
      bash "$script" "$@" > "$FAKE_SLURM_DIR/job-${id}_$k.log" 2>&1 ||
      { echo "fake sbatch: task $k of job $id failed" >&2; cat "$FAKE_SLURM_DIR/job-${id}_$k.log" >&2; exit 1; }
  done
else
  SLURM_JOB_ID=$id SLURM_CPUS_PER_TASK=1 bash "$script" "$@" > "$FAKE_SLURM_DIR/job-$id.log" 2>&1 ||
    { echo "fake sbatch: job $id failed" >&2; cat "$FAKE_SLURM_DIR/job-$id.log" >&2; exit 1; }
fi
if ((parsable)); then echo "$id"; else echo "Submitted batch job $id"; fi
"""

FAKE_SRUN = r"""#!/usr/bin/env bash
# A fake srun: 2 MPI ranks with mpirun where there is one, else the program alone.
set -euo pipefail
echo "srun $*" >> "$FAKE_SLURM_DIR/srun"
if command -v mpirun >/dev/null; then
  exec mpirun -n 2 --oversubscribe --allow-run-as-root "$@"
fi
exec "$@"
"""

SWEEP = """
name = "slurm_sweep"
scenario = "{repo}/tests/data/small.toml"
set = ["time.steps=18", "organisations.total=1500"]
replicates = 2
seed = 3
[design]
kind = "lhs"
samples = 6
[[parameters]]
key = "innovations[0].q"
range = [0.5, 2.0]
[outcomes]
metrics = ["*.final_share"]
series = "total"
"""


def small_calibration(tmp_path):
    text = (DATA / "bass_recovery.toml").read_text()
    text = text.replace("particles = 200", "particles = 16").replace("generations = 8",
                                                                     "generations = 2")
    text = text.replace("predictive = 50", "predictive = 4\nbatch = 6")
    for name in ("bass_small.toml", "bass_observed.csv"):
        text = text.replace(f'"{name}"', json.dumps(str(DATA / name)))
    path = tmp_path / "cal.toml"
    path.write_text(text)
    return path


@pytest.fixture
def slurm(tmp_path, csei):
    """An environment whose sbatch and srun are the fakes."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    state = tmp_path / "slurm"
    state.mkdir()
    (state / "jobs").write_text("")
    env = dict(os.environ)
    env.update(PATH=f"{bin_dir}:{env['PATH']}", FAKE_SLURM_DIR=str(state), CSEI=csei,
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env, state


def run(cmd, env=None, cwd=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300,
                          env=env, cwd=cwd)


def jobs(state):
    return [line.split() for line in (state / "jobs").read_text().splitlines()]


def assert_same_datasets(a, b, skip=("generations/seconds",)):
    names = []
    with h5py.File(a, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    assert names
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        other = []
        fb.visititems(lambda n, o: other.append(n) if isinstance(o, h5py.Dataset) else None)
        assert sorted(names) == sorted(other)
        for n in names:
            if n in skip:
                continue
            x, y = fa[n][()], fb[n][()]
            assert x.shape == y.shape, n
            if x.dtype.kind == "f":
                assert np.array_equal(x, y, equal_nan=True), n
            else:
                assert np.array_equal(x, y), n


def test_every_script_is_valid_bash():
    assert len(SCRIPTS) == 8
    for s in SCRIPTS:
        r = run(["bash", "-n", s])
        assert r.returncode == 0, f"{s.name}: {r.stderr}"
        assert os.access(s, os.X_OK), f"{s.name} is not executable"
        assert s.read_text().startswith("#!/usr/bin/env bash\n"), s.name
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck not found (scripts/test.sh installs it)")
        pytest.skip("shellcheck not installed: bash -n only")
    r = run(["shellcheck", "-s", "bash", *SCRIPTS])
    assert r.returncode == 0, r.stdout


def test_array_tasks_refuse_to_run_outside_an_array(slurm, tmp_path):
    env, _ = slurm
    env = {k: v for k, v in env.items() if not k.startswith("SLURM_")}
    env.update(CAL="x.toml", OUT="x.h5", SWEEP="x.toml")
    for name in ("calibrate-shard.sbatch", "sweep-shard.sbatch"):
        r = run(["bash", SLURM / name], env=env)
        assert r.returncode != 0 and "submit as a job array" in r.stderr, (name, r.stderr)
    r = run(["bash", SLURM / "submit-calibrate-shards.sh", "only-two", "args"], env=env)
    assert r.returncode == 2 and "usage:" in r.stderr
    r = run(["bash", SLURM / "submit-sweep-shards.sh", "s.toml", "o.h5", "zero"], env=env)
    assert r.returncode == 2 and "positive integer" in r.stderr


def test_calibration_as_rounds_of_job_arrays_and_as_one_mpi_job(slurm, tmp_path, csei):
    env, state = slurm
    cal = small_calibration(tmp_path)
    single = tmp_path / "single.h5"
    r = run([csei, "calibrate", cal, "-o", single, "--threads", "1", "--format", "json"])
    assert r.returncode == 0, r.stderr

    out = tmp_path / "sharded.h5"
    r = run(["bash", SLURM / "submit-calibrate-shards.sh", cal, out, "3", "--time=00:10:00"],
            env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "submitted: round 1" in r.stdout
    done = jobs(state)
    arrays = [j for j in done if j[1] == "calibrate-shard.sbatch"]
    merges = [j for j in done if j[1] == "calibrate-merge.sbatch"]
    # Two generations and the predictive runs: at least 3 rounds, each an array and a merge.
    assert len(arrays) == len(merges) >= 3 and all(j[2] == "1-3" for j in arrays)
    last = (state / f"job-{merges[-1][0]}.log").read_text()
    assert "calibration complete" in last
    assert not list(tmp_path.glob("sharded.h5.shard-*")) and not (tmp_path /
                                                                  "sharded.h5.journal").exists()
    assert_same_datasets(single, out)

    mpi = tmp_path / "mpi.h5"
    env = dict(env, CAL=str(cal), OUT=str(mpi))
    r = run(["sbatch", SLURM / "calibrate.sbatch"], env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Submitted batch job" in r.stdout
    assert (state / "srun").read_text().count(" calibrate ") == 1
    assert_same_datasets(single, mpi)
    if shutil.which("mpirun"):
        with h5py.File(mpi) as f:
            assert f.attrs["ranks"] == 2


def test_sweep_as_a_job_array_and_as_one_mpi_job(slurm, tmp_path, csei, repo):
    env, state = slurm
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP.format(repo=repo))
    single = tmp_path / "single.h5"
    r = run([csei, "sweep", sweep, "-o", single, "--threads", "1", "--format", "json"])
    assert r.returncode == 0, r.stderr

    out = tmp_path / "sharded.h5"
    r = run(["bash", SLURM / "submit-sweep-shards.sh", sweep, out, "3"], env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    done = jobs(state)
    assert [j[1:] for j in done] == [["sweep-shard.sbatch", "1-3"],
                                     ["sweep-merge.sbatch", "single"]]
    assert not list(tmp_path.glob("sharded.h5.shard-*"))
    assert_same_datasets(single, out)

    mpi = tmp_path / "mpi.h5"
    r = run(["sbatch", SLURM / "sweep.sbatch"], env=dict(env, SWEEP=str(sweep), OUT=str(mpi)),
            cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_same_datasets(single, mpi)
