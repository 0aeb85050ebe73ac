"""Each shipped policy variant moves the metric its file names, in the direction it states, by
more than replicate noise: over five paired seeds the 95 % interval of the difference against
the baseline excludes zero. The runs use the shipped files at a reduced size (a 1:250 instead of
1:100 share of social-economy employment, five years) to keep the test short; the same
`--set` is applied to both sides of each pair."""

import numpy as np
import pytest

from paired import (REPO, SEEDS, excludes_zero, metric, paired_interval, run_many,
                    stated_metric)

VARIANTS = sorted((REPO / "scenarios" / "policy").glob("*.toml"))
REDUCED = ("organisations.scale=0.004",)
BASE = REPO / "scenarios" / "baseline_eu27.toml"


@pytest.fixture(scope="module")
def base_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    return run_many([(BASE, s, out / f"base_{s}.h5", REDUCED) for s in SEEDS])


def test_every_variant_names_its_metric():
    assert VARIANTS, "no policy variants shipped"
    for path in VARIANTS:
        assert stated_metric(path), f"{path.name}: no '# Metric: <innovation>.<metric> (higher|lower)' line"


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_variant_moves_its_metric(path, base_runs, tmp_path):
    name, direction = stated_metric(path)
    variant = run_many([(path, s, tmp_path / f"v_{s}.h5", REDUCED) for s in SEEDS])
    diffs = [metric(v, name) - metric(b, name) for b, v in zip(base_runs, variant)]
    assert np.isfinite(diffs).all(), f"{name} undefined in some run: {diffs}"
    interval = paired_interval(diffs)
    assert excludes_zero(interval, direction), (
        f"{path.name}: {name} change {interval[0]:+.4g} [{interval[1]:+.4g}, {interval[2]:+.4g}] "
        f"does not exclude zero ({direction} expected)")
    # The variant costs what its events cost, and says so in the summary.
    spending = [v["policy_spending_eur"] for v in variant]
    assert all(s != 0 for s in spending), spending
