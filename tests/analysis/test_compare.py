"""Tests of `compare`: confidence bands, pairing by seed, and a known difference between two
real scenarios that differ in one value (word of mouth q of innovation 0: 1.5 vs 0.5)."""

import csv
from contextlib import ExitStack

import h5py
import numpy as np
import pytest
from scipy import stats

from csei_analysis import RunFileError, adoption_share_total, open_run
from csei_analysis.cli import main
from csei_analysis.compare import (
    Group,
    compare_metrics,
    difference_band,
    make_groups,
    mean_band,
    pairing,
    plot_compare,
)
from runfiles import PNG_SIGNATURE, write_run


def test_mean_band():
    mean, low, high = mean_band(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)  # sd 1 over 3 samples
    np.testing.assert_allclose(mean, [2.0, 0.0])
    np.testing.assert_allclose(low, [2.0 - half, 0.0])
    np.testing.assert_allclose(high, [2.0 + half, 0.0])
    assert np.isnan(mean_band(np.array([[1.0]]))[1]).all()  # one replicate: no band


def test_welch_difference_band():
    base, variant = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])
    diff, low, high = difference_band(base, variant)
    vb, vv = 1.0 / 3, 4.0 / 3
    df = (vb + vv) ** 2 / (vb**2 / 2 + vv**2 / 2)
    half = stats.t.ppf(0.975, df) * np.sqrt(vb + vv)
    assert (diff, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
    # 0 is inside the interval exactly when Welch's test does not reject at 5 %.
    assert (low < 0 < high) == (stats.ttest_ind(variant, base, equal_var=False).pvalue > 0.05)


def test_paired_difference_band():
    base, variant = np.array([1.0, 5.0, 9.0]), np.array([2.0, 6.1, 9.9])
    diff, low, high = difference_band(base, variant, paired=True)
    assert (diff, low, high) == pytest.approx(mean_band(variant - base))
    # Pairing removes the spread between replicates, which hides the difference to Welch.
    assert low > 0 > difference_band(base, variant)[1]


def seeded_runs(tmp_path, name, seeds):
    runs = []
    for seed in seeds:
        path = write_run(tmp_path / f"{name}{seed}.h5")
        with h5py.File(path, "a") as f:
            f.attrs["seed"] = np.uint64(seed)
        runs.append(open_run(path))
    return runs


def test_pairing_by_seed(tmp_path):
    a = Group("a", seeded_runs(tmp_path, "a", [1, 2, 3]))
    b = Group("b", seeded_runs(tmp_path, "b", [3, 1, 2]))
    c = Group("c", seeded_runs(tmp_path, "c", [4, 5, 6]))
    assert pairing(a, b) == ([0, 1, 2], [1, 2, 0])
    assert pairing(a, c) is None
    assert pairing(Group("x", a.runs[:1]), Group("y", b.runs[:1])) is None
    for run in a.runs + b.runs + c.runs:
        run.close()


def test_incomparable_runs_are_refused(tmp_path, capsys):
    base = write_run(tmp_path / "base.h5", innovations=["x", "y"])
    other = write_run(tmp_path / "other.h5", innovations=["x", "z"])
    with open_run(base) as a, open_run(other) as b, pytest.raises(RunFileError) as info:
        make_groups([[a], [b]])
    assert info.value.path == other
    expected = f"cannot be compared with {base}: innovations ['x', 'z'] vs ['x', 'y']"
    assert info.value.what == expected
    assert main(["compare", str(base), str(other), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {other}: cannot be compared with")


@pytest.mark.parametrize(
    "argv",
    [["compare"], ["compare", "a.h5"], ["compare", "--base", "a.h5"],
     ["compare", "a.h5", "b.h5", "--base", "c.h5", "--variant", "d.h5"]],
)
def test_compare_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


# -- real runs ------------------------------------------------------------------


@pytest.fixture
def groups(policy_runs):
    with ExitStack() as stack:
        opened = [
            [stack.enter_context(open_run(p)) for p in policy_runs[k]] for k in ("base", "variant")
        ]
        yield make_groups(opened)


def test_compare_finds_the_policy_difference(groups):
    assert [g.label for g in groups] == ["base", "innovations[0].q = 0.5"]
    table = compare_metrics(groups).set_index(["innovation", "metric"])
    assert table["paired"].all() and (table["base_runs"] == 3).all()
    final = table.loc[("word_of_mouth", "final_share")]
    # Less word of mouth: a lower final share, with an interval that excludes no change.
    assert final.value < final.base
    assert final.change == pytest.approx(final.value - final.base)
    assert final.change_low <= final.change <= final.change_high < 0
    steps = table.loc[("word_of_mouth", "steps_to_10")]
    assert steps.change_low > 0  # the 10 % mark comes later
    # The other innovation did not change, and with shared seeds the runs are identical.
    tipping = table.loc["tipping"]
    assert (tipping["change"].fillna(0) == 0).all()
    for column in ("change_low", "change_high"):
        assert (tipping[column].fillna(0) == 0).all()


def test_compare_figure_holds_means_and_differences(groups):
    fig = plot_compare(groups)
    axes = np.array(fig.axes).reshape(2, 2)
    shares = [np.array([adoption_share_total(run)[1] for run in g.runs]) for g in groups]
    for i, name in enumerate(["word_of_mouth", "tipping"]):
        top, bottom = axes[:, i]
        assert top.get_title() == name
        means = [line.get_ydata() for line in top.get_lines()]
        np.testing.assert_allclose(means, [s[:, i].mean(axis=0) for s in shares])
        assert [line.get_label() for line in top.get_lines()] == [
            "base (n=3)",
            "innovations[0].q = 0.5 (n=3)",
        ]
        (diff,) = [line for line in bottom.get_lines() if not line.get_label().startswith("_")]
        np.testing.assert_allclose(diff.get_ydata(), (shares[1] - shares[0])[:, i].mean(axis=0))
        assert bottom.get_ylabel() == "difference in adoption share"
    # The band of the word-of-mouth difference lies below zero at the end of the run.
    band = axes[1, 0].collections[0].get_paths()[0].vertices
    at_end = band[np.isclose(band[:, 0], groups[0].runs[0].years[-1])][:, 1]
    assert at_end.max() < 0


def test_cli_compare_replicates(policy_runs, tmp_path, capsys):
    outdir = tmp_path / "cmp"
    argv = ["compare", "--base", *map(str, policy_runs["base"]), "--variant",
            *map(str, policy_runs["variant"]), "-o", str(outdir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("innovations[0].q = 0.5 vs base:\n")
    assert "final adoption share" in out and "change [95 % CI]" in out
    written = [outdir / "compare_adoption.png", outdir / "compare_summary.csv"]
    assert out.split()[-2:] == list(map(str, written))
    assert (outdir / "compare_adoption.png").read_bytes().startswith(PNG_SIGNATURE)
    with open(outdir / "compare_summary.csv") as f:
        rows = {(r["innovation"], r["metric"]): r for r in csv.DictReader(f)}
    assert float(rows[("word_of_mouth", "final_share")]["change_high"]) < 0
    assert float(rows[("tipping", "final_share")]["change"]) == 0


def test_cli_compare_single_runs(policy_runs, capsys):
    base, variant = policy_runs["base"][0], policy_runs["variant"][0]
    assert main(["compare", str(base), str(variant)]) == 0
    outdir = base.parent / f"{base.stem}_compare"
    with open(outdir / "compare_summary.csv") as f:
        rows = {(r["innovation"], r["metric"]): r for r in csv.DictReader(f)}
    final = rows[("word_of_mouth", "final_share")]
    assert float(final["change"]) < 0 and final["change_low"] == ""  # one run each: no interval
