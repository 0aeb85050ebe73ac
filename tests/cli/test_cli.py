"""End-to-end tests of the csei program: runs, outputs, and every kind of bad input."""
import json
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest


def run(cmd, cwd=None, timeout=120):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_run_writes_default_output_and_json_summary(csei, repo, tmp_path):
    r = run([csei, "run", str(repo / "tests/data/small.toml")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)  # not a terminal: machine-readable
    out = tmp_path / "output" / "small.h5"
    assert summary["output"] == "output/small.h5"
    assert out.exists()
    assert [i["name"] for i in summary["innovations"]] == ["word_of_mouth", "tipping"]
    with h5py.File(out, "r") as f:
        assert f["series/adopters"].shape == (37, 2, 3)
        assert f.attrs["seed"] == 7
        assert f.attrs["complete"] == 1
        adopters = f["series/adopters"][...]
        total = adopters[-1].sum(axis=1)
        orgs = f["territories/organisations"][...].sum()
        for k, inn in enumerate(summary["innovations"]):
            assert inn["adopters"] == total[k]
            assert inn["final_share"] == pytest.approx(total[k] / orgs, abs=1e-6)
        # cumulative series: adopters[s] = adopters[s-1] + new_adopters[s]
        new = f["series/new_adopters"][...]
        assert np.array_equal(np.cumsum(new, axis=0), adopters)


def test_table_summary_and_info(csei, repo, tmp_path):
    out = tmp_path / "run.h5"
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out), "--format", "table"])
    assert r.returncode == 0, r.stderr
    assert "share" in r.stdout and "first to 50%" in r.stdout and "cluster adv." in r.stdout
    assert f"output: {out}" in r.stdout
    info = run([csei, "info", str(out)])
    assert info.returncode == 0, info.stderr
    assert "scenario:      small" in info.stdout
    assert "word_of_mouth" in info.stdout


def test_same_seed_identical_across_threads_other_seed_differs(csei, repo, tmp_path):
    files = []
    for threads in (1, 2, 4):
        out = tmp_path / f"t{threads}.h5"
        r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out), "--threads", str(threads)])
        assert r.returncode == 0, r.stderr
        files.append(out)
    for other in files[1:]:
        for ds in ("/series/adopters", "/series/new_adopters"):
            assert run(["h5diff", str(files[0]), str(other), ds]).returncode == 0
    seed = tmp_path / "seed.h5"
    assert run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(seed), "--seed", "8"]).returncode == 0
    assert run(["h5diff", "-q", str(files[0]), str(seed), "/series/adopters"]).returncode == 1
    with h5py.File(seed, "r") as f:
        assert f.attrs["seed"] == 8
        assert "seed = 8" in f.attrs["scenario"]


def test_set_overrides_reach_the_run(csei, repo, tmp_path):
    out = tmp_path / "o.h5"
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out),
             "--set", "time.steps=5", "--set", "innovations[1].pioneers=0"])
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f["series/adopters"].shape[0] == 6
        assert f["series/adopters"][0, 1].sum() == 0


BAD_SCENARIOS = {
    # name: (text replacement applied to small.toml, expected message fragment)
    "range": (("q = 1.5", "q = 17.5"), "small.toml:31:5: innovations[0].q: must be in [0, 12], got 17.5"),
    "unknown_key": (("pioneers = 5", "pioners = 5"), "innovations[0].pioners: unknown key; did you mean 'pioneers'?"),
    "type": (("steps = 36", "steps = \"many\""), "time.steps: must be an integer, got a string"),
    "territory_code": (('pioneer_territory = "AA"', 'pioneer_territory = "XX"'), "unknown territory code 'XX'"),
    "too_many_pioneers": (("pioneers = 150", "pioneers = 3001"), "3001 pioneers but only 3000 organisations"),
    "syntax": (("[network]", "[network"), "small.toml:20:9: Error while parsing table header"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenarios_fail_with_a_message_and_no_output(csei, repo, tmp_path, case):
    (old, new), expected = BAD_SCENARIOS[case]
    text = (repo / "tests/data/small.toml").read_text()
    assert old in text
    bad = tmp_path / "small.toml"
    bad.write_text(text.replace(old, new, 1))
    for cmd in ([csei, "validate", str(bad)], [csei, "run", str(bad), "-o", str(tmp_path / "x.h5")]):
        r = run(cmd, cwd=tmp_path)
        assert r.returncode == 2
        assert expected in r.stderr, r.stderr
        assert r.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == [bad]  # no output of any kind


def test_bad_territory_csv_names_file_line_and_column(csei, repo, tmp_path):
    (tmp_path / "t.csv").write_text("code,name,lat,lon\nAA,Alpha,48,2\nBB,Beta,north,8\n")
    text = (repo / "tests/data/small.toml").read_text()
    start, end = text.index("list = ["), text.index("]\n\n[organisations]") + 2
    (tmp_path / "s.toml").write_text(text[:start] + 'csv = "t.csv"\n' + text[end:])
    r = run([csei, "validate", str(tmp_path / "s.toml")])
    assert r.returncode == 2
    assert f"{tmp_path / 't.csv'}:3: lat: not a number: \"north\"" in r.stderr


@pytest.mark.parametrize("args, expected", [
    (["--set", "innovations[0].q=99"], "command line (--set innovations[0].q=99): innovations[0].q: must be in"),
    (["--set", "time.stepz=3"], "time.stepz: unknown key; did you mean 'steps'?"),
    (["--set", "novalue"], "expected key.path=value"),
    (["--threads", "-1"], "--threads"),
    (["--bogus"], "bogus"),
    (["--format", "xml"], "--format"),
])
def test_bad_command_lines(csei, repo, tmp_path, args, expected):
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(tmp_path / "x.h5"), *args])
    assert r.returncode == 2
    assert expected in r.stderr, r.stderr
    assert not any(tmp_path.iterdir())


def test_missing_files_and_unreadable_runs(csei, tmp_path):
    r = run([csei, "run", str(tmp_path / "nope.toml")])
    assert r.returncode == 2 and "nope.toml" in r.stderr
    junk = tmp_path / "junk.h5"
    junk.write_text("not hdf5")
    r = run([csei, "info", str(junk)])
    assert r.returncode == 2 and f"error: {junk}: cannot read" in r.stderr


def test_unwritable_output_fails_cleanly(csei, repo, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(blocker / "sub" / "x.h5")])
    assert r.returncode == 1
    assert r.stderr.startswith("error: ")


def test_interrupted_run_leaves_no_file(csei, repo, tmp_path):
    out = tmp_path / "long.h5"
    proc = subprocess.Popen([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out),
                             "--set", "time.steps=1000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not any(p.name.startswith("long.h5.partial") for p in tmp_path.iterdir()):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="hdf5-tools not installed")
def test_strings_are_utf8(csei, repo, tmp_path):
    out = tmp_path / "s.h5"
    assert run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(out)]).returncode == 0
    dump = run(["h5dump", "-d", "/territories/code", str(out)]).stdout
    assert "H5T_CSET_UTF8" in dump and '"AA"' in dump


SHIPPED = ["baseline_eu27.toml", "policy/fund_facilitators.toml", "policy/transnational_bridges.toml",
           "policy/cost_subsidy.toml", "policy/funding_cut.toml", "teaching/word_of_mouth.toml",
           "teaching/clusters_matter.toml", "teaching/tipping_points.toml",
           "validation/bass_complete.toml", "bench/eu_scale.toml", "bench/eu_scale_clusters.toml",
           "bench/eu_x10.toml"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_validate(csei, repo, name):
    r = run([csei, "validate", str(repo / "scenarios" / name)])
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", [n for n in SHIPPED if n.startswith(("policy/", "teaching/"))])
def test_policy_and_teaching_scenarios_run(csei, repo, tmp_path, name):
    out = tmp_path / "run.h5"
    r = run([csei, "run", str(repo / "scenarios" / name), "-o", str(out)])
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        assert f.attrs["schema_version"] == 4
        if name.startswith("policy/"):
            # the variant is the baseline plus its timeline, recorded as applied
            assert len(f["events/step"]) >= 1
            assert "extends" not in f.attrs["scenario"]


def test_teaching_tipping_point(csei, repo, tmp_path):
    """The worksheet's claim: mean threshold 0.24 cascades, 0.25 does not, 40 pioneers restore it."""
    def share(*sets):
        args = [csei, "run", str(repo / "scenarios/teaching/tipping_points.toml"), "-o", str(tmp_path / "t.h5")]
        for s in sets:
            args += ["--set", s]
        return json.loads(run(args).stdout)["innovations"][0]["final_share"]
    assert share("innovations[0].threshold.mean=0.24") == 1.0
    assert share("innovations[0].threshold.mean=0.25") < 0.1
    assert share("innovations[0].threshold.mean=0.25", "innovations[0].pioneers=40") == 1.0
