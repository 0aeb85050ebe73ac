"""Returns of policy levers: what a variant adds against its base per million euros it costs.

For each variant, paired by seed with the base (the same seeds on both sides, as
`compare --base ... --variant ...` gives them), per replicate r: the extra spending
dc_r = spending(variant) - spending(base) (real euros, `/policy/spending`) and the extra outcome
dy_r at the end of the run (adopters, jobs, impact; model figures x `represents`, so real ones).
The return is the ratio of the means, R = mean(dy) / mean(dc) x 1e6 (per million euros), with a
95 % interval by the delta method over replicates:
var(R) = (s_y^2 - 2 R s_yc + R^2 s_c^2) / (n mean(dc)^2), Student t with n - 1 degrees of
freedom. Per territory, the outcome there is divided by the spending there (spillovers to other
territories count where they happen: the totals are the honest figure). A negative dc is a
saving (a cut): R is then what each million saved loses. Without extra spending R is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .metrics import represents

CONFIDENCE = 0.95
RETURNS_CSV = "compare_returns.csv"
RETURNS_PNG = "compare_returns.png"
# Every parameter of the shipped scenarios and cost defaults is assumed, not calibrated.
ILLUSTRATIVE = "illustrative, not calibrated"
OUTCOMES = {
    "adopters": ("series/adopters", "additional adopters"),
    "jobs": ("series/jobs", "additional jobs"),
    "impact": ("series/impact", "additional impact (t CO2e a year)"),
}


def spending(run) -> np.ndarray:
    """Policy spending of a run per territory, real euros [T] (zeros before schema 4)."""
    if not run.has("policy/spending"):
        return np.zeros(run.n_territories)
    data = np.asarray(run.read("policy/spending"), dtype=float)  # [S+1, E, T]
    return data.sum(axis=(0, 1)) if data.size else np.zeros(run.n_territories)


def outcomes(run, name: str) -> np.ndarray:
    """An outcome at the end of a run, real figures [I, T] (NaN if the file lacks it)."""
    dataset = OUTCOMES[name][0]
    if not run.has(dataset):
        return np.full((run.n_innovations, run.n_territories), np.nan)
    return np.asarray(run.read(dataset)[-1], dtype=float) * represents(run)


def ratio_band(dy: np.ndarray, dc: np.ndarray):
    """Ratio of means mean(dy) / mean(dc) and its delta-method interval (NaN when undefined)."""
    dy, dc = np.asarray(dy, dtype=float), np.asarray(dc, dtype=float)
    n = len(dy)
    mc = dc.mean() if n else np.nan
    if n == 0 or not np.isfinite(mc) or abs(mc) < 1e-9:
        return np.nan, np.nan, np.nan
    r = dy.mean() / mc
    if n < 2:
        return r, np.nan, np.nan
    sy, sc = dy.var(ddof=1), dc.var(ddof=1)
    syc = np.cov(dy, dc, ddof=1)[0, 1]
    var = max(sy - 2 * r * syc + r * r * sc, 0.0) / (n * mc * mc)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * np.sqrt(var)
    return r, r - half, r + half


def mean_band(x: np.ndarray):
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return (x.mean() if len(x) else np.nan), np.nan, np.nan
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


def returns_table(groups, pairing) -> pd.DataFrame:
    """One row per (variant, innovation or "all", territory or "total", outcome): the extra
    spending, the extra outcome and the return per million euros, each with its interval.
    `pairing(base, variant)` gives the replicate orders matched by seed (or None: unpaired,
    then replicates are matched in the order given, which is only right for one run each)."""
    base = groups[0]
    codes = base.runs[0].territory_codes
    innovations = base.runs[0].innovation_names
    rows = []
    for group in groups[1:]:
        pairs = pairing(base, group)
        if pairs:
            b_runs = [base.runs[i] for i in pairs[0]]
            v_runs = [group.runs[i] for i in pairs[1]]
        else:
            n = min(len(base.runs), len(group.runs))
            b_runs, v_runs = base.runs[:n], group.runs[:n]
        dc = np.array([spending(v) - spending(b) for b, v in zip(b_runs, v_runs)])  # [R, T]
        for outcome in OUTCOMES:
            dy = np.array([outcomes(v, outcome) - outcomes(b, outcome)
                           for b, v in zip(b_runs, v_runs)])  # [R, I, T]
            for k, innovation in enumerate(innovations + ["all"]):
                y = dy.sum(axis=1) if innovation == "all" else dy[:, k]  # [R, T]
                for t, territory in enumerate(["total"] + codes):
                    yt = y.sum(axis=1) if t == 0 else y[:, t - 1]
                    ct = dc.sum(axis=1) if t == 0 else dc[:, t - 1]
                    if not np.isfinite(yt).all():
                        continue
                    change, low, high = mean_band(yt)
                    cost, cost_low, cost_high = mean_band(ct)
                    r, r_low, r_high = ratio_band(yt, ct)
                    rows.append({
                        "variant": group.label, "innovation": innovation,
                        "territory": territory, "outcome": outcome,
                        "extra_spending_eur": cost, "extra_spending_low": cost_low,
                        "extra_spending_high": cost_high,
                        "change": change, "change_low": low, "change_high": high,
                        "per_million_eur": r * 1e6, "per_million_low": r_low * 1e6,
                        "per_million_high": r_high * 1e6,
                        "replicates": len(yt), "paired": bool(pairs),
                    })
    return pd.DataFrame(rows)


def _fmt(x, digits=0):
    return "-" if not np.isfinite(x) else f"{x:+,.{digits}f}"


def _band(v, lo, hi, digits=0):
    text = _fmt(v, digits)
    if np.isfinite(lo):
        text += f" [{_fmt(lo, digits)}, {_fmt(hi, digits)}]"
    return text


def format_returns(table: pd.DataFrame, territory: str = "total") -> pd.DataFrame:
    """The totals of every variant as strings: spending in millions, changes, returns."""
    rows = []
    sel = table[(table.territory == territory) & (table.innovation == "all")]
    for variant, part in sel.groupby("variant", sort=False):
        row = {"lever": variant}
        first = part.iloc[0]
        row["extra spending, M EUR"] = _band(first.extra_spending_eur / 1e6,
                                             first.extra_spending_low / 1e6,
                                             first.extra_spending_high / 1e6, 2)
        for _, r in part.iterrows():
            label = OUTCOMES[r.outcome][1].replace("additional ", "")
            row[f"+{label}"] = _band(r.change, r.change_low, r.change_high)
            row[f"{label} per M EUR"] = _band(r.per_million_eur, r.per_million_low,
                                              r.per_million_high, 1)
        row["replicates"] = int(first.replicates) if first.paired else f"{first.replicates} (unpaired)"
        rows.append(row)
    return pd.DataFrame(rows)


def plot_returns(table: pd.DataFrame, path=None, title_note=""):
    """Levers ranked by return (all innovations, all territories): one panel per outcome, bars
    with 95 % intervals."""
    from .plots import _figure, _save

    sel = table[(table.territory == "total") & (table.innovation == "all")]
    adopters = sel[sel.outcome == "adopters"].copy()
    # Savings (cuts) are not levers that pay: they go below the ranked levers, in grey, and
    # their figure is what each million saved loses.
    adopters["saving"] = adopters.extra_spending_eur < 0
    adopters = adopters.sort_values(["saving", "per_million_eur"], ascending=[False, True],
                                    na_position="first")
    order = list(adopters.variant)
    saving = dict(zip(adopters.variant, adopters.saving))
    labels = [f"{v}\n(a saving: lost per M EUR saved)" if saving[v] else v for v in order]
    fig = _figure(figsize=(13, 0.6 * max(len(order), 2) + 2.2))
    axes = fig.subplots(1, len(OUTCOMES), squeeze=False)[0]
    for ax, (outcome, (_, label)) in zip(axes, OUTCOMES.items()):
        part = sel[sel.outcome == outcome].set_index("variant").reindex(order)
        y = np.arange(len(order))
        value = part.per_million_eur.to_numpy(dtype=float)
        low = part.per_million_low.to_numpy(dtype=float)
        high = part.per_million_high.to_numpy(dtype=float)
        err = np.vstack([np.where(np.isfinite(low), value - low, 0),
                         np.where(np.isfinite(high), high - value, 0)])
        colours = ["C7" if saving[v] else "C2" if x >= 0 else "C3"
                   for v, x in zip(order, np.nan_to_num(value))]
        ax.barh(y, np.nan_to_num(value), xerr=err, color=colours, capsize=4)
        for yy, v in zip(y, value):
            if not np.isfinite(v):
                ax.text(0, yy, "  no extra spending", va="center", fontsize="small")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, labels if ax is axes[0] else [""] * len(order))
        ax.set_xlabel(f"{label} per million EUR")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle("Levers ranked by return (95 % intervals over paired replicates)"
                 + (f"\n{title_note}" if title_note else ""))
    _save(fig, path)
    return fig
