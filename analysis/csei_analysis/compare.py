"""Comparing scenarios: a base and one or more variants, each a group of replicate runs.

Within a group the replicates differ only in seed. Bands and intervals are 95 % confidence
intervals of the mean over replicates (Student t). When the base and a variant ran the same
seeds (common random numbers), their difference is paired by seed; otherwise its interval is
Welch's. A group of one run has no interval (NaN), so its band is not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .describe import scenario_diff
from .io import Run, RunFileError
from .metrics import LABELS, format_value, summary_table
from .plots import _figure, _save, _style_axes
from .shares import adoption_share_total

CONFIDENCE = 0.95
COMPARE_PNG = "compare_adoption.png"
COMPARE_CSV = "compare_summary.csv"


@dataclass
class Group:
    """Replicate runs of one scenario, with the label used in figures and tables."""

    label: str
    runs: list[Run]


def make_groups(groups: list[list[Run]]) -> list[Group]:
    """Check that all runs are comparable and label the groups (the first is the base)."""
    first = groups[0][0]
    for runs in groups:
        for run in runs:
            _check_comparable(first, run)
    names = [runs[0].scenario_name for runs in groups]
    if len(set(names)) == len(names):
        labels = names
    else:
        labels = ["base"]
        for k, runs in enumerate(groups[1:], 1):
            diff = scenario_diff(first, runs[0])
            short = ", ".join(d.split(" (base")[0] for d in diff)
            labels.append(short if diff and len(short) <= 40 else f"variant {k}")
    return [Group(label, runs) for label, runs in zip(labels, groups)]


def mean_band(samples: np.ndarray):
    """Mean over axis 0 and the confidence interval of that mean (NaN for one sample)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * samples.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def difference_band(base: np.ndarray, variant: np.ndarray, paired: bool = False):
    """Mean difference variant - base over axis 0 and its confidence interval: of the mean of
    the differences when paired (rows matched), else Welch's."""
    base, variant = np.asarray(base, dtype=float), np.asarray(variant, dtype=float)
    if paired:
        return mean_band(variant - base)
    diff = variant.mean(axis=0) - base.mean(axis=0)
    nb, nv = base.shape[0], variant.shape[0]
    if nb < 2 or nv < 2:
        nan = np.full_like(diff, np.nan)
        return diff, nan, nan
    vb, vv = base.var(axis=0, ddof=1) / nb, variant.var(axis=0, ddof=1) / nv
    se = np.sqrt(vb + vv)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vb + vv) ** 2 / (vb**2 / (nb - 1) + vv**2 / (nv - 1))
        half = np.where(se > 0, stats.t.ppf(0.5 + CONFIDENCE / 2, df) * se, 0.0)
    return diff, diff - half, diff + half


def pairing(base: Group, variant: Group):
    """Replicate orders (base, variant) matching runs by seed, or None when the two groups
    did not run the same distinct seeds (or have fewer than two)."""
    seeds = [[run.attrs.get("seed") for run in g.runs] for g in (base, variant)]
    if len(seeds[0]) < 2 or len(set(seeds[0])) != len(seeds[0]) or None in seeds[0]:
        return None
    if sorted(seeds[0]) != sorted(seeds[1]):
        return None
    return list(range(len(seeds[0]))), [seeds[1].index(seed) for seed in seeds[0]]


def share_samples(group: Group) -> np.ndarray:
    """Adoption shares of all organisations, [replicate, innovation, step]."""
    return np.array([adoption_share_total(run)[1] for run in group.runs])


def metric_samples(group: Group) -> pd.DataFrame:
    """Summary metrics of every replicate, indexed by (replicate, innovation)."""
    return pd.concat([summary_table(run) for run in group.runs], keys=range(len(group.runs)))


def compare_metrics(groups: list[Group]) -> pd.DataFrame:
    """Each variant's metrics against the base: one row per (variant, innovation, metric)."""
    base = metric_samples(groups[0])
    rows = []
    for group in groups[1:]:
        variant = metric_samples(group)
        pairs = pairing(groups[0], group)
        for innovation in groups[0].runs[0].innovation_names:
            for metric in base.columns.intersection(variant.columns, sort=False):
                b = base.xs(innovation, level=1)[metric].to_numpy()
                v = variant.xs(innovation, level=1)[metric].to_numpy()
                if pairs:  # only pairs where both happened
                    db, dv = b[pairs[0]], v[pairs[1]]
                    both = np.isfinite(db) & np.isfinite(dv)
                    db, dv = db[both], dv[both]
                else:
                    db, dv = b[np.isfinite(b)], v[np.isfinite(v)]
                change, low, high = (
                    difference_band(db, dv, bool(pairs)) if len(db) and len(dv) else (np.nan,) * 3
                )
                rows.append(
                    {
                        "variant": group.label,
                        "innovation": innovation,
                        "metric": metric,
                        "base": np.nanmean(b) if np.isfinite(b).any() else np.nan,
                        "value": np.nanmean(v) if np.isfinite(v).any() else np.nan,
                        "change": float(change),
                        "change_low": float(low),
                        "change_high": float(high),
                        "base_runs": len(b),
                        "variant_runs": len(v),
                        "paired": bool(pairs),
                    }
                )
    return pd.DataFrame(rows)


def plot_compare(groups: list[Group], path=None):
    """Top row: mean adoption share of each group with its band; bottom row: each variant
    minus the base with its band. One column per innovation."""
    base_run = groups[0].runs[0]
    years = base_run.years
    samples = [share_samples(group) for group in groups]
    n = base_run.n_innovations
    fig = _figure(figsize=(5.5 * n, 7.5))
    axes = fig.subplots(2, n, squeeze=False, sharex=True)
    for i, name in enumerate(base_run.innovation_names):
        top, bottom = axes[0, i], axes[1, i]
        for k, (group, sample) in enumerate(zip(groups, samples)):
            colour = f"C{k}"
            mean, low, high = mean_band(sample[:, i])
            top.plot(years, mean, color=colour, label=f"{group.label} (n={len(group.runs)})")
            top.fill_between(years, low, high, color=colour, alpha=0.25, linewidth=0)
            if k:
                pairs = pairing(groups[0], group)
                b, v = samples[0][:, i], sample[:, i]
                if pairs:
                    b, v = b[pairs[0]], v[pairs[1]]
                diff, low, high = difference_band(b, v, bool(pairs))
                bottom.plot(years, diff, color=colour, label=f"{group.label} - {groups[0].label}")
                bottom.fill_between(years, low, high, color=colour, alpha=0.25, linewidth=0)
        bottom.axhline(0.0, color="black", linewidth=0.8)
        top.set_title(name)
        _style_axes(top)
        top.set_xlabel("")
        bottom.set_xlabel("years")
        bottom.set_ylabel("difference in adoption share")
        bottom.grid(True, alpha=0.3)
        top.legend(fontsize="small")
        bottom.legend(fontsize="small")
    fig.suptitle(
        f"Adoption share: variants vs {groups[0].label} "
        f"(bands: {CONFIDENCE:.0%} confidence intervals over replicates)"
    )
    _save(fig, path)
    return fig


def format_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as strings for printing and HTML: value columns and a change column."""
    out = []
    for _, row in table.iterrows():
        change = format_value(row.metric, row.change, signed=True)
        if np.isfinite(row.change_low):
            low = format_value(row.metric, row.change_low, signed=True)
            high = format_value(row.metric, row.change_high, signed=True)
            change += f" [{low}, {high}]"
        out.append(
            {
                "variant": row.variant,
                "innovation": row.innovation,
                "metric": LABELS.get(row.metric, row.metric),
                "base": format_value(row.metric, row.base),
                "variant value": format_value(row.metric, row.value),
                "change [95 % CI]": change,
            }
        )
    return pd.DataFrame(out)


def _check_comparable(first: Run, run: Run) -> None:
    checks = (
        ("innovations", first.innovation_names, run.innovation_names),
        ("territories", first.territory_codes, run.territory_codes),
        ("steps", first.steps, run.steps),
        ("steps_per_year", first.steps_per_year, run.steps_per_year),
    )
    for what, expected, actual in checks:
        if expected != actual:
            raise RunFileError(
                run.path, f"cannot be compared with {first.path}: {what} {actual} vs {expected}"
            )
