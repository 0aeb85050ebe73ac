"""Tests of the summary metrics: the simulator's definitions computed from schema 1 series,
Rogers' categories, and number formatting."""

import json
import subprocess

import numpy as np
import pytest

from csei_analysis import open_run
from csei_analysis.metrics import format_table, format_value, rogers_categories, summary_table
from runfiles import INNOVATIONS, REPO, csei_binary, write_run


def rogers_by_hand(weights):
    times = np.repeat(np.arange(len(weights)), weights)
    m, sd = times.mean(), times.std()
    counts = np.zeros(5)
    for t in times:
        if t < m - 2 * sd:
            counts[0] += 1
        elif t < m - sd:
            counts[1] += 1
        elif t < m:
            counts[2] += 1
        elif t < m + sd:
            counts[3] += 1
        else:
            counts[4] += 1
    return counts / len(times)


def test_rogers_symmetric_curve():
    # Adoption steps 0..4 with weights 1,2,4,2,1: mean 2, sd 1.095.
    np.testing.assert_allclose(rogers_categories([1, 2, 4, 2, 1]), [0.0, 0.1, 0.2, 0.6, 0.1])


@pytest.mark.parametrize("seed", range(5))
def test_rogers_matches_per_adopter_definition(seed):
    weights = np.random.default_rng(seed).integers(0, 40, 50)
    shares = rogers_categories(weights)
    np.testing.assert_allclose(shares, rogers_by_hand(weights))
    assert shares.sum() == pytest.approx(1.0)


def test_rogers_shared_cases():
    # The same cases as the simulator's test (tests/kernel/test_summary.cpp): one definition.
    cases = json.loads((REPO / "tests" / "data" / "rogers_cases.json").read_text())["cases"]
    assert len(cases) >= 5
    for case in cases:
        want = np.array([np.nan if v is None else v for v in case["shares"]])
        np.testing.assert_allclose(rogers_categories(case["adoptions"]), want, rtol=0, atol=1e-12,
                                   err_msg=case["what"])


def test_rogers_without_adopters_is_nan():
    assert np.isnan(rogers_categories([0, 0, 0])).all()


def test_summary_from_schema_1_series(tmp_path):
    # 35 organisations; totals per step: innovation 0 1,3,8,15,25; innovation 1 2,5,8,13,18.
    with open_run(write_run(tmp_path / "run.h5", innovations=INNOVATIONS)) as run:
        table = summary_table(run)
    assert list(table.index) == INNOVATIONS
    np.testing.assert_allclose(table["final_share"], [25 / 35, 18 / 35])
    np.testing.assert_array_equal(table["steps_to_10"], [2, 1])
    np.testing.assert_array_equal(table["steps_to_50"], [4, 4])
    assert table["steps_to_90"].isna().all()  # never
    np.testing.assert_array_equal(table["peak_step"], [4, 3])  # first of the tie 5, 5
    np.testing.assert_array_equal(table["territories_reached"], [3, 3])
    rogers = table[[c for c in table.columns if c.startswith("rogers_")]]
    np.testing.assert_allclose(rogers.sum(axis=1), 1.0)
    assert "cluster_advantage" not in table and "jobs" not in table  # schema 2 only


def test_steps_to_threshold_is_exact_at_the_boundary(tmp_path):
    adopters = np.array([[[0]], [[1]], [[5]], [[9]]])  # 10 organisations
    path = write_run(tmp_path / "run.h5", adopters=adopters, organisations=[10])
    with open_run(path) as run:
        table = summary_table(run)
    assert table.loc["innovation-0", ["steps_to_10", "steps_to_50", "steps_to_90"]].tolist() == [
        1,
        2,
        3,
    ]


@pytest.mark.skipif(not csei_binary().is_file(), reason=f"csei not built at {csei_binary()}")
def test_summary_of_real_run_matches_simulator(tmp_path):
    out = tmp_path / "run.h5"
    small = REPO / "tests" / "data" / "small.toml"
    command = [str(csei_binary()), "run", str(small), "-o", str(out), "--format", "json"]
    printed = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
    with open_run(out) as run:
        table = summary_table(run)
    for expected in printed["innovations"]:
        row = table.loc[expected["name"]]
        assert row["final_share"] == pytest.approx(expected["final_share"], abs=1e-6)
        if expected["steps_to_50"] is None:
            assert np.isnan(row["steps_to_50"])
        else:
            assert row["steps_to_50"] == expected["steps_to_50"]


@pytest.mark.parametrize(
    "metric, value, signed, text",
    [
        ("final_share", 0.5143, False, "51.4 %"),
        ("final_share", -0.316, True, "-31.6 pp"),
        ("steps_to_50", np.nan, False, "never"),
        ("steps_to_50", np.nan, True, "-"),
        ("steps_to_50", 36.0, False, "36"),
        ("peak_step", 34.333, False, "34.3"),
        ("peak_step", 2.0, True, "+2"),
        ("jobs", 12345.6, False, "12,346"),
        ("cluster_advantage", 0.1, True, "+0.100"),
    ],
)
def test_format_value(metric, value, signed, text):
    assert format_value(metric, value, signed) == text


def test_format_table_labels(tmp_path):
    with open_run(write_run(tmp_path / "run.h5", innovations=INNOVATIONS)) as run:
        shown = format_table(summary_table(run))
    assert shown.loc["social-lending", "final adoption share"] == "71.4 %"
    assert shown.loc["care-coops", "steps to 90 %"] == "never"
