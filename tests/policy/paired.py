"""Paired-seed runs of shipped scenarios and 95 % intervals of their differences."""

from __future__ import annotations

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy import stats

REPO = Path(__file__).resolve().parents[2]
SEEDS = (1, 2, 3, 4, 5)
# Marks the metric a policy variant is about: `# Metric: <innovation>.<metric> (higher|lower)`.
METRIC_LINE = re.compile(r"^# Metric: ([\w.]+) \((higher|lower)\)", re.M)


def csei_binary() -> Path:
    return Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))


def stated_metric(path: Path):
    """The metric a scenario file names and the direction it expects, or None."""
    found = METRIC_LINE.search(path.read_text(encoding="utf-8"))
    return (found.group(1), found.group(2)) if found else None


def run_json(scenario: Path, seed: int, out: Path, sets=()) -> dict:
    args = [str(csei_binary()), "run", str(scenario), "--seed", str(seed), "--threads", "1",
            "-o", str(out), "--format", "json"]
    for s in sets:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{scenario}: {r.stderr}"
    return json.loads(r.stdout)


def run_many(jobs) -> list[dict]:
    """jobs: (scenario, seed, out, sets) tuples; run two at a time."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda j: run_json(*j), jobs))


def metric(result: dict, name: str) -> float:
    innovation, key = name.split(".", 1)
    for inn in result["innovations"]:
        if inn["name"] == innovation:
            value = inn["metrics"][key]
            return np.nan if value is None else float(value)
    raise KeyError(f"no innovation {innovation!r} in the run")


def paired_interval(diffs) -> tuple[float, float, float]:
    """Mean of paired differences and its 95 % Student-t interval."""
    d = np.asarray(diffs, dtype=float)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


def excludes_zero(interval, direction: str) -> bool:
    _, low, high = interval
    return low > 0 if direction == "higher" else high < 0
