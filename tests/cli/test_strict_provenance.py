"""Strict scenarios on the command line, and runs that carry their inputs: `csei run --from`."""
import hashlib
import shutil
import subprocess

import h5py
import numpy as np


def run(cmd, cwd=None, timeout=300):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_set_value_no_rule_reads_is_refused_with_the_rules_that_read_it(csei, repo):
    r = run([csei, "validate", str(repo / "scenarios/baseline_eu27.toml"),
             "--set", "innovations[0].q=1.2"])
    assert r.returncode == 2
    assert ("command line (--set innovations[0].q=1.2): innovations[0].q: not used by rule "
            "'utility' (used by: bass)") in r.stderr
    # the same value on the bass innovation is read, so it is accepted
    ok = run([csei, "validate", str(repo / "scenarios/baseline_eu27.toml"),
              "--set", "innovations[1].q=1.2"])
    assert ok.returncode == 0, ok.stderr


def test_a_file_value_no_rule_reads_is_refused_with_its_line(csei, tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[time]\nsteps = 5\n[territories]\nlist = [{ code = "A" }]\n'
                 '[organisations]\nper_territory = 10\n'
                 '[[innovations]]\nname = "x"\nrule = "cascade"\nq = 0.4\npioneers = 1\n')
    r = run([csei, "run", str(f), "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2
    assert f"{f}:10:5: innovations[0].q: not used by rule 'cascade' (used by: bass)" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def _copy_inputs(repo, dest):
    """The fund_facilitators variant with its base scenario and territory CSV, in `dest`."""
    (dest / "policy").mkdir(parents=True)
    (dest / "data").mkdir()
    shutil.copy(repo / "scenarios/baseline_eu27.toml", dest / "baseline_eu27.toml")
    shutil.copy(repo / "scenarios/data/eu27.csv", dest / "data/eu27.csv")
    shutil.copy(repo / "scenarios/policy/fund_facilitators.toml", dest / "policy/v.toml")
    return dest / "policy/v.toml"


def test_run_from_a_run_file_reproduces_it_anywhere(csei, repo, tmp_path):
    src = tmp_path / "src"
    scenario = _copy_inputs(repo, src)
    originals = {p: (src / p).read_bytes()
                 for p in ("policy/v.toml", "baseline_eu27.toml", "data/eu27.csv")}
    first = tmp_path / "first.h5"
    r = run([csei, "run", str(scenario), "-o", str(first), "--threads", "2",
             "--set", "organisations.scale=0.001", "--set", "time.steps=24"], cwd=src / "policy")
    assert r.returncode == 0, r.stderr
    with h5py.File(first, "r") as f:
        roles = [x.decode() for x in f["inputs/role"][...]]
        assert roles == ["scenario", "extends", "territories.csv"]
        contents = [x for x in f["inputs/content"][...]]
        hashes = [x.decode() for x in f["inputs/sha256"][...]]
        stored = f.attrs["scenario"]
        stored = stored.decode() if isinstance(stored, bytes) else stored
    for content, digest, name in zip(contents, hashes,
                                     ("policy/v.toml", "baseline_eu27.toml", "data/eu27.csv")):
        assert content == originals[name]
        assert digest == hashlib.sha256(originals[name]).hexdigest()
    # the stored scenario names no path: the CSV by file name, no extends
    assert "csv = 'eu27.csv'" in stored and "extends" not in stored and "../" not in stored

    # The original files moved away; rerun from an unrelated directory, on another thread count.
    shutil.move(str(src), str(tmp_path / "gone"))
    shutil.rmtree(tmp_path / "gone")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = elsewhere / "second.h5"
    r = run([csei, "run", "--from", str(first), "-o", "second.h5", "--threads", "1"],
            cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    with h5py.File(first, "r") as a, h5py.File(second, "r") as b:
        names = list(a["series"].keys())
        assert "adopters" in names
        for name in names:
            assert np.array_equal(a["series"][name][...], b["series"][name][...]), name
        assert a.attrs["scenario"] == b.attrs["scenario"]
        # the rerun embeds the same inputs, so it can be rerun in turn
        assert [x for x in b["inputs/sha256"][...]] == [x for x in a["inputs/sha256"][...]]


def test_run_from_refuses_a_tampered_input(csei, repo, tmp_path):
    first = tmp_path / "first.h5"
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "-o", str(first)])
    assert r.returncode == 0, r.stderr
    with h5py.File(first, "r+") as f:
        content = [x for x in f["inputs/content"][...]]
        content[0] = content[0].replace(b"seed", b"#eed")
        del f["inputs/content"]
        f.create_dataset("inputs/content", data=content, dtype=h5py.string_dtype())
    r = run([csei, "run", "--from", str(first), "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2
    assert "does not match its SHA-256" in r.stderr
    with h5py.File(first, "r+") as f:
        del f["inputs"]
    r = run([csei, "run", "--from", str(first), "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2
    assert "embeds no input files" in r.stderr
    r = run([csei, "run", "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2 and "--from" in r.stderr


def test_run_from_carries_the_parent_table_of_regions(csei, repo, tmp_path):
    """A NUTS-2 scenario names its countries in a second CSV: that file travels in the run too."""
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    shutil.copy(repo / "scenarios/baseline_nuts2.toml", src / "s.toml")
    for name in ("nuts2_eu27.csv", "eu27.csv"):
        shutil.copy(repo / "scenarios/data" / name, src / "data" / name)
    first = tmp_path / "first.h5"
    r = run([csei, "run", str(src / "s.toml"), "-o", str(first), "--threads", "2",
             "--set", "organisations.scale=0.01", "--set", "time.steps=30"])
    assert r.returncode == 0, r.stderr
    with h5py.File(first, "r") as f:
        roles = [x.decode() for x in f["inputs/role"][...]]
        assert roles == ["scenario", "territories.csv", "territories.parents"]
    shutil.rmtree(src)
    r = run([csei, "run", "--from", str(first), "-o", "second.h5", "--threads", "1"],
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with h5py.File(first, "r") as a, h5py.File(tmp_path / "second.h5", "r") as b:
        for name in a["series"]:
            assert np.array_equal(a["series"][name][...], b["series"][name][...]), name
        assert [x for x in a["parents/name"][...]] == [x for x in b["parents/name"][...]]
