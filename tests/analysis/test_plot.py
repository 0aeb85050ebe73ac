"""Tests of csei_analysis: reading run files, adoption shares, figures and the CLI.

Run files are synthetic, written with h5py following schema version 1; one test
runs the real simulator when its binary has been built.
"""

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from csei_analysis import (
    RunFileError,
    adoption_share_by_territory,
    adoption_share_total,
    open_run,
)
from csei_analysis.cli import main
from csei_analysis.plots import plot_adoption_by_territory, plot_adoption_total, plot_run

REPO = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# [step, innovation, territory]; 4 steps, 2 innovations, 3 territories.
ADOPTERS = np.array(
    [
        [[1, 0, 0], [0, 2, 0]],
        [[2, 1, 0], [0, 4, 1]],
        [[4, 3, 1], [1, 6, 1]],
        [[7, 6, 2], [1, 9, 3]],
        [[10, 10, 5], [2, 12, 4]],
    ]
)
ORGANISATIONS = [10, 20, 5]
CODES = ["AT11", "BE21", "CZ03"]
INNOVATIONS = ["social-lending", "care-coops"]
STEPS_PER_YEAR = 4.0


def write_run(
    path,
    adopters=ADOPTERS,
    organisations=ORGANISATIONS,
    codes=None,
    innovations=None,
    steps_per_year=STEPS_PER_YEAR,
    schema_version=1,
    steps=None,
    omit=(),
):
    """Write a run file as the simulator does; names in `omit` (attributes or datasets) are left out."""
    adopters = np.asarray(adopters, dtype=np.int64)
    n_rows, n_innovations, n_territories = adopters.shape
    codes = codes or [f"T{t:02d}" for t in range(n_territories)]
    innovations = innovations or [f"innovation-{i}" for i in range(n_innovations)]
    attrs = {
        "schema_version": schema_version,
        "scenario": "[run]\nname = \"synthetic\"\n",
        "scenario_name": "synthetic",
        "seed": np.uint64(42),
        "threads": 1,
        "version": "test",
        "created": "2024-01-01T00:00:00Z",
        "steps": n_rows - 1 if steps is None else steps,
        "steps_per_year": float(steps_per_year),
    }
    strings = {
        "territories/code": codes,
        "territories/name": [f"Territory {code}" for code in codes],
        "innovations/name": innovations,
        "innovations/rule": ["bass"] * n_innovations,
    }
    numbers = {
        "series/adopters": adopters,
        "series/new_adopters": np.diff(adopters, axis=0, prepend=0),
        "territories/organisations": np.asarray(organisations, dtype=np.int64),
        "territories/population": np.full(n_territories, 1.0e5),
        "territories/lat": np.linspace(40.0, 60.0, n_territories),
        "territories/lon": np.linspace(-5.0, 25.0, n_territories),
    }
    with h5py.File(path, "w") as f:
        for name, value in attrs.items():
            if name not in omit:
                f.attrs[name] = value
        for name, value in strings.items():
            if name not in omit:
                f.create_dataset(name, data=value, dtype=h5py.string_dtype())
        for name, value in numbers.items():
            if name not in omit:
                f.create_dataset(name, data=value)
    return path


@pytest.fixture
def run_file(tmp_path):
    return write_run(tmp_path / "small.h5", codes=CODES, innovations=INNOVATIONS)


def expected_total_shares():
    total = sum(ORGANISATIONS)
    return np.array(
        [[ADOPTERS[s, i].sum() / total for s in range(len(ADOPTERS))] for i in range(2)]
    )


def expected_territory_shares():
    return np.array(
        [
            [[ADOPTERS[s, i, t] / ORGANISATIONS[t] for s in range(len(ADOPTERS))] for t in range(3)]
            for i in range(2)
        ]
    )


# -- reading ---------------------------------------------------------------


def test_open_run_reads_metadata(run_file):
    with open_run(run_file) as run:
        assert run.schema_version == 1
        assert run.steps == 4
        assert run.scenario_name == "synthetic"
        assert run.territory_codes == CODES
        assert run.territory_names == [f"Territory {code}" for code in CODES]
        assert run.innovation_names == INNOVATIONS
        assert run.innovation_rules == ["bass", "bass"]
        assert run.attrs["seed"] == 42
        np.testing.assert_array_equal(run.organisations, ORGANISATIONS)
        np.testing.assert_array_equal(run.adopters, ADOPTERS)
        np.testing.assert_array_equal(run.new_adopters.sum(axis=0), ADOPTERS[-1])
        np.testing.assert_allclose(run.years, [0.0, 0.25, 0.5, 0.75, 1.0])


def test_adoption_share_total(run_file):
    with open_run(run_file) as run:
        years, shares = adoption_share_total(run)
    np.testing.assert_allclose(years, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert shares.shape == (2, 5)
    np.testing.assert_allclose(shares, expected_total_shares())
    np.testing.assert_allclose(shares[0, -1], 25 / 35)


def test_adoption_share_by_territory(run_file):
    with open_run(run_file) as run:
        years, shares = adoption_share_by_territory(run)
    assert shares.shape == (2, 3, 5)
    np.testing.assert_allclose(shares, expected_territory_shares())
    np.testing.assert_allclose(shares[1, 2], [0.0, 0.2, 0.2, 0.6, 0.8])


def test_territory_without_organisations_has_no_share(tmp_path):
    path = write_run(tmp_path / "empty.h5", adopters=np.zeros((3, 1, 2)), organisations=[4, 0])
    with open_run(path) as run:
        _, shares = adoption_share_by_territory(run)
    np.testing.assert_array_equal(shares[0, 0], [0.0, 0.0, 0.0])
    assert np.isnan(shares[0, 1]).all()


# -- figures ---------------------------------------------------------------


def test_total_figure_lines_hold_shares(run_file):
    with open_run(run_file) as run:
        fig = plot_adoption_total(run)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == INNOVATIONS
    for line, expected in zip(lines, expected_total_shares()):
        np.testing.assert_allclose(line.get_xdata(), [0.0, 0.25, 0.5, 0.75, 1.0])
        np.testing.assert_allclose(line.get_ydata(), expected)


def test_territory_figure_has_subplot_per_innovation(run_file):
    with open_run(run_file) as run:
        fig = plot_adoption_by_territory(run)
    assert [ax.get_title() for ax in fig.axes] == INNOVATIONS
    for ax, expected in zip(fig.axes, expected_territory_shares()):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == CODES
        for line, share in zip(lines, expected):
            np.testing.assert_allclose(line.get_ydata(), share)


def test_many_territories_are_not_labelled(tmp_path):
    adopters = np.ones((2, 3, 31), dtype=np.int64)
    path = write_run(tmp_path / "many.h5", adopters=adopters, organisations=[2] * 31)
    with open_run(path) as run:
        fig = plot_adoption_by_territory(run)
    assert len(fig.axes) == 3
    lines = fig.axes[0].get_lines()
    assert len(lines) == 31
    assert all(line.get_label().startswith("_") for line in lines)
    assert not fig.legends


def test_plot_run_writes_pngs(run_file, tmp_path):
    with open_run(run_file) as run:
        paths = plot_run(run, tmp_path / "out")
    assert [p.name for p in paths] == ["adoption_total.png", "adoption_by_territory.png"]
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE)


# -- command line ----------------------------------------------------------


def test_cli_plot_default_outdir(run_file, capsys):
    assert main(["plot", str(run_file)]) == 0
    outdir = run_file.parent / "small_plots"
    printed = capsys.readouterr().out.split()
    assert printed == [str(outdir / "adoption_total.png"), str(outdir / "adoption_by_territory.png")]
    for path in printed:
        assert Path(path).read_bytes().startswith(PNG_SIGNATURE)


def test_cli_plot_outdir_option(run_file, tmp_path, capsys):
    outdir = tmp_path / "figures" / "nested"
    assert main(["plot", str(run_file), "-o", str(outdir)]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == [
        "adoption_by_territory.png",
        "adoption_total.png",
    ]


@pytest.mark.parametrize(
    "cwd, pythonpath",
    [(REPO / "analysis", None), (REPO, "analysis")],
    ids=["from-analysis", "from-repo-root"],
)
def test_module_entry_point(run_file, tmp_path, cwd, pythonpath):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "csei_analysis", "plot", str(run_file), "-o", str(outdir)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(outdir / "adoption_total.png"),
        str(outdir / "adoption_by_territory.png"),
    ]


# -- invalid run files -----------------------------------------------------


def write_text(path):
    path.write_text("step,adopters\n0,1\n")
    return path


BAD_FILES = {
    "not-hdf5": (write_text, "not an HDF5 file"),
    "missing-file": (lambda path: path, "no such file"),
    "no-schema-version": (
        lambda path: write_run(path, omit=("schema_version",)),
        "missing root attribute 'schema_version'",
    ),
    "schema-version-2": (
        lambda path: write_run(path, schema_version=2),
        "unsupported schema_version 2",
    ),
    "no-steps-per-year": (
        lambda path: write_run(path, omit=("steps_per_year",)),
        "missing root attribute 'steps_per_year'",
    ),
    "no-adopters": (
        lambda path: write_run(path, omit=("series/adopters",)),
        "missing dataset '/series/adopters'",
    ),
    "no-organisations": (
        lambda path: write_run(path, omit=("territories/organisations",)),
        "missing dataset '/territories/organisations'",
    ),
    "no-innovation-names": (
        lambda path: write_run(path, omit=("innovations/name",)),
        "missing dataset '/innovations/name'",
    ),
    "steps-mismatch": (
        lambda path: write_run(path, steps=10),
        "dataset '/series/adopters' has shape (5, 2, 3), expected (11, 2, 3)",
    ),
}


@pytest.fixture(params=sorted(BAD_FILES))
def bad_file(request, tmp_path):
    make, what = BAD_FILES[request.param]
    return make(tmp_path / "bad.h5"), what


def test_open_run_rejects_bad_file(bad_file):
    path, what = bad_file
    with pytest.raises(RunFileError) as info:
        open_run(path)
    assert info.value.path == path
    assert info.value.what.startswith(what)
    assert str(info.value) == f"{path}: {info.value.what}"


def test_cli_reports_bad_file(bad_file, capsys):
    path, what = bad_file
    assert main(["plot", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: {what}")
    assert err.count("\n") == 1
    assert not (path.parent / "bad_plots").exists()


def test_module_exit_status_for_bad_file(tmp_path):
    path = write_run(tmp_path / "old.h5", schema_version=0)
    result = subprocess.run(
        [sys.executable, "-m", "csei_analysis", "plot", str(path)],
        cwd=REPO / "analysis",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: {path}: unsupported schema_version 0 (supported: 1)\n"
    assert result.stdout == ""


# -- real simulator --------------------------------------------------------


def csei_binary():
    return Path(os.environ.get("CSEI_BIN") or REPO / "build" / "csei")


@pytest.mark.skipif(
    not csei_binary().is_file(),
    reason=f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)",
)
def test_real_run(tmp_path):
    out = tmp_path / "run.h5"
    subprocess.run(
        [str(csei_binary()), "run", str(REPO / "tests" / "data" / "small.toml"), "-o", str(out)],
        check=True,
    )
    with open_run(out) as run:
        paths = plot_run(run, tmp_path / "plots")
        _, total = adoption_share_total(run)
        _, by_territory = adoption_share_by_territory(run)
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    for shares in (total, by_territory[~np.isnan(by_territory).any(axis=-1)]):
        assert np.all((shares >= 0) & (shares <= 1))
        assert np.all(np.diff(shares, axis=-1) >= 0)
