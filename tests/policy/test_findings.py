"""The baseline against the seed model's two findings, per innovation, over five paired seeds
(at a reduced size, 1:250 of social-economy employment, the same for every run), and the
baseline's saturation at full size. docs/MODEL.md ("Findings on the baseline") says where the
findings hold and why not where they do not; these tests hold the docs to the model.

1. Clusters speed members' adoption: the cluster advantage (adoption share among suited
   members minus among suited non-members) is above zero, and members reach 50 % first.
2. Sector diversity hinders transfer to other contexts: with generated clusters spanning three
   sectors instead of one, fewer adoptions come through bridge links (paired by seed). The
   total of transfers (bridge + distant) is not asserted: distant links, outside clusters, carry
   most of them and do not depend on diversity.
"""

import numpy as np
import pytest

from paired import REPO, SEEDS, metric, paired_interval, run_many

BASE = REPO / "scenarios" / "baseline_eu27.toml"
REDUCED = ("organisations.scale=0.004",)
INNOVATIONS = ["community_energy", "work_integration_platform", "short_food_chain",
               "repair_network"]


@pytest.fixture(scope="module")
def by_sectors(tmp_path_factory):
    out = tmp_path_factory.mktemp("findings")
    jobs = [(BASE, s, out / f"s{k}_{s}.h5", REDUCED + (f"cluster_generation.sectors={k}",))
            for k in (1, 3) for s in SEEDS]
    runs = run_many(jobs)
    return {1: runs[: len(SEEDS)], 3: runs[len(SEEDS):]}


@pytest.mark.parametrize("innovation", INNOVATIONS)
def test_clusters_speed_members_adoption(innovation, by_sectors):
    runs = by_sectors[1]
    mean, low, high = paired_interval([metric(r, f"{innovation}.cluster_advantage")
                                       for r in runs])
    assert low > 0, f"cluster advantage {mean:+.3f} [{low:+.3f}, {high:+.3f}]"
    for r in runs:
        member = metric(r, f"{innovation}.member_steps_to_50")
        other = metric(r, f"{innovation}.nonmember_steps_to_50")
        # Members get to half first, or non-members never do (NaN compares false).
        assert not other < member, (member, other)


# Where the finding does not hold over five seeds (docs/MODEL.md, "Findings on the baseline"):
# short food chains spread by a threshold cascade that, seed by seed, either jumps to other
# countries or stays near its French pioneers, so its transfers vary far more between seeds
# than diversity moves them.
NOT_SIGNIFICANT = {"short_food_chain"}


@pytest.mark.parametrize("innovation", [
    pytest.param(i, marks=pytest.mark.xfail(reason="threshold cascade: see docs/MODEL.md",
                                            strict=False)) if i in NOT_SIGNIFICANT else i
    for i in INNOVATIONS])
def test_sector_diversity_lowers_bridge_transfers(innovation, by_sectors):
    diffs = [metric(hi, f"{innovation}.bridge_transfers") - metric(lo, f"{innovation}.bridge_transfers")
             for lo, hi in zip(by_sectors[1], by_sectors[3])]
    mean, low, high = paired_interval(diffs)
    assert high < 0, f"bridge transfers, 3 vs 1 sectors: {mean:+.1f} [{low:+.1f}, {high:+.1f}]"


def test_baseline_does_not_saturate(tmp_path):
    """No innovation passes 80 % of the organisations it suits in the ten years."""
    runs = run_many([(BASE, s, tmp_path / f"b_{s}.h5", ()) for s in SEEDS[:3]])
    for r in runs:
        for inn in r["innovations"]:
            share = inn["metrics"]["suited_share"]
            assert share is not None and share < 0.8, (r["seed"], inn["name"], share)
            assert np.isfinite(share)
