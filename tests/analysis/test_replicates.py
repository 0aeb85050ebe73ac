"""Replicate files (`csei run --replicates R`, schema 5) in the analysis package: read as the
list of their replicate runs, each exactly the single run of its seed; compare pairs two of
them by seed, report groups a file's replicates, plot and territories show one replicate."""

import re
import subprocess
import sys
from contextlib import ExitStack

import numpy as np
import pandas as pd
import pytest

from runfiles import REPO, csei_binary, real_run

from csei_analysis.io import RunFileError, open_run, open_runs, replicate_count

# The EU-27 baseline and one policy variant, small: generated clusters (dense enough that
# their number differs between seeds), events and spending.
SMALL = ("--set", "organisations.scale=0.001", "--set", "time.steps=24",
         "--set", "cluster_generation.density=5.5")
BASE = REPO / "scenarios" / "baseline_eu27.toml"
VARIANT = REPO / "scenarios" / "policy" / "fund_facilitators.toml"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "csei_analysis", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO / "analysis")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Base and variant as replicate files of 3 replicates (seed 5), and the single runs of
    the same seeds."""
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)")
    out = tmp_path_factory.mktemp("replicates")
    made = {}
    for label, scenario in (("base", BASE), ("variant", VARIANT)):
        rep = real_run(out / f"{label}.h5", "--replicates", "3", "--seed", "5", *SMALL,
                       scenario=scenario)
        with ExitStack() as stack:
            seeds = [stack.enter_context(r).attrs["seed"] for r in open_runs(rep)]
        singles = [real_run(out / f"{label}_{k}.h5", "--seed", str(seed), *SMALL,
                            scenario=scenario) for k, seed in enumerate(seeds)]
        made[label] = (rep, singles, seeds)
    return made


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        return list(a.ravel()) == list(b.ravel())
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def test_a_replicate_file_reads_as_its_replicate_runs(files):
    rep, singles, seeds = files["variant"]
    assert replicate_count(rep) == 3 and replicate_count(singles[0]) == 1
    runs = open_runs(rep)
    try:
        assert [r.replicate for r in runs] == [0, 1, 2]
        assert [r.attrs["seed"] for r in runs] == seeds and len(set(seeds)) == 3
        slots = set()
        for run, path in zip(runs, singles):
            with open_run(path) as single:
                assert run.schema_version == 5 and single.schema_version == 4
                assert run.series_names == single.series_names
                assert set(run._datasets) == set(single._datasets)
                for name in single._datasets:
                    assert _equal(run.read(name), single.read(name)), name
                for key in ("seed", "links", "policy_spending", "organisations", "steps"):
                    assert run.attrs[key] == single.attrs[key], key
                assert run.attrs["base_seed"] == 5
                assert run.label == f"{rep.name} [replicate {run.replicate}]"
                slots.add(single.read("series/cluster_members").shape[1])
        assert len(slots) > 1  # the cluster axis differs between replicates, and is trimmed
    finally:
        for run in runs:
            run.close()


def test_one_replicate_must_be_chosen_to_open_it_as_one_run(files):
    rep = files["base"][0]
    with pytest.raises(RunFileError, match="holds 3 replicates: open one of them"):
        open_run(rep)
    with pytest.raises(RunFileError, match="no replicate 3 \\(it holds 3\\)"):
        open_run(rep, 3)
    with pytest.raises(RunFileError, match="no replicate 1: a single run"):
        open_run(files["base"][1][0], 1)


def test_compare_pairs_two_replicate_files_by_seed_as_their_single_runs(files, tmp_path):
    rep = cli("compare", "--base", files["base"][0], "--variant", files["variant"][0],
              "-o", tmp_path / "rep")
    assert rep.returncode == 0, rep.stderr
    single = cli("compare", "--base", *files["base"][1], "--variant", *files["variant"][1],
                 "-o", tmp_path / "single")
    assert single.returncode == 0, single.stderr
    assert rep.stdout.replace(str(tmp_path / "rep"), "") == \
        single.stdout.replace(str(tmp_path / "single"), "")
    for csv in ("compare_summary.csv", "compare_returns.csv"):
        a = pd.read_csv(tmp_path / "rep" / csv)
        b = pd.read_csv(tmp_path / "single" / csv)
        pd.testing.assert_frame_equal(a, b)
    returns = pd.read_csv(tmp_path / "rep" / "compare_returns.csv")
    assert (returns.replicates == 3).all()  # paired by seed: three pairs
    # Two positional replicate files are a base and a variant of 3 replicates each.
    short = cli("compare", files["base"][0], files["variant"][0], "-o", tmp_path / "short")
    assert short.returncode == 0, short.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "short" / "compare_summary.csv"),
                                  pd.read_csv(tmp_path / "rep" / "compare_summary.csv"))


def test_report_groups_a_files_replicates(files, tmp_path):
    out = tmp_path / "r.html"
    r = cli("report", files["base"][0], files["variant"][0], "-o", out)
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert page.count("(3 runs)") == 2
    assert page.count("Summary (mean of 3 replicates)") == 2
    assert 'id="comparison"' in page
    for k, seed in enumerate(files["base"][2]):
        assert re.search(rf"<td>base\.h5 \[replicate {k}\]</td>\s*<td>{seed}</td>", page)


def test_plot_and_territories_show_one_replicate(files, tmp_path):
    rep, singles, seeds = files["base"]
    r = cli("territories", rep, "-o", tmp_path / "t0")
    assert r.returncode == 0, r.stderr
    assert f"holds 3 replicates: showing replicate 0 (seed {seeds[0]}); --replicate R" in r.stderr
    r = cli("territories", rep, "--replicate", "2", "-o", tmp_path / "t2")
    assert r.returncode == 0, r.stderr
    r = cli("territories", singles[2], "-o", tmp_path / "s2")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "t2/territories.csv").read_text() == \
        (tmp_path / "s2/territories.csv").read_text()
    assert (tmp_path / "t0/territories.csv").read_text() != \
        (tmp_path / "t2/territories.csv").read_text()
    bad = cli("plot", rep, "--replicate", "3", "--no-gif", "-o", tmp_path / "p")
    assert bad.returncode == 2
    assert f"error: {rep}: --replicate 3: the file holds replicates 0 to 2" in bad.stderr
    bad = cli("plot", singles[0], "--replicate", "1", "--no-gif", "-o", tmp_path / "p")
    assert bad.returncode == 2
    assert "--replicate 1: not a replicate file" in bad.stderr


def test_a_replicate_file_that_disagrees_with_itself_is_refused(files, tmp_path):
    import h5py

    rep = files["base"][0]
    cases = {
        "count": (lambda f: f.attrs.__setitem__("replicates", np.int64(4)),
                  "dataset '/series/replicate' is missing or not [4]"),
        "schema": (lambda f: f.attrs.__setitem__("schema_version", np.int64(4)),
                   "invalid replicates 3 for schema 4"),
        "slots": (lambda f: f["replicates/cluster_slots"].__setitem__(0, 10**6),
                  "replicate has 1000000 cluster slots"),
    }
    for label, (damage, message) in cases.items():
        bad = tmp_path / f"{label}.h5"
        bad.write_bytes(rep.read_bytes())
        with h5py.File(bad, "a") as f:
            damage(f)
        with pytest.raises(RunFileError, match=re.escape(message)):
            with ExitStack() as stack:
                for run in open_runs(bad):
                    stack.enter_context(run)
        r = cli("report", bad, "-o", tmp_path / f"{label}.html")
        assert r.returncode == 2 and message in r.stderr, (label, r.stderr)
