"""Summary metrics per innovation, read from /summary (schema 2) or computed from the series.

Definitions follow the simulator (sim/kernel/summary.cpp): steps_to_X is the first step at
which at least X % of all organisations have adopted, peak_step the step after 0 with the most
new adopters (first on ties), territories_reached the territories whose adopters reach the
scenario's `[outcomes] reached_share` (default 10 %) of the organisations there that the
innovation suits (files before schema 4 stored, and for them this module computes, the
territories with one adopter), first_step_X the first step at which a territory with enough
suited organisations reached X % of them (the territory: `first_territories`). Metrics that
never happened or are undefined are NaN.

Counts of organisations, jobs and impact are model figures; a model organisation stands for
`represents` real entities (root attribute, schema 4; 1 before): `real_figures` scales them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .io import ROGERS_CATEGORIES, Run

STEP_METRICS = ("steps_to_10", "steps_to_50", "steps_to_90", "peak_step", "first_step_10",
                "first_step_50", "member_steps_to_50", "nonmember_steps_to_50")
# Schema 4 metrics read from /summary when present.
STORED_METRICS = ("suited_share", "first_step_10", "first_step_50", "member_share",
                  "nonmember_share", "member_steps_to_50", "nonmember_steps_to_50")
# Metrics that count real things (organisations, jobs, impact): real figure = model x represents.
REAL_METRICS = ("adopters", "abandoned", "jobs", "impact", "transfers", "bridge_transfers",
                "distant_transfers")
ROGERS_METRICS = tuple(f"rogers_{c}" for c in ROGERS_CATEGORIES)
# Totals at the end of the run (or over it, for transfers) from schema 2 series.
EXTRA_SERIES = {
    "aware_share": "series/aware",
    "abandoned": "series/abandoned",
    "jobs": "series/jobs",
    "impact": "series/impact",
    "transfers": "series/transfers",
    "bridge_transfers": "series/bridge_transfers",
    "distant_transfers": "series/distant_transfers",
}
SUM_OVER_RUN = ("transfers", "bridge_transfers", "distant_transfers")
LABELS = {
    "final_share": "final adoption share",
    "steps_to_10": "steps to 10 %",
    "steps_to_50": "steps to 50 %",
    "steps_to_90": "steps to 90 %",
    "peak_step": "peak step",
    "territories_reached": "territories reached",
    "suited_share": "share of suited organisations",
    "first_step_10": "first territory to 10 % (step)",
    "first_step_50": "first territory to 50 % (step)",
    "member_share": "share among suited members",
    "nonmember_share": "share among suited non-members",
    "member_steps_to_50": "members: steps to 50 %",
    "nonmember_steps_to_50": "non-members: steps to 50 %",
    "adopters": "adopters",
    "bridge_transfers": "transfers via bridges",
    "distant_transfers": "transfers via distant links",
    "cluster_advantage": "cluster advantage",
    "aware_share": "final awareness share",
    "abandoned": "abandonments",
    "jobs": "jobs created",
    "impact": "ecological impact",
    "transfers": "transfers (bridge + distant)",
    **{m: f"Rogers: {c.replace('_', ' ')}" for m, c in zip(ROGERS_METRICS, ROGERS_CATEGORIES)},
}


def rogers_categories(new_adoptions) -> np.ndarray:
    """Shares of adopters in Rogers' five categories, from adoptions per step [S+1].

    With mean m and standard deviation sd of the adoption steps (one weight per adoption):
    innovators < m - 2sd, early adopters [m - 2sd, m - sd), early majority [m - sd, m),
    late majority [m, m + sd), laggards >= m + sd; a step on a boundary belongs to the later
    category. NaN when nobody adopted or every adoption happened in one step (sd = 0).

    This is the simulator's definition (sim/kernel/summary.cpp, `rogers_shares`), decided the
    same way in exact integer arithmetic, and checked against the same cases
    (tests/data/rogers_cases.json) on both sides.
    """
    weights = [int(w) for w in np.asarray(new_adoptions).astype(np.int64)]
    W = sum(weights)
    A = sum(w * x for x, w in enumerate(weights))
    B = sum(w * x * x for x, w in enumerate(weights))
    V = B * W - A * A  # W^2 sd^2
    if W <= 0 or V <= 0:
        return np.full(len(ROGERS_CATEGORIES), np.nan)
    counts = np.zeros(len(ROGERS_CATEGORIES))
    for x, w in enumerate(weights):
        if w == 0:
            continue
        d = W * x - A  # W (x - m)
        # x >= m + j sd  <=>  d >= j sqrt(V), squared into integer comparisons
        edges = (
            d >= 0 or d * d <= 4 * V,  # j = -2
            d >= 0 or d * d <= V,  # j = -1
            d >= 0,  # j = 0
            d >= 0 and d * d >= V,  # j = 1
        )
        counts[sum(edges)] += w
    return counts / W


def summary_table(run: Run) -> pd.DataFrame:
    """One row per innovation, one float column per metric (NaN: never or undefined)."""
    adopters = run.adopters.sum(axis=2)  # [S+1, I]
    fresh = run.new_adopters.sum(axis=2)
    n = int(run.organisations.sum())
    computed = {
        "adopters": adopters[-1],
        "final_share": adopters[-1] / n if n else np.full(run.n_innovations, np.nan),
        **{f"steps_to_{x}": _first_step(100 * adopters >= x * n) for x in (10, 50, 90)},
        "peak_step": _first_step((fresh == fresh[1:].max(axis=0, initial=0)) & (fresh > 0), 1),
        "territories_reached": (run.adopters[-1] > 0).sum(axis=1),
    }
    rogers = np.array([rogers_categories(fresh[:, i]) for i in range(run.n_innovations)])
    computed.update({m: rogers[:, k] for k, m in enumerate(ROGERS_METRICS)})

    columns = {}
    for name, value in computed.items():
        stored = run.get(f"summary/{name}")
        columns[name] = np.asarray(value if stored is None else stored, dtype=float)
    if run.has("summary/cluster_advantage"):
        columns["cluster_advantage"] = run.read("summary/cluster_advantage").astype(float)
    for name in STORED_METRICS:
        if run.has(f"summary/{name}"):
            columns[name] = run.read(f"summary/{name}").astype(float)
    for name, dataset in EXTRA_SERIES.items():
        if run.has(dataset):
            series = run.read(dataset).sum(axis=2).astype(float)  # [S+1, I]
            columns[name] = series.sum(axis=0) if name in SUM_OVER_RUN else series[-1]
    if "aware_share" in columns:
        columns["aware_share"] = columns["aware_share"] / n if n else np.nan
    table = pd.DataFrame(columns, index=pd.Index(run.innovation_names, name="innovation"))
    for name in STEP_METRICS + ("territories_reached",):
        if name in table:
            table.loc[table[name] < 0, name] = np.nan
    return table


def represents(run: Run) -> float:
    """Real entities one model organisation stands for (1 for files before schema 4)."""
    value = run.attrs.get("represents", 1.0)
    return float(value)


def real_figures(table: pd.DataFrame, scale: float) -> pd.DataFrame:
    """The metrics of `table` that count real things, times `scale` (real-world figures)."""
    return table[[m for m in REAL_METRICS if m in table]] * scale


def first_territories(run: Run) -> pd.DataFrame:
    """Per innovation, the first territory to reach 10 % and 50 % of its suited organisations
    (codes, "" when none did or the file predates schema 4)."""
    columns = {}
    for x in (10, 50):
        stored = run.get(f"summary/first_territory_{x}")
        columns[f"first_territory_{x}"] = (
            [v.decode() if isinstance(v, bytes) else str(v) for v in stored]
            if stored is not None else [""] * run.n_innovations)
    return pd.DataFrame(columns, index=pd.Index(run.innovation_names, name="innovation"))


def _first_step(reached: np.ndarray, start: int = 0) -> np.ndarray:
    """First row index >= start where reached[:, i] holds, per column; -1 where never."""
    reached = reached[start:]
    return np.where(reached.any(axis=0), reached.argmax(axis=0) + start, -1)


SHARE_METRICS = ("final_share", "aware_share", "suited_share", "member_share",
                 "nonmember_share") + ROGERS_METRICS


def format_value(metric: str, value, signed: bool = False) -> str:
    """A metric value for tables: shares in %, changes of shares in percentage points,
    counts as integers (one decimal for means of replicates), NaN as 'never' or '-'."""
    value = float(value)
    if not np.isfinite(value):
        return "never" if metric in STEP_METRICS and not signed else "-"
    sign = "+" if signed else ""
    if metric in SHARE_METRICS:
        return f"{100 * value:{sign}.1f} {'pp' if signed else '%'}"
    if metric == "cluster_advantage":
        return f"{value:{sign}.3f}"
    if value == round(value) or abs(value) >= 1000:
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.1f}"


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """summary_table() as strings, with readable column names."""
    return pd.DataFrame(
        {LABELS.get(m, m): [format_value(m, v) for v in table[m]] for m in table.columns},
        index=table.index,
    )
