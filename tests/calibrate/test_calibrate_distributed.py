"""csei calibrate beyond one process: under mpirun with 2 ranks, and as rounds of 3 shards
merged into the journal, the result file's datasets are bit-identical to a single process's
(generations/seconds, a wall time, aside); a calibration switches between shards and a plain
--resume at any round; bad shard sets (one missing, one twice, one of another calibration or of
another round, a damaged one) are input errors naming the file and change nothing."""
import json
import os
import pathlib
import shutil
import subprocess

import h5py
import numpy as np
import pytest

DATA = pathlib.Path(__file__).resolve().parent / "data"

# Wall times; everything else in the file must be identical.
TIMES = {"generations/seconds"}


def small_calibration(tmp_path, seed=42):
    """The Bass recovery calibration made small: 24 particles, 3 generations, batches of 7
    proposals, 6 predictive runs."""
    text = (DATA / "bass_recovery.toml").read_text()
    text = text.replace("particles = 200", "particles = 24").replace("generations = 8",
                                                                     "generations = 3")
    text = text.replace("predictive = 50", "predictive = 6\nbatch = 7")
    text = text.replace("seed = 42", f"seed = {seed}")
    for name in ("bass_small.toml", "bass_observed.csv"):
        text = text.replace(f'"{name}"', json.dumps(str(DATA / name)))
    path = tmp_path / f"small{seed}.toml"
    path.write_text(text)
    return path


def run(cmd, env=None):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300,
                          env=env)


def calibrate(csei, cal, out, *extra, env=None, prefix=()):
    return run([*prefix, csei, "calibrate", cal, "-o", out, "--format", "json", "--no-progress",
                *extra], env=env)


def datasets(path):
    names = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(names)


def assert_identical(a, b):
    """Every dataset of a and b equal bit for bit (NaN equals NaN), but the wall times."""
    names = datasets(a)
    assert names == datasets(b)
    assert "generations/particles" in names and "targets/0/predictive_series" in names
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for name in names:
            if name in TIMES:
                continue
            x, y = fa[name][()], fb[name][()]
            assert x.dtype == y.dtype and x.shape == y.shape, name
            if x.dtype.kind == "f":
                assert np.array_equal(x.view(np.uint64), y.view(np.uint64)), name
            else:
                assert np.array_equal(x, y), name
        for attr in ("evaluations", "failed", "generations", "stop_reason", "complete"):
            assert fa.attrs[attr] == fb.attrs[attr], attr


@pytest.fixture(scope="module")
def single(csei, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    cal = small_calibration(tmp)
    out = tmp / "one.h5"
    r = calibrate(csei, cal, out, "--threads", "1")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["generations"] == 3 and summary["ranks"] == 1
    return cal, out, summary


def mpi_env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def mpirun():
    path = shutil.which("mpirun")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mpirun not found (scripts/setup.sh installs openmpi-bin)")
        pytest.skip("mpirun not installed (scripts/setup.sh installs openmpi-bin)")
    return [path, "-n", "2", "--oversubscribe", "--allow-run-as-root"]


def shard_round(csei, cal, out, n=3, threads="1"):
    """One round: shards 1..n, then the merge; returns the merge's summary."""
    for k in range(1, n + 1):
        r = calibrate(csei, cal, out, "--shard", f"{k}/{n}", "--threads", threads)
        assert r.returncode == 0, r.stderr
        s = json.loads(r.stdout)
        assert s["shard"] == f"{k}/{n}" and s["output"] == f"{out}.shard-{k}-of-{n}"
    r = calibrate(csei, cal, out, "--merge")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_two_mpi_ranks_identical_to_one_process(csei, single, tmp_path):
    cal, one, _ = single
    two = tmp_path / "two.h5"
    r = calibrate(csei, cal, two, "--threads", "1", env=mpi_env(), prefix=mpirun())
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)  # rank 0 alone reports
    assert summary["ranks"] == 2 and summary["complete"]
    with h5py.File(two, "r") as f:
        assert f.attrs["ranks"] == 2 and f.attrs["shards"] == 0
    r = run([csei, "info", two])
    assert "x 2 MPI rank(s)" in r.stdout, r.stdout + r.stderr
    assert_identical(one, two)
    assert not (tmp_path / "two.h5.journal").exists()
    # A different seed under 2 ranks differs (the comparison can fail).
    other = tmp_path / "other.h5"
    r = calibrate(csei, small_calibration(tmp_path, seed=43), other, env=mpi_env(),
                  prefix=mpirun())
    assert r.returncode == 0, r.stderr
    with pytest.raises(AssertionError):
        assert_identical(one, other)


def test_three_shards_merged_by_round_identical_to_one_process(csei, single, tmp_path):
    cal, one, summary = single
    out = tmp_path / "sharded.h5"
    rounds = []
    while not out.exists():
        s = shard_round(csei, cal, out)
        rounds.append(s)
        assert not list(tmp_path.glob("sharded.h5.shard-*")), "merged shard files are removed"
        if not s["complete"]:
            assert (tmp_path / "sharded.h5.journal").exists()
        assert len(rounds) < 20
    assert rounds[-1]["complete"] and rounds[-1]["shards"] == 3
    assert all(not s["complete"] for s in rounds[:-1])
    # Generation 0 fills in one round; the predictive runs are a round of their own.
    assert len(rounds) >= summary["generations"] + 1
    assert rounds[-2]["predictive"]
    assert not (tmp_path / "sharded.h5.journal").exists()
    with h5py.File(out, "r") as f:
        assert f.attrs["shards"] == 3
    assert_identical(one, out)
    r = run([csei, "info", out])
    assert r.returncode == 0 and "made in rounds of 3 shards" in r.stdout, r.stdout + r.stderr


def test_shards_then_mpi_resume_gives_the_same_file(csei, single, tmp_path):
    """Two rounds of shards leave the journal a generation in progress (or a complete one);
    csei calibrate --resume under 2 MPI ranks finishes from it to the same file."""
    cal, one, _ = single
    out = tmp_path / "mixed.h5"
    for _ in range(2):
        assert not shard_round(csei, cal, out, n=2)["complete"]
    text = (tmp_path / "mixed.h5.journal").read_text()
    assert text.startswith("csei calibration journal 2\n")
    r = calibrate(csei, cal, out)
    assert r.returncode == 2 and "add --resume" in r.stderr
    r = calibrate(csei, cal, out, "--resume", env=mpi_env(), prefix=mpirun())
    assert r.returncode == 0, r.stdout + r.stderr
    assert_identical(one, out)


def test_bad_shard_sets_are_refused_naming_the_file(csei, single, tmp_path):
    cal, _, _ = single
    out = tmp_path / "bad.h5"
    shards = []
    for k in (1, 2, 3):
        r = calibrate(csei, cal, out, "--shard", f"{k}/3")
        assert r.returncode == 0, r.stderr
        shards.append(tmp_path / f"bad.h5.shard-{k}-of-3")

    def refused(*files, pattern):
        r = calibrate(csei, cal, out, "--merge", *files)
        assert r.returncode == 2, r.stdout + r.stderr
        assert pattern in r.stderr, r.stderr
        assert not out.exists() and not (tmp_path / "bad.h5.journal").exists()
        return r.stderr

    # A shard missing.
    moved = tmp_path / "elsewhere"
    shards[2].rename(moved)
    err = refused(pattern="shard 3/3 of the round is missing")
    assert str(shards[2]) in err
    moved.rename(shards[2])
    # The same shard twice (two names for it).
    twin = tmp_path / "twin"
    shutil.copy(shards[1], twin)
    err = refused(shards[0], shards[1], twin, shards[2], pattern="is shard 2/3 again")
    assert str(twin) in err
    # A shard of another calibration (another seed).
    other_cal = small_calibration(tmp_path, seed=7)
    other = tmp_path / "other.h5"
    assert calibrate(csei, other_cal, other, "--shard", "2/3").returncode == 0
    err = refused(shards[0], tmp_path / "other.h5.shard-2-of-3", shards[2],
                  pattern="belongs to a different calibration")
    assert "other.h5.shard-2-of-3" in err
    # A shard of another N.
    assert calibrate(csei, cal, other, "--shard", "1/2").returncode == 0
    err = refused(shards[0], tmp_path / "other.h5.shard-1-of-2", pattern="share N")
    assert "other.h5.shard-1-of-2" in err
    # A damaged shard (cut short).
    cut = tmp_path / "cut"
    data = shards[0].read_bytes()
    cut.write_bytes(data[: len(data) - 5])
    err = refused(cut, shards[1], shards[2], pattern="not a whole calibration shard file")
    assert str(cut) in err
    # Not a shard file at all.
    err = refused(cal, shards[1], shards[2], pattern="is not a calibration shard file")
    # The good set merges; a shard kept from that round is refused by the next one.
    old = tmp_path / "old-round"
    shutil.copy(shards[0], old)
    r = calibrate(csei, cal, out, "--merge")
    assert r.returncode == 0, r.stderr
    journal = (tmp_path / "bad.h5.journal").read_text()
    for k in (2, 3):
        assert calibrate(csei, cal, out, "--shard", f"{k}/3").returncode == 0
    r = calibrate(csei, cal, out, "--merge", old, shards[1], shards[2])
    assert r.returncode == 2 and "of another round" in r.stderr and str(old) in r.stderr
    assert (tmp_path / "bad.h5.journal").read_text() == journal, "a refused merge changes nothing"
    # Options that do not go together.
    r = calibrate(csei, cal, out, "--merge", "--shard", "1/3")
    assert r.returncode == 2 and "give one of them" in r.stderr
    r = calibrate(csei, cal, out, "--shard", "4/3")
    assert r.returncode == 2 and "--shard 4/3" in r.stderr
