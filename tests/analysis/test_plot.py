"""Tests of csei_analysis: reading run files, adoption shares, figures and the CLI.

Run files are synthetic, written with h5py following schema version 1 (runfiles.py); one
test runs the real simulator when its binary has been built.
"""

import os
import subprocess
import sys
from pathlib import Path

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

from runfiles import (
    ADOPTERS,
    CODES,
    INNOVATIONS,
    ORGANISATIONS,
    PNG_SIGNATURE,
    REPO,
    csei_binary,
    real_run,
    write_run,
)

ALL_V1_PNGS = [
    "adoption_total.png",
    "adoption_by_territory.png",
    "adoption_heatmap.png",
    "adoption_map.png",
    "adoption_map_years.png",
    "rogers.png",
]
ALL_V1_OUTPUTS = ALL_V1_PNGS + ["adoption_map.gif"]
GIF_SIGNATURE = b"GIF89a"


def _signature(path):
    return GIF_SIGNATURE if str(path).endswith(".gif") else PNG_SIGNATURE


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
        paths, notes = plot_run(run, tmp_path / "out")
    assert [p.name for p in paths] == ALL_V1_OUTPUTS
    for path in paths:
        assert path.read_bytes().startswith(_signature(path))
    # Schema 1 has no cluster, awareness, legal-form or outcome series: one note each.
    assert [note.split()[0] for note in notes] == [
        "adoption_members.png",
        "awareness.png",
        "adoption_by_form.png",
        "jobs_impact.png",
    ]
    assert all("skipped: needs /series/" in note and "\n" not in note for note in notes)


# -- command line ----------------------------------------------------------


def test_cli_plot_default_outdir(run_file, capsys):
    assert main(["plot", str(run_file)]) == 0
    outdir = run_file.parent / "small_plots"
    out, err = capsys.readouterr()
    printed = out.split()
    assert printed == [str(outdir / name) for name in ALL_V1_OUTPUTS]
    for path in printed:
        assert Path(path).read_bytes().startswith(_signature(path))
    assert err.count("note: ") == 4


def test_cli_plot_step_out_of_range(run_file, capsys):
    assert main(["plot", str(run_file), "--step", "5"]) == 2
    assert capsys.readouterr().err == f"error: {run_file}: step 5 is out of range (0..4)\n"


def test_cli_plot_outdir_option(run_file, tmp_path, capsys):
    outdir = tmp_path / "figures" / "nested"
    assert main(["plot", str(run_file), "-o", str(outdir)]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == sorted(ALL_V1_OUTPUTS)


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
    assert result.stdout.split() == [str(outdir / name) for name in ALL_V1_OUTPUTS]


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
    "schema-version-6": (
        lambda path: write_run(path, schema_version=6),
        "unsupported schema_version 6",
    ),
    "schema-3-without-scales": (
        lambda path: write_run(path, schema_version=3),
        "missing dimension scale '/series/step'",
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
    assert result.stderr == f"error: {path}: unsupported schema_version 0 (supported: 1, 2, 3, 4, 5)\n"
    assert result.stdout == ""


# -- real simulator --------------------------------------------------------


@pytest.mark.skipif(
    not csei_binary().is_file(),
    reason=f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)",
)
def test_real_run(tmp_path):
    out = real_run(tmp_path / "run.h5")
    with open_run(out) as run:
        paths, _ = plot_run(run, tmp_path / "plots")
        _, total = adoption_share_total(run)
        _, by_territory = adoption_share_by_territory(run)
    for path in paths:
        assert path.read_bytes().startswith(_signature(path))
    for shares in (total, by_territory[~np.isnan(by_territory).any(axis=-1)]):
        assert np.all((shares >= 0) & (shares <= 1))
        assert np.all(np.diff(shares, axis=-1) >= 0)
