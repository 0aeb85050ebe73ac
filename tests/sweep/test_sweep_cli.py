"""`csei sweep` and `csei sweep-merge` end to end: results identical on one machine, under
mpirun with 2 ranks and in 3 shards merged; a killed sweep resumed; failing points recorded;
bad sweep files reported; the designs checked against functions with known indices; and a real
sweep over two rule parameters analysed."""
import json
import os
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from csei_analysis.cli import main as analysis_main
from csei_analysis.sensitivity import analyse, open_sweep, saltelli_blocks, sobol_indices

SWEEP = """
name = "{name}"
scenario = "{repo}/tests/data/small.toml"
set = [{set}]
replicates = {replicates}
seed = 3
[design]
{design}
[[parameters]]
key = "innovations[0].q"
range = [0.5, 2.0]
[[parameters]]
key = "network.local_share"
range = [0.3, 1.0]
[outcomes]
metrics = ["*.final_share", "*.steps_to_10", "word_of_mouth.territories_reached"]
series = "{series}"
"""


def write_sweep(tmp_path, repo, name="s", design='kind = "lhs"\nsamples = 8', replicates=2,
                fixed='"time.steps=18", "organisations.total=1500"', series="total"):
    path = tmp_path / f"{name}.toml"
    path.write_text(SWEEP.format(name=name, repo=repo, design=design, replicates=replicates,
                                 set=fixed, series=series))
    return path


def run(cmd, timeout=300, env=None, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def datasets(path):
    names = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(names)


def assert_same_datasets(a, b):
    """Every dataset of a and b equal (h5diff; NaN equals NaN). Attributes such as the creation
    time, threads or ranks may differ."""
    names = datasets(a)
    assert names == datasets(b)
    assert "outcomes/values" in names and "runs/seed" in names
    for name in names:
        r = run(["h5diff", str(a), str(b), "/" + name])
        assert r.returncode == 0, f"{name} differs: {r.stdout}{r.stderr}"


def sweep(csei, path, out, *args, **kw):
    return run([csei, "sweep", str(path), "-o", str(out), "--format", "json", *args], **kw)


def mpi_env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def test_sweep_writes_the_documented_file(csei, repo, tmp_path):
    path = write_sweep(tmp_path, repo)
    out = tmp_path / "s.h5"
    r = sweep(csei, path, out)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["runs"] == 16 and summary["ok"] == 16 and summary["failed"] == 0
    assert summary["runs_per_second"] > 0
    with h5py.File(out, "r") as f:
        assert f.attrs["kind"] == "sweep" and f.attrs["complete"] == 1
        assert f.attrs["design"] == "lhs" and f.attrs["runs"] == 16 and f.attrs["points"] == 8
        assert "innovations[0].q" in f.attrs["sweep"]
        assert "name = \"small\"" in f.attrs["scenario"]
        assert f["design/unit"].shape == (8, 2)
        assert [k.decode() for k in f["parameters/key"][...]] == ["innovations[0].q",
                                                                  "network.local_share"]
        assert list(f["runs/point"][...]) == [p for p in range(8) for _ in range(2)]
        assert len(set(f["runs/seed"][...])) == 16
        assert f["outcomes/values"].shape == (16, 5)
        names = [n.decode() for n in f["outcomes/names"][...]]
        assert names == ["word_of_mouth.final_share", "word_of_mouth.steps_to_10",
                         "word_of_mouth.territories_reached", "tipping.final_share",
                         "tipping.steps_to_10"]
        series = f["series/adopters"][...]
        assert series.shape == (16, 19, 2)
        # the series ends where the final share says
        share = f["outcomes/values"][:, 0]
        assert np.allclose(series[:, -1, 0] / 1500, share)
        # the design's text is what the runs were given, and reproduces a run alone
        q = f["design/text"][3, 0].decode()
        ls = f["design/text"][3, 1].decode()
        seed = int(f["runs/seed"][7])  # point 3, replicate 1
        expected = f["series/adopters"][7]
    single = tmp_path / "single.h5"
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(single), "--set",
             "time.steps=18", "--set", "organisations.total=1500", "--set",
             f"innovations[0].q={q}", "--set", f"network.local_share={ls}", "--seed", str(seed)])
    assert r.returncode == 0, r.stderr
    with h5py.File(single, "r") as f:
        assert np.array_equal(f["series/adopters"][...].sum(axis=2), expected)


def test_threads_two_ranks_and_three_shards_give_identical_datasets(csei, repo, tmp_path):
    path = write_sweep(tmp_path, repo)
    one = tmp_path / "one.h5"
    assert sweep(csei, path, one, "--threads", "1").returncode == 0
    two = tmp_path / "two.h5"
    assert sweep(csei, path, two, "--threads", "2").returncode == 0
    assert_same_datasets(one, two)

    shards = []
    for k in (1, 2, 3):
        s = tmp_path / f"shard{k}.h5"
        r = sweep(csei, path, s, "--shard", f"{k}/3", "--threads", "1")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["runs"] in (5, 6)
        shards.append(s)
    with h5py.File(shards[1], "r") as f:
        assert f.attrs["shard"] == "2/3"
        assert list(f["runs/status"][...]) == [1 if r % 3 == 1 else 0 for r in range(16)]
    merged = tmp_path / "merged.h5"
    r = run([csei, "sweep-merge", *map(str, shards), "-o", str(merged), "--format", "json"])
    assert r.returncode == 0, r.stderr
    assert_same_datasets(one, merged)

    # A missing shard, or a shard of another sweep, is refused.
    r = run([csei, "sweep-merge", str(shards[0]), str(shards[2]), "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2 and "runs are in none of the files" in r.stderr
    other = write_sweep(tmp_path, repo, name="other", replicates=1)
    o = tmp_path / "other.h5"
    assert sweep(csei, other, o, "--shard", "2/3").returncode == 0
    r = run([csei, "sweep-merge", str(shards[0]), str(o), str(shards[2]), "-o",
             str(tmp_path / "x.h5")])
    assert r.returncode == 2 and "belongs to a different sweep" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_mpirun_two_ranks_identical_to_one_process(csei, repo, tmp_path):
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mpirun not found (scripts/setup.sh installs openmpi-bin)")
        pytest.skip("mpirun not installed")
    path = write_sweep(tmp_path, repo)
    one = tmp_path / "one.h5"
    assert sweep(csei, path, one).returncode == 0
    two = tmp_path / "mpi.h5"
    r = run([mpirun, "-n", "2", "--oversubscribe", "--allow-run-as-root", csei, "sweep",
             str(path), "-o", str(two), "--format", "json"], env=mpi_env())
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)  # rank 0 alone reports
    assert summary["ranks"] == 2 and summary["ran"] == 16
    with h5py.File(two, "r") as f:
        assert f.attrs["ranks"] == 2
    assert_same_datasets(one, two)
    assert list(tmp_path.glob("*.journal.*")) == []

    # Failures are gathered too, and the exit status says so.
    bad = write_failing_sweep(tmp_path, repo)
    r = run([mpirun, "-n", "2", "--oversubscribe", "--allow-run-as-root", csei, "sweep",
             str(bad), "-o", str(tmp_path / "bad.h5"), "--format", "json"], env=mpi_env())
    assert r.returncode == 3, r.stdout + r.stderr
    with h5py.File(tmp_path / "bad.h5", "r") as f:
        assert list(f["runs/status"][...]) == [1, 1, 1, 1, 2, 1]


def test_a_killed_sweep_resumes_without_redoing_runs(csei, repo, tmp_path):
    # Runs of 30,000 organisations: long enough to kill the sweep half-way.
    path = write_sweep(tmp_path, repo, design='kind = "lhs"\nsamples = 30', replicates=2,
                       fixed='"time.steps=24", "organisations.total=30000"', series="none")
    full = tmp_path / "full.h5"
    r = sweep(csei, path, full, "--threads", "2")
    assert r.returncode == 0, r.stderr

    out = tmp_path / "k.h5"
    p = subprocess.Popen([csei, "sweep", str(path), "-o", str(out), "--threads", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    journal = None
    while time.time() < deadline:
        js = list(tmp_path.glob("k.h5.journal.*"))
        if js and js[0].stat().st_size > 10 * 100:  # about ten runs recorded
            journal = js[0]
            break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert journal is not None, "the sweep wrote no journal"
    assert p.returncode == -signal.SIGKILL
    assert not out.exists()

    r = sweep(csei, path, out)
    assert r.returncode == 2 and "--resume" in r.stderr
    r = sweep(csei, path, out, "--resume", "--threads", "1")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert 0 < summary["resumed"] < 60
    assert summary["ran"] == 60 - summary["resumed"]  # nothing done twice
    assert_same_datasets(full, out)
    assert list(tmp_path.glob("k.h5.journal.*")) == []

    r = sweep(csei, path, out, "--resume")
    assert r.returncode == 0 and "already complete" in r.stderr


def test_ctrl_c_stops_a_sweep_and_says_how_to_resume(csei, repo, tmp_path):
    path = write_sweep(tmp_path, repo, design='kind = "lhs"\nsamples = 40', replicates=2,
                       fixed='"organisations.total=30000"', series="none")
    out = tmp_path / "i.h5"
    p = subprocess.Popen([csei, "sweep", str(path), "-o", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "--resume" in err and not out.exists()
    r = sweep(csei, path, out, "--resume")
    assert r.returncode == 0, r.stderr


def write_failing_sweep(tmp_path, repo):
    """Six points; the fifth asks for more pioneers than it has organisations."""
    path = tmp_path / "fail.toml"
    path.write_text(f"""
scenario = "{repo}/tests/data/small.toml"
set = ["time.steps=6"]
[design]
kind = "grid"
[[parameters]]
key = "innovations[1].pioneers"
levels = [5, 2000]
[[parameters]]
key = "organisations.total"
levels = [3000, 1000, 2500]
""")
    return path


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(csei, repo, tmp_path):
    path = write_failing_sweep(tmp_path, repo)
    out = tmp_path / "fail.h5"
    r = sweep(csei, path, out)
    assert r.returncode == 3, r.stderr
    summary = json.loads(r.stdout)
    assert summary["ok"] == 5 and summary["failed"] == 1
    assert summary["failures"][0]["point"] == 4
    assert "2000 pioneers but only 1000 organisations" in r.stderr
    assert "1 of 6 runs failed" in r.stderr
    with h5py.File(out, "r") as f:
        assert list(f["runs/status"][...]) == [1, 1, 1, 1, 2, 1]
        err = f["runs/error"][4].decode()
        assert "innovations[1].pioneers: 2000 pioneers but only 1000 organisations" in err
        assert "organisations.total=1000" in err
        assert np.isnan(f["outcomes/values"][4]).all()
        # A run that went well has every metric, but those undefined without clusters (NaN).
        names = [n.decode() for n in f["outcomes/names"][...]]
        undefined = [n.endswith((".member_share", ".cluster_advantage")) for n in names]
        assert all(np.isnan(v) == u for v, u in zip(f["outcomes/values"][5], undefined))


def test_bad_sweep_files_and_options_are_reported(csei, repo, tmp_path):
    path = write_sweep(tmp_path, repo).read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(path.replace("replicates", "replicats").replace("network.local_share",
                                                                   "network.local_shar"))
    r = sweep(csei, bad, tmp_path / "x.h5")
    assert r.returncode == 2
    assert "bad.toml:5:1: replicats: unknown key; did you mean 'replicates'?" in r.stderr
    bad.write_text(path.replace("network.local_share", "network.local_shar"))
    r = sweep(csei, bad, tmp_path / "x.h5")
    assert r.returncode == 2
    assert ("bad.toml:15:9: parameters[1].range: the base scenario rejects "
            "network.local_shar = 0.3") in r.stderr
    r = sweep(csei, write_sweep(tmp_path, repo), tmp_path / "x.h5", "--shard", "4/3")
    assert r.returncode == 2 and "--shard 4/3" in r.stderr
    r = run([csei, "sweep", str(write_sweep(tmp_path, repo)), "--dry-run"])
    assert r.returncode == 0 and "8 points x 2 replicates = 16 runs" in r.stdout
    assert not (tmp_path / "x.h5").exists()


def test_sobol_design_gives_the_ishigami_indices(csei, repo, tmp_path):
    """The simulator's Saltelli design (Boost's Sobol' points, digitally shifted) with the
    analysis estimators recovers the Ishigami function's known indices."""
    path = tmp_path / "ishigami.toml"
    path.write_text(f"""
scenario = "{repo}/tests/data/small.toml"
[design]
kind = "sobol"
samples = 8192
seed = 5
[[parameters]]
key = "innovations[0].q"
range = [0.0, 1.0]
[[parameters]]
key = "innovations[0].p"
range = [0.0, 1.0]
[[parameters]]
key = "network.local_share"
range = [0.0, 1.0]
""")
    out = tmp_path / "ishigami.h5"
    r = run([csei, "sweep", str(path), "--dry-run", "-o", str(out)])
    assert r.returncode == 0, r.stderr
    sweep_file = open_sweep(out)
    assert (sweep_file.status == 0).all()  # the design only
    x = -np.pi + 2 * np.pi * sweep_file.unit
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    res = sobol_indices(*saltelli_blocks(y, 3), bootstrap=100)
    assert res["S1"] == pytest.approx([0.314, 0.442, 0.0], abs=0.01)
    assert res["ST"] == pytest.approx([0.558, 0.442, 0.244], abs=0.01)


def test_morris_design_recovers_a_linear_model(csei, repo, tmp_path):
    from csei_analysis.sensitivity import elementary_effects, morris_indices

    path = write_sweep(tmp_path, repo, design='kind = "morris"\ntrajectories = 12\nlevels = 6')
    out = tmp_path / "m.h5"
    assert run([csei, "sweep", str(path), "--dry-run", "-o", str(out)]).returncode == 0
    s = open_sweep(out)
    coef = np.array([3.0, -0.5])
    res = morris_indices(elementary_effects(s.unit, s.unit @ coef, 12), bootstrap=0)
    assert res["mu"] == pytest.approx(coef)
    assert res["sigma"] == pytest.approx([0, 0], abs=1e-9)
    # In parameter units: the effect of the whole range.
    span = np.array([1.5, 0.7])
    res = morris_indices(elementary_effects(s.unit, s.value @ (coef / span), 12), bootstrap=0)
    assert res["mu"] == pytest.approx(coef)


def test_small_real_sweep_over_two_rule_parameters_end_to_end(csei, repo, tmp_path, capsys):
    """Morris screening of word of mouth (q) and the local share of partners on the small
    scenario, through the analysis command: q drives the final share of the Bass innovation."""
    path = write_sweep(tmp_path, repo, design='kind = "morris"\ntrajectories = 8', replicates=2,
                       fixed='"time.steps=24"', series="none")
    path.write_text(path.read_text().replace('seed = 3', 'seed = 3\ncommon_seeds = true'))
    out = tmp_path / "real.h5"
    r = sweep(csei, path, out)
    assert r.returncode == 0, r.stderr
    results = {a.outcome: a for a in analyse(open_sweep(out), bootstrap=200)}
    share = results["word_of_mouth.final_share"].indices
    assert share["mu_star"][0] > 3 * share["mu_star"][1]
    assert share["mu"][0] > 0  # more word of mouth, more adopters
    figs = tmp_path / "figs"
    assert analysis_main(["sensitivity", str(out), "-o", str(figs), "--outcome",
                          "word_of_mouth.*"]) == 0
    table = capsys.readouterr().out
    assert "word_of_mouth.final_share  (morris, 24 points)" in table
    assert (figs / "word_of_mouth.final_share_morris.png").exists()
    assert (figs / "word_of_mouth.final_share_scatter.png").exists()
