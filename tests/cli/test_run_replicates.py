"""`csei run --replicates R`: one file with a replicate dimension whose replicate r is, value for
value, the single run `csei run --seed <seed of r>`, at any thread count; `csei info` and
`csei run --from` read it."""
import json
import subprocess

import h5py
import numpy as np
import pytest

# The fund_facilitators variant, small: clusters (generated ones, dense enough that their number
# differs between seeds), emergence and policy events with spending.
SMALL = ["--set", "organisations.scale=0.001", "--set", "time.steps=24",
         "--set", "cluster_generation.density=5.5"]


def run(cmd, cwd=None, timeout=300, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def csei_run(csei, scenario, out, *args, small=True):
    r = run([csei, "run", str(scenario), "-o", str(out), "--format", "json",
             *(SMALL if small else []), *args])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _values(ds):
    v = ds[()]
    if ds.dtype.kind == "O":
        v = np.array([x.decode() if isinstance(x, bytes) else x for x in np.ravel(v)],
                     dtype=object).reshape(np.shape(v))
    return v


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True) and np.array_equal(
            a.view(np.uint64), b.view(np.uint64))
    return np.array_equal(a, b)


def check_replicate(rep, r, single):
    """Every dataset of the single run file `single` against replicate r of `rep`."""
    seeds = rep["series/replicate"][...]
    assert rep.attrs["schema_version"] == 5 and rep.attrs["replicates"] == len(seeds)
    assert single.attrs["schema_version"] == 4 and "replicates" not in single.attrs
    assert int(single.attrs["seed"]) == int(seeds[r])
    assert int(rep["replicates/links"][r]) == int(single.attrs["links"])
    assert rep["replicates/policy_spending"][r] == single.attrs["policy_spending"]
    slots = single["series/cluster"].shape[0]
    assert int(rep["replicates/cluster_slots"][r]) == slots
    names = _values(rep["series/cluster_name"])[r]
    assert list(names[:slots]) == list(_values(single["series/cluster"]))
    assert all(n.startswith("slot-") for n in names[slots:])
    compared = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        if name in ("series/cluster", "series/step", "series/year", "series/innovation",
                    "series/territory", "series/territory_name", "series/legal_form"):
            return
        mine = _values(obj)
        theirs = rep[name]
        if name.startswith(("series/", "policy/spending")):
            assert theirs.shape[0] == len(seeds), name
            assert [d[0].name for d in theirs.dims][0] == "/series/replicate", name
            got = _values(theirs)[r]
            if "cluster" in [d[0].name.rsplit("/", 1)[-1] for d in obj.dims]:
                # Slots past the replicate's own stay 0.
                assert not np.any(got[..., slots:]), name
                got = got[..., :slots]
        elif name.startswith("summary/") or name == "legal_forms/organisations":
            got = _values(theirs)[r]
        elif name.startswith(("clusters/", "events/")):
            rows = rep[name.split("/")[0] + "/replicate"][...] == r
            got = _values(theirs)[rows]
        else:
            got = _values(theirs)
        assert _same(got, mine), name
        compared.append(name)

    single.visititems(visit)
    assert {"series/adopters", "series/cluster_adopters", "policy/spending", "summary/final_share",
            "clusters/name", "events/step", "inputs/content"} <= set(compared)


def test_replicate_r_is_the_single_run_of_its_seed_at_1_and_2_threads(csei, repo, tmp_path):
    scenario = repo / "scenarios/policy/fund_facilitators.toml"
    one = csei_run(csei, scenario, tmp_path / "r1.h5", "--replicates", "3", "--seed", "11",
                   "--threads", "1")
    two = csei_run(csei, scenario, tmp_path / "r2.h5", "--replicates", "3", "--seed", "11",
                   "--threads", "2")
    assert one["replicates"] == 3 and len(one["runs"]) == 3
    seeds = [x["seed"] for x in one["runs"]]
    assert seeds == [x["seed"] for x in two["runs"]]
    assert len(set(seeds)) == 3 and 11 not in seeds
    with h5py.File(tmp_path / "r1.h5") as a, h5py.File(tmp_path / "r2.h5") as b:
        assert list(a["series/replicate"][...]) == seeds
        for name in ("series/adopters", "series/cluster_adopters", "policy/spending",
                     "summary/final_share", "clusters/name", "series/cluster_name"):
            assert _same(_values(a[name]), _values(b[name])), name
        slots = []
        for r, seed in enumerate(seeds):
            single = tmp_path / f"single_{r}.h5"
            csei_run(csei, scenario, single, "--seed", str(seed), "--threads", str(1 + r % 2))
            with h5py.File(single) as s:
                check_replicate(a, r, s)
                slots.append(s["series/cluster"].shape[0])
        # Generated clusters differ by seed: the cluster axis is the widest replicate's, and the
        # others' are padded (checked above).
        assert len(set(slots)) > 1 and a["series/cluster"].shape[0] == max(slots)


def test_seeds_are_the_sweeps_common_seeds(csei, repo, tmp_path):
    """Replicate r has the seed a sweep with the same seed and common_seeds gives replicate r."""
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'''scenario = "{repo / 'tests/data/small.toml'}"
seed = 11
replicates = 3
common_seeds = true
[design]
kind = "grid"
[[parameters]]
key = "innovations[0].p"
levels = [0.02]
[outcomes]
metrics = ["word_of_mouth.final_share"]
''')
    r = run([csei, "sweep", str(sweep), "-o", str(tmp_path / "s.h5"), "--no-progress"])
    assert r.returncode == 0, r.stderr
    out = run([csei, "run", str(repo / "tests/data/small.toml"), "--seed", "11",
               "--replicates", "3", "-o", str(tmp_path / "r.h5"), "--format", "json"])
    assert out.returncode == 0, out.stderr
    with h5py.File(tmp_path / "s.h5") as s, h5py.File(tmp_path / "r.h5") as f:
        assert list(s["runs/seed"][...]) == list(f["series/replicate"][...])
        assert len(set(f["series/replicate"][...])) == 3
        shares = f["summary/final_share"][:, 0]
        assert np.array_equal(s["outcomes/values"][:, 0], shares)


def test_one_replicate_is_the_single_run_file(csei, repo, tmp_path):
    plain = csei_run(csei, repo / "tests/data/small.toml", tmp_path / "a.h5", small=False)
    one = csei_run(csei, repo / "tests/data/small.toml", tmp_path / "b.h5", "--replicates", "1",
                   small=False)
    assert "replicates" not in plain and "replicates" not in one
    with h5py.File(tmp_path / "a.h5") as a, h5py.File(tmp_path / "b.h5") as b:
        assert a.attrs["schema_version"] == 4 == b.attrs["schema_version"]
        assert int(a.attrs["seed"]) == 7 == int(b.attrs["seed"])
        names = []
        a.visit(names.append)
        other = []
        b.visit(other.append)
        assert names == other and "series/replicate" not in names
        assert _same(a["series/adopters"][...], b["series/adopters"][...])


@pytest.mark.parametrize("value", ["0", "-2", "1000001", "x"])
def test_bad_replicate_counts_are_input_errors(csei, repo, tmp_path, value):
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "--replicates", value,
             "-o", str(tmp_path / "x.h5")])
    assert r.returncode == 2
    assert "--replicates" in r.stderr
    assert not (tmp_path / "x.h5").exists()


def test_too_many_replicates_for_memory_are_an_input_error(csei, repo, tmp_path):
    env = {"CSEI_MEMORY_LIMIT": "64M", "PATH": "/usr/bin:/bin"}
    r = run([csei, "run", str(repo / "tests/data/small.toml"), "--replicates", "100000",
             "-o", str(tmp_path / "x.h5")], env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error: command line (--replicates 100000): 100000 replicates need "
                               "at least ")
    assert "lower --replicates" in r.stderr
    assert not (tmp_path / "x.h5").exists()
    ok = run([csei, "run", str(repo / "tests/data/small.toml"), "--replicates", "4",
              "-o", str(tmp_path / "x.h5"), "--format", "json"], env=env)
    assert ok.returncode == 0, ok.stderr


def test_netcdf_readers_see_the_replicate_dimension_with_its_seeds(csei, repo, tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    out = csei_run(csei, repo / "scenarios/policy/fund_facilitators.toml", tmp_path / "r.h5",
                   "--replicates", "2")
    with xr.open_dataset(tmp_path / "r.h5", group="series", engine="h5netcdf") as series:
        assert series.adopters.dims == ("replicate", "step", "innovation", "territory")
        assert list(series.replicate.values) == [x["seed"] for x in out["runs"]]
        assert series.cluster_adopters.dims == ("replicate", "step", "innovation", "cluster")
        assert series.cluster_name.dims == ("replicate", "cluster")


def test_info_reads_a_replicate_file(csei, repo, tmp_path):
    out = csei_run(csei, repo / "scenarios/policy/fund_facilitators.toml", tmp_path / "r.h5",
                   "--replicates", "3", "--seed", "4")
    r = run([csei, "info", str(tmp_path / "r.h5")])
    assert r.returncode == 0, r.stderr
    seeds = " ".join(str(x["seed"]) for x in out["runs"])
    assert "schema:        5\n" in r.stdout
    assert "seed:          4 (the base seed of the replicates)\n" in r.stdout
    assert f"replicates:    3, seeds {seeds} (/series/replicate)\n" in r.stdout
    assert "/series/adopters [3, 25, 4, 27] (replicate, step, innovation, territory)" in r.stdout
    shares = [x["innovations"][0]["final_share"] for x in out["runs"]]
    line = next(x for x in r.stdout.splitlines() if x.startswith("community_energy"))
    assert f"{sum(shares) / 3:.3f}" in line and f"{min(shares):.3f} - {max(shares):.3f}" in line
    # A file whose replicate count disagrees with its series is refused, not misread.
    bad = tmp_path / "bad.h5"
    bad.write_bytes((tmp_path / "r.h5").read_bytes())
    with h5py.File(bad, "a") as f:
        f.attrs["replicates"] = np.int64(2)
    r = run([csei, "info", str(bad)])
    assert r.returncode == 2
    assert f"{bad}: series/adopters: not a readable csei run file: has 3 replicates; the file " \
           "says 2" in r.stderr


def test_run_from_a_replicate_file_reruns_every_replicate_anywhere(csei, repo, tmp_path):
    first = tmp_path / "first.h5"
    csei_run(csei, repo / "scenarios/policy/fund_facilitators.toml", first, "--replicates", "3",
             "--threads", "2")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run([csei, "run", "--from", str(first), "-o", "again.h5", "--threads", "1",
             "--format", "json"], cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["replicates"] == 3
    with h5py.File(first) as a, h5py.File(elsewhere / "again.h5") as b:
        assert b.attrs["replicates"] == 3
        assert list(a["series/replicate"][...]) == list(b["series/replicate"][...])
        for name in ("series/adopters", "series/jobs", "series/cluster_adopters",
                     "policy/spending", "summary/final_share", "clusters/name", "events/step"):
            assert _same(_values(a[name]), _values(b[name])), name
    # --replicates given with --from overrides the file's count.
    r = run([csei, "run", "--from", str(first), "-o", "one.h5", "--replicates", "1",
             "--format", "json"], cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    with h5py.File(first) as a, h5py.File(elsewhere / "one.h5") as b:
        assert "replicates" not in b.attrs and b.attrs["seed"] == a.attrs["seed"]
