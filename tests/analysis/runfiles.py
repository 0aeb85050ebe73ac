"""Run files for the analysis tests: synthetic ones written with h5py (schema 1 and 2, as
output/SCHEMA.md and the schema 2 additions describe them) and real ones made by build/csei."""

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np

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

SCENARIO = """name = 'synthetic'
seed = 42

[network]
kind = 'partners'
local_share = 0.75
partners = 4

[time]
steps = 4
steps_per_year = 4

[[innovations]]
name = 'social-lending'
p = 0.03
q = 0.4
pioneers = 1
pioneer_territory = 'AT11'
rule = 'bass'

[[innovations]]
name = 'care-coops'
pioneers = 2
rule = 'threshold'
threshold = { kind = 'uniform', max = 0.4, min = 0.1 }
"""


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
    scenario=SCENARIO,
):
    """Write a run file as the simulator does; names in `omit` (attributes or datasets) are left out."""
    adopters = np.asarray(adopters, dtype=np.int64)
    n_rows, n_innovations, n_territories = adopters.shape
    codes = codes or [f"T{t:02d}" for t in range(n_territories)]
    innovations = innovations or [f"innovation-{i}" for i in range(n_innovations)]
    attrs = {
        "schema_version": schema_version,
        "scenario": scenario,
        "scenario_name": "synthetic",
        "seed": np.uint64(42),
        "threads": 1,
        "version": "test",
        "created": "2024-01-01T00:00:00Z",
        "steps": n_rows - 1 if steps is None else steps,
        "steps_per_year": float(steps_per_year),
        "organisations": int(np.sum(organisations)),
        "links": 40,
        "complete": 1,
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


# -- schema 2 -------------------------------------------------------------------

V2_CODES = ["DE", "FR", "IT"]
V2_ORGANISATIONS = np.array([100, 50, 50])
FORMS = ["association", "cooperative", "mutual", "foundation", "social_enterprise", "sme",
         "public_body", "research"]
FORM_ORGANISATIONS = np.array([80, 40, 10, 10, 20, 20, 10, 10])


def v2_data(steps=6):
    """Consistent schema 2 datasets for 2 innovations, 3 territories, 8 forms, 2 clusters."""
    rng = np.random.default_rng(5)
    new = rng.integers(0, 5, (steps + 1, 2, 3))
    new[0] = [[2, 0, 0], [0, 1, 0]]
    cumulative = new.cumsum(axis=0)
    abandoned = cumulative // 5
    adopters = cumulative - abandoned
    members = np.arange(steps + 1)[:, None] + np.array([10, 6, 4])
    total = adopters.sum(axis=2)
    by_form = np.zeros((steps + 1, 2, 8), dtype=np.int64)
    by_form[..., 0] = total // 2
    by_form[..., 1] = total - total // 2
    return {
        "series/new_adopters": new,
        "series/adopters": adopters,
        "series/abandoned": abandoned,
        "series/aware": cumulative + 3,
        "series/members": members,
        "series/member_adopters": np.minimum(adopters, members[:, None, :]) // 2,
        "series/adopters_by_form": by_form,
        "series/jobs": adopters * 2.5,
        "series/impact": adopters * 0.75,
        "series/transfers": new // 2,
        "series/cluster_members": np.stack([np.arange(steps + 1) + 5, np.zeros(steps + 1)], 1),
        "series/cluster_adopters": np.zeros((steps + 1, 2, 2), dtype=np.int64),
        "legal_forms/name": FORMS,
        "legal_forms/organisations": FORM_ORGANISATIONS,
        "clusters/name": ["alpha", "beta"],
        "clusters/territory": np.array([0, 1]),
        "clusters/founded": np.array([0, -1]),
        "clusters/sector_diversity": np.array([0.5, np.nan]),
        "innovations/kind": ["social", "ecological"],
        "innovations/launch_step": np.array([0, 2]),
        "events/step": np.array([2, 4]),
        "events/kind": ["subsidy", "training"],
        "events/target": ["DE", "cluster alpha"],
        "events/affected": np.array([10, 5]),
        # Stored summaries deliberately differ from what the series would give.
        "summary/steps_to_10": np.array([2, -1]),
        "summary/steps_to_50": np.array([4, -1]),
        "summary/steps_to_90": np.array([-1, -1]),
        "summary/peak_step": np.array([3, 5]),
        "summary/territories_reached": np.array([3, 2]),
        "summary/final_share": np.array([0.25, 0.125]),
        "summary/cluster_advantage": np.array([0.1, np.nan]),
        "summary/rogers_innovators": np.array([0.1, 0.0]),
        "summary/rogers_early_adopters": np.array([0.2, 0.5]),
        "summary/rogers_early_majority": np.array([0.3, 0.5]),
        "summary/rogers_late_majority": np.array([0.3, 0.0]),
        "summary/rogers_laggards": np.array([0.1, 0.0]),
    }


def write_run_v2(path, omit=(), replace=None, steps=6):
    """A schema 2 run file; datasets in `omit` are left out, `replace` maps names to new data."""
    data = {**v2_data(steps), **(replace or {})}
    write_run(path, adopters=data["series/adopters"], organisations=V2_ORGANISATIONS,
              codes=V2_CODES, innovations=["repair_cafe", "solar_coop"], schema_version=2,
              steps_per_year=12.0)
    with h5py.File(path, "a") as f:
        del f["series/new_adopters"]
        if "series/adopters" in omit:
            del f["series/adopters"]
        for name, value in data.items():
            if name in omit or name in f:
                continue
            if isinstance(value, list):
                f.create_dataset(name, data=value, dtype=h5py.string_dtype())
            else:
                f.create_dataset(name, data=value)
    return path


# -- real runs --------------------------------------------------------------------


def csei_binary() -> Path:
    return Path(os.environ.get("CSEI_BIN") or REPO / "build" / "csei")


def real_run(out, *args, scenario=REPO / "tests" / "data" / "small.toml") -> Path:
    """Run the simulator on a scenario (default tests/data/small.toml) into out."""
    subprocess.run(
        [str(csei_binary()), "run", str(scenario), "-o", str(out), "--threads", "1", *args],
        check=True,
        capture_output=True,
    )
    return Path(out)
