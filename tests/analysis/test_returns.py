"""Policy costs in the run file and returns per million euros in compare."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from runfiles import REPO, csei_binary, real_run

from csei_analysis.compare import make_groups, pairing
from csei_analysis.io import open_run
from csei_analysis.returns import format_returns, ratio_band, returns_table

SEEDS = (1, 2, 3)
# 40 organisations of territory BB are seeded with word_of_mouth at step 6, at 5,000 euros
# each, and a model organisation stands for 10 real ones (in the base, which the variant
# extends): 40 x 10 x 5,000 = 2 million euros.
VARIANT = """extends = "{base}"
name = "seeded"
[policy_costs]
seeded_adopter = 5000
[[events]]
step = 6
action = "seed_adopters"
territories = ["BB"]
innovations = ["word_of_mouth"]
count = 40
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)")
    out = tmp_path_factory.mktemp("returns")
    base_file = out / "base.toml"
    base_file.write_text((REPO / "tests/data/small.toml").read_text().replace(
        "[organisations]\n", "[organisations]\nrepresents = 10\n"), encoding="utf-8")
    variant_file = out / "variant.toml"
    variant_file.write_text(VARIANT.format(base=base_file.name), encoding="utf-8")
    runs = {"base": [], "variant": []}
    for seed in SEEDS:
        runs["base"].append(real_run(out / f"b{seed}.h5", "--seed", str(seed), scenario=base_file))
        runs["variant"].append(real_run(out / f"v{seed}.h5", "--seed", str(seed),
                                        scenario=variant_file))
    return runs


def test_spending_is_recorded_by_step_event_and_territory(seeded):
    with h5py.File(seeded["variant"][0], "r") as f:
        spending = f["policy/spending"][...]  # [S+1, E, T]
        assert spending.shape == (37, 1, 3)
        assert f.attrs["represents"] == 10
        assert spending.sum() == pytest.approx(40 * 10 * 5000)
        assert spending[6, 0, 1] == pytest.approx(2e6)  # all at step 6, in BB
        assert f.attrs["policy_spending"] == pytest.approx(2e6)
        assert [a.decode() for a in f["policy/action"][...]] == ["seed_adopters"]
    with h5py.File(seeded["base"][0], "r") as f:
        assert f["policy/spending"].shape == (37, 0, 3)
        assert f.attrs["policy_spending"] == 0


def test_returns_per_million_are_paired_differences_over_spending(seeded):
    with open_run(seeded["base"][0]) as b0, open_run(seeded["base"][1]) as b1, \
            open_run(seeded["base"][2]) as b2, open_run(seeded["variant"][0]) as v0, \
            open_run(seeded["variant"][1]) as v1, open_run(seeded["variant"][2]) as v2:
        groups = make_groups([[b0, b1, b2], [v2, v0, v1]])  # order differs: paired by seed
        table = returns_table(groups, pairing)
        total = table[(table.territory == "total") & (table.innovation == "all")
                      & (table.outcome == "adopters")].iloc[0]
        assert total.paired and total.replicates == 3
        assert total.extra_spending_eur == pytest.approx(2e6)
        extra = [10 * (v.read("series/adopters")[-1].sum() - b.read("series/adopters")[-1].sum())
                 for b, v in ((b0, v0), (b1, v1), (b2, v2))]
        assert total.change == pytest.approx(np.mean(extra))
        assert total.per_million_eur == pytest.approx(np.mean(extra) / 2)
        assert total.per_million_low <= total.per_million_eur <= total.per_million_high
        # Spending happened only in BB: elsewhere the return is undefined, not zero.
        aa = table[(table.territory == "AA") & (table.innovation == "all")
                   & (table.outcome == "adopters")].iloc[0]
        assert np.isnan(aa.per_million_eur)
        assert "adopters per M EUR" in format_returns(table).columns


def test_ratio_band_is_the_ratio_of_means_with_a_delta_method_interval():
    r, low, high = ratio_band([10.0, 12.0, 14.0], [2.0, 2.0, 2.0])
    assert r == pytest.approx(6.0)
    # With constant spending the interval is that of the mean of dy, divided by it.
    half = 4.302652729911275 * 2.0 / np.sqrt(3) / 2.0
    assert (low, high) == pytest.approx((6.0 - half, 6.0 + half))
    assert np.isnan(ratio_band([1.0, 2.0], [0.0, 0.0])[0])


def test_compare_prints_returns(seeded, tmp_path):
    args = [sys.executable, "-m", "csei_analysis", "compare", "--base", *map(str, seeded["base"]),
            "--variant", *map(str, seeded["variant"]), "-o", str(tmp_path)]
    r = subprocess.run(args, cwd=REPO / "analysis", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Returns per million euros" in r.stdout and "illustrative, not calibrated" in r.stdout
    assert (tmp_path / "compare_returns.png").is_file()
    assert (tmp_path / "compare_returns.csv").is_file()


def test_real_world_figures_next_to_model_figures(seeded):
    from csei_analysis.describe import describe
    from csei_analysis.metrics import real_figures, represents, summary_table

    with open_run(seeded["variant"][0]) as run:
        assert represents(run) == 10
        assert any("stands for 10 real entities" in s for s in describe(run))
        table = summary_table(run)
        real = real_figures(table, represents(run))
        assert (real["adopters"] == 10 * table["adopters"]).all()
        assert (real["jobs"] == 10 * table["jobs"]).all()
