"""Makes the csei_analysis package in <repo>/analysis importable for these tests, and makes
real runs with the simulator once per session (skipped when build/csei is not built)."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "analysis"))

from runfiles import csei_binary, real_run  # noqa: E402

SEEDS = (1, 2, 3)


def _need_binary():
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)")


@pytest.fixture(scope="session")
def policy_runs(tmp_path_factory):
    """Two scenarios differing in one value (word of mouth q of innovation 0: 1.5 in the base,
    0.5 in the variant), three replicates each with the same seeds."""
    _need_binary()
    out = tmp_path_factory.mktemp("policy")
    runs = {"base": [], "variant": []}
    for seed in SEEDS:
        for label, q in (("base", 1.5), ("variant", 0.5)):
            path = out / f"{label}_{seed}.h5"
            args = ("--seed", str(seed), "--set", f"innovations[0].q={q}")
            runs[label].append(real_run(path, *args))
    return runs


@pytest.fixture(scope="session")
def eu_run(tmp_path_factory):
    """The EU-27 baseline at 1:1,000 of social-economy employment (organisations.scale 0.001), two years."""
    _need_binary()
    path = tmp_path_factory.mktemp("eu") / "eu27.h5"
    return real_run(path, "--set", "organisations.scale=0.001", "--set", "time.steps=24",
                    scenario=REPO / "scenarios" / "baseline_eu27.toml")
