"""The Python library: scenarios with the CLI's checks, runs bit-identical to `csei run`, NumPy
series without copies, xarray and pandas views, the tidy export and the model function."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import csei

REPO = Path(__file__).resolve().parents[2]
TEACHING = REPO / "scenarios" / "teaching"
# A policy variant (events, spending, clusters, awareness) made small: about 24,000 organisations
# in 27 territories over three years.
POLICY = REPO / "scenarios" / "policy" / "fund_facilitators.toml"
SMALL = {"organisations.scale": 0.002, "time.steps": 36}
SMALL_ARGS = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]


def cli_run(csei_bin, path, seed, *extra):
    """`csei run` of the small policy variant with `seed` into `path`; its stdout."""
    return subprocess.run([csei_bin, "run", str(POLICY), "--seed", str(seed), "-o", str(path),
                           *extra, *SMALL_ARGS], check=True, capture_output=True,
                          text=True).stdout


def test_the_package_is_the_one_under_test():
    where = os.environ.get("CSEI_PYTHONPATH")
    if where:
        assert Path(csei.__file__).resolve().is_relative_to(Path(where).resolve())
        assert Path(csei._core.__file__).parent == Path(csei.__file__).parent
    assert csei.__version__


def test_load_scenario_with_overrides():
    s = csei.load_scenario(TEACHING / "word_of_mouth.toml", set={"time.steps": 24, "seed": 9})
    assert (s.name, s.steps, s.seed, s.organisations) == ("word_of_mouth", 24, 9, 600)
    assert s.innovations == ["shared_van"] and len(s.territories) == 6
    assert "steps = 24" in s.text
    t = s.with_values({"innovations[0].q": 0.5})
    assert t.steps == 24 and "q = 0.5" in t.text


def test_an_unused_value_is_refused_with_the_key_and_why():
    with pytest.raises(csei.ScenarioError) as err:
        csei.load_scenario(TEACHING / "word_of_mouth.toml",
                           set={"innovations[0].cascade_probability": 0.5})
    assert "not used by rule 'bass' (used by: cascade)" in str(err.value)
    (p,) = err.value.problems
    assert p["key"] == "innovations[0].cascade_probability"
    assert isinstance(err.value, ValueError)


def test_errors_in_a_file_name_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((TEACHING / "word_of_mouth.toml").read_text().replace(
        "partners = 6", "partners = -6"))
    with pytest.raises(csei.ScenarioError) as err:
        csei.load_scenario(bad)
    (p,) = err.value.problems
    assert p["file"].endswith("bad.toml") and p["key"] == "network.partners"
    lines = bad.read_text().splitlines()
    assert lines[p["line"] - 1].startswith("partners = -6")


def test_bad_arguments_are_python_errors():
    with pytest.raises(TypeError):
        csei.load_scenario(TEACHING / "word_of_mouth.toml", set={"time.steps": object()})
    with pytest.raises(ValueError):
        csei.run(TEACHING / "word_of_mouth.toml", seed=-1)
    with pytest.raises(csei.ScenarioError):
        csei.run(TEACHING / "word_of_mouth.toml", threads=-2)


def _series_of_file(path):
    out = {}
    with h5py.File(path, "r") as f:
        for group in ("series", "policy"):
            for name, ds in f[group].items():
                if len(ds.dims) and ds.dims[0] and ds.dims[0][0].name.endswith("/step") \
                        and name not in ("step", "year"):
                    out[name] = ds[()]
        summary = {name: ds[()] for name, ds in f["summary"].items()
                   if ds.dtype.kind == "f"}
    return out, summary


@pytest.mark.parametrize("threads", [1, 2])
def test_runs_are_bit_identical_to_the_cli(csei_bin, tmp_path, threads):
    cli = tmp_path / "cli.h5"
    cli_run(csei_bin, cli, 5, "--threads", str(threads))
    r = csei.run(csei.load_scenario(POLICY, set=SMALL), seed=5, threads=3 - threads)
    assert r.organisations > 2 * 8192  # more than one parallel block of the decide pass
    series, summary = _series_of_file(cli)
    assert set(series) == set(r.series)
    for name, a in series.items():
        assert r.series[name].dtype == a.dtype, name
        np.testing.assert_array_equal(r.series[name], a, err_msg=name)
    assert r.series["spending"].sum() > 0  # the policy events ran and cost money
    frame = r.summary()
    steps = {m["name"] for m in csei._core.summary_metrics() if m["step"]}
    assert steps and set(frame.columns) <= set(summary)
    for name in frame.columns:
        values = summary[name]
        # Steps never reached are -1 in the file and NaN in the frame.
        want = np.where(values < 0, np.nan, values) if name in steps else values
        np.testing.assert_array_equal(frame[name].to_numpy(), want, err_msg=name)


def test_run_output_is_the_cli_file(csei_bin, tmp_path):
    cli, py = tmp_path / "cli.h5", tmp_path / "py.h5"
    cli_run(csei_bin, cli, 2)
    csei.run(csei.load_scenario(POLICY, set=SMALL), seed=2, output=py)
    a, b = _series_of_file(cli), _series_of_file(py)
    for name in a[0]:
        np.testing.assert_array_equal(a[0][name], b[0][name], err_msg=name)
    with h5py.File(cli) as f, h5py.File(py) as g:
        assert f.attrs["scenario"] == g.attrs["scenario"]
        assert f.attrs["seed"] == g.attrs["seed"] == 2


def test_series_share_the_runs_memory_and_are_read_only():
    r = csei.run(TEACHING / "word_of_mouth.toml", seed=1)
    a = r.series["adopters"]
    assert a.shape == (61, 1, 6) and a.dtype == np.int64
    assert not a.flags.owndata and a.base is not None and not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0, 0] = 1
    ds = r.to_xarray()
    assert np.shares_memory(ds["adopters"].values, a)
    del r  # the arrays keep the run's memory alive
    assert a[-1].sum() > 0


def test_to_xarray_has_named_dimensions_coordinates_and_units(csei_bin, tmp_path):
    path = tmp_path / "run.h5"
    cli_run(csei_bin, path, 3)
    r = csei.run(csei.load_scenario(POLICY, set=SMALL), seed=3)
    ds = r.to_xarray()
    assert ds["adopters"].dims == ("step", "innovation", "territory")
    assert ds["spending"].dims == ("step", "event", "territory")
    assert ds["adopters"].attrs["units"] == "organisations"
    assert ds["spending"].attrs["units"] == "EUR"
    assert list(ds["innovation"].values) == r.scenario.innovations
    assert "DE" in ds["territory"].values and "Germany" in ds["territory_name"].values
    np.testing.assert_allclose(ds["year"].values[12], 1.0)
    assert not any(d.startswith("phony_dim") for d in ds.dims)
    # One layout for a run in memory and its file, written by the CLI.
    xr.testing.assert_identical(ds, csei.open(path))
    # Selections by label work as in any xarray data set.
    de = ds["adopters"].sel(territory="DE", innovation=r.scenario.innovations[0])
    assert de.dims == ("step",) and int(de[-1]) >= 0


def test_summaries_as_data_frames(csei_bin, tmp_path):
    path = tmp_path / "run.h5"
    cli_run(csei_bin, path, 3)
    r = csei.run(csei.load_scenario(POLICY, set=SMALL), seed=3)
    frame = r.summary()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == r.scenario.innovations
    pd.testing.assert_frame_equal(frame, csei.summary(path))
    real = r.summary(real=True)
    represents = r.scenario.represents
    assert represents != 1.0
    np.testing.assert_allclose(real["adopters"], frame["adopters"] * represents)
    np.testing.assert_array_equal(real["final_share"], frame["final_share"])
    m = r.metrics
    name = r.scenario.innovations[0]
    assert m[f"{name}.final_share"] == frame.loc[name, "final_share"]
    assert m["policy_spending_eur"] == pytest.approx(r.policy_spending) and r.policy_spending > 0


def test_the_gil_is_released_while_running():
    s = csei.load_scenario(TEACHING / "eu_clusters.toml", set={"time.steps": 240})
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    before = ticks[0]
    t0 = time.perf_counter()
    csei.run(s, threads=1)
    elapsed = time.perf_counter() - t0
    during = ticks[0] - before
    stop.set()
    t.join()
    # With the GIL held for the whole run, the counting thread could not run at all.
    assert elapsed > 0.05
    assert during > 1000, f"{during} ticks in {elapsed:.2f} s of running"


def test_export_csv_is_tidy_and_matches_the_file(csei_bin, tmp_path):
    path = tmp_path / "run.h5"
    cli_run(csei_bin, path, 4)
    series_csv, summary_csv = csei.export(path, tmp_path / "py")
    table = pd.read_csv(series_csv, keep_default_na=False)
    assert list(table.columns) == ["step", "year", "innovation", "territory", "group", "variable",
                                   "value", "units"]
    ds = csei.open(path)
    expected_rows = sum(ds[v].size for v in ds.data_vars)
    assert len(table) == expected_rows
    # Every value round-trips: pivot one series back and compare.
    adopters = table[table.variable == "adopters"]
    cube = adopters.pivot_table(index="step", columns=["innovation", "territory"],
                                values="value", aggfunc="first")
    want = ds["adopters"].stack(col=("innovation", "territory")).to_pandas()
    for (inn, terr) in want.columns:
        np.testing.assert_array_equal(cube[(inn, terr)].to_numpy(dtype=np.int64),
                                      want[(inn, terr)].to_numpy())
    spending = table[table.variable == "spending"]
    assert (spending.units == "EUR").all() and spending.group.str.contains(":").all()
    np.testing.assert_allclose(spending.value.astype(float).sum(), float(ds["spending"].sum()))
    forms = table[table.variable == "adopters_by_form"]
    assert set(forms.group) <= set(ds["legal_form"].values) and (forms.territory == "").all()
    summary = pd.read_csv(summary_csv)
    row = summary[(summary.metric == "adopters")].iloc[0]
    assert row.real_value == pytest.approx(row.value * row.represents)
    # The command line writes the same bytes.
    subprocess.run([csei_bin, "export", str(path), "--format", "csv", "-o", str(tmp_path / "cli")],
                   check=True, capture_output=True)
    for p in (series_csv, summary_csv):
        assert (tmp_path / "cli" / p.name).read_bytes() == p.read_bytes()


def test_export_refuses_what_is_not_a_run_file(csei_bin, tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    p = subprocess.run([csei_bin, "export", str(junk)], capture_output=True, text=True)
    assert p.returncode == 2 and "junk.h5" in p.stderr and "not an HDF5 file" in p.stderr
    with pytest.raises(csei.ScenarioError, match="junk.h5"):
        csei.export(junk, tmp_path)
    with h5py.File(tmp_path / "empty.h5", "w") as f:
        f.attrs["schema_version"] = 4
    p = subprocess.run([csei_bin, "export", str(tmp_path / "empty.h5")], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "empty.h5" in p.stderr and "steps" in p.stderr
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*partial*"))


def test_model_function_for_samplers():
    base = TEACHING / "word_of_mouth.toml"
    f = csei.model(base, ["shared_van.final_share"], seed=1, replicates=3,
                   set={"time.steps": 24})
    out = f({"innovations[0].q": 0.9})
    seeds = csei.replicate_seeds(1, 3)
    assert len(set(seeds)) == 3 and csei.replicate_seeds(1, 1) == [1]
    runs = [csei.run(csei.load_scenario(base, set={"time.steps": 24, "innovations[0].q": 0.9}),
                     seed=s).metrics["shared_van.final_share"] for s in seeds]
    assert out == {"shared_van.final_share": pytest.approx(np.mean(runs), abs=0)}
    # More word of mouth, more adopters (same seeds).
    assert f({"innovations[0].q": 1.5})["shared_van.final_share"] > \
        f({"innovations[0].q": 0.2})["shared_van.final_share"]
    with pytest.raises(ValueError, match="unknown outcome"):
        csei.model(base, ["shared_van.nothing"])
    with pytest.raises(csei.ScenarioError, match="cascade"):
        f({"innovations[0].cascade_probability": 0.1})


@pytest.mark.parametrize("example", ["sampling_study.py 8", "ema_style.py 4"])
def test_the_examples_run(example):
    script, arg = example.split()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ.get("CSEI_PYTHONPATH") or str(REPO / "analysis")
    p = subprocess.run([sys.executable, str(REPO / "analysis" / "examples" / script), arg],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "shared_van" in p.stdout or "final_share" in p.stdout


def test_series_that_do_not_fit_in_memory_are_refused_before_allocating():
    env = dict(os.environ, CSEI_MEMORY_LIMIT="20M")
    code = ("import csei, sys\n"
            f"s = csei.load_scenario({str(TEACHING / 'eu_clusters.toml')!r}, "
            "set={'time.steps': 6000})\n"
            "try:\n    csei.run(s)\nexcept csei.ScenarioError as e:\n"
            "    print(e.problems[0]['key'], e)\n")
    env["PYTHONPATH"] = os.environ.get("CSEI_PYTHONPATH") or str(REPO / "analysis")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("time.steps ") and "in memory" in p.stdout, p.stdout


def test_replicates_are_the_cli_replicate_file(csei_bin, tmp_path):
    path = tmp_path / "reps.h5"
    out = cli_run(csei_bin, path, 7, "--replicates", "3", "--format", "json")
    cli_seeds = [r["seed"] for r in json.loads(out)["runs"]]
    reps = csei.run(csei.load_scenario(POLICY, set=SMALL), seed=7, replicates=3, threads=1)
    assert reps.seeds == cli_seeds == csei.replicate_seeds(7, 3)
    ds = reps.to_xarray()
    assert ds["adopters"].dims == ("replicate", "step", "innovation", "territory")
    assert list(ds["replicate"].values) == cli_seeds
    xr.testing.assert_identical(ds, csei.open(path))
    pd.testing.assert_frame_equal(reps.summary(), csei.summary(path))
    # Each replicate is its single run.
    one = csei.run(csei.load_scenario(POLICY, set=SMALL), seed=cli_seeds[1])
    np.testing.assert_array_equal(ds["adopters"].sel(replicate=cli_seeds[1]).values,
                                  one.series["adopters"])
    name = reps[0].scenario.innovations[0]
    assert reps.metrics[f"{name}.final_share"] == pytest.approx(
        np.mean([r.metrics[f"{name}.final_share"] for r in reps.results]))


def test_export_of_a_replicate_file_has_a_replicate_column(csei_bin, tmp_path):
    path = tmp_path / "reps.h5"
    subprocess.run([csei_bin, "run", str(TEACHING / "word_of_mouth.toml"), "--replicates", "2",
                    "-o", str(path)], check=True, capture_output=True)
    series_csv, summary_csv = csei.export(path)
    table = pd.read_csv(series_csv, keep_default_na=False)
    ds = csei.open(path)
    assert list(table.columns)[0] == "replicate"
    assert sorted(table.replicate.unique()) == sorted(ds["replicate"].values)
    assert len(table) == sum(ds[v].size for v in ds.data_vars)
    last = table[(table.variable == "adopters") & (table.step == 60)]
    for seed in ds["replicate"].values:
        assert last[last.replicate == seed].value.sum() == \
            int(ds["adopters"].sel(replicate=seed).isel(step=-1).sum())
    summary = pd.read_csv(summary_csv)
    assert len(summary) == 2 * len(csei._core.summary_metrics())


def test_ctrl_c_stops_a_run_with_keyboard_interrupt(tmp_path):
    import signal

    out = tmp_path / "never.h5"
    # The baseline over 200 years: about 10 s on one thread, and it never settles.
    code = ("import csei, sys\n"
            f"s = csei.load_scenario({str(REPO / 'scenarios' / 'baseline_eu27.toml')!r}, "
            "set={'time.steps': 2400})\n"
            "print('running', flush=True)\n"
            f"csei.run(s, threads=1, output={str(out)!r})\n"
            "print('finished', flush=True)\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.environ.get("CSEI_PYTHONPATH") or str(REPO / "analysis")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "running"
    time.sleep(1.0)
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    assert "finished" not in rest, "the run ended before it could be interrupted"
    assert time.perf_counter() - t0 < 5
    assert "KeyboardInterrupt" in err and p.returncode != 0
    assert not out.exists() and not list(tmp_path.glob("*partial*"))


@pytest.mark.parametrize("kind", ["external", "virtual"])
def test_run_files_with_foreign_data_are_refused(tmp_path, kind):
    import shutil

    path = tmp_path / "run.h5"
    csei.run(TEACHING / "word_of_mouth.toml", output=path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as g:
        g["x"] = np.arange(4)
    bad = tmp_path / f"{kind}.h5"
    shutil.copy(path, bad)
    with h5py.File(bad, "a") as f:
        if kind == "external":
            f["series/extra"] = h5py.ExternalLink(str(other), "/x")
        else:
            layout = h5py.VirtualLayout(shape=(4,), dtype="i8")
            layout[:] = h5py.VirtualSource(str(other), "x", shape=(4,))
            f.create_virtual_dataset("series/extra", layout)
    with pytest.raises(csei.ScenarioError, match=f"{kind}.h5.*(external link|virtual dataset)"):
        csei.open(bad)
    csei.open(path)  # the file without them is read
