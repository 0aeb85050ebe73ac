"""Metrics per territory (region) or per parent (country), and regions within one country.

For each innovation and territory: organisations, the first year at which at least 10 % and
50 % of the territory's organisations have adopted (NaN: never), and the adoption share at
chosen years (default: a quarter, half, three quarters and all of the run). At
`--level country` the same is computed from the country totals (levels.at_level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .io import Run, RunFileError
from .plots import _figure, _save, _style_axes
from .shares import adoption_share_by_territory

THRESHOLDS = (10, 50)


def default_years(run: Run, panels: int = 4) -> list[float]:
    """`panels` years evenly spread over the run, ending at its last step."""
    return [run.steps * k / panels / run.steps_per_year for k in range(1, panels + 1)]


def year_steps(run: Run, years) -> list[int]:
    """The step at (or just before) each year; years outside the run are an error."""
    last = run.steps / run.steps_per_year
    steps = []
    for year in years:
        if not 0 <= year <= last + 1e-9:
            raise RunFileError(run.path, f"year {year:g} is outside the run (0 to {last:g})")
        steps.append(min(run.steps, int(np.floor(year * run.steps_per_year + 1e-9))))
    return steps


def territory_metrics(run, years=None) -> pd.DataFrame:
    """One row per (innovation, territory) of `run` (a run or a parent-level view)."""
    years = default_years(run) if years is None else list(years)
    steps = year_steps(run, years)
    _, shares = adoption_share_by_territory(run)  # [I, T, S+1]
    parents = getattr(run, "territory_parents", [""] * run.n_territories)
    rows = []
    for i, innovation in enumerate(run.innovation_names):
        for t, (code, name) in enumerate(zip(run.territory_codes, run.territory_names)):
            share = shares[i, t]
            row = {"innovation": innovation, "code": code, "name": name,
                   "organisations": int(run.organisations[t])}
            if any(parents):
                row["parent"] = parents[t]
            for x in THRESHOLDS:
                reached = np.nonzero(np.nan_to_num(share) * 100 >= x)[0]
                row[f"years_to_{x}"] = (reached[0] / run.steps_per_year if len(reached)
                                        else np.nan)
            for year, step in zip(years, steps):
                row[f"share_{year:g}y"] = share[step]
            rows.append(row)
    return pd.DataFrame(rows)


def within(run: Run, parent: str) -> list[int]:
    """Indices of the territories of `parent` (a country code), in run order."""
    parents = run.territory_parents
    if not any(parents):
        raise RunFileError(run.path, "--within: the run's territories have no parent")
    found = [t for t, p in enumerate(parents) if p == parent]
    if not found:
        known = sorted(set(parents) - {""})
        raise RunFileError(run.path, f"--within: no territory has parent '{parent}' "
                           f"(parents: {', '.join(known)})")
    return found


def plot_within(run: Run, parent: str, path=None):
    """Adoption share of each region of `parent` over time, with the country as a whole."""
    members = within(run, parent)
    years, shares = adoption_share_by_territory(run)
    orgs = run.organisations[members].astype(float)
    fig = _figure(figsize=(6.5 * min(2, run.n_innovations),
                           4.2 * int(np.ceil(run.n_innovations / 2))))
    axes = fig.subplots(int(np.ceil(run.n_innovations / 2)), min(2, run.n_innovations),
                        squeeze=False).ravel()
    for ax in axes[run.n_innovations:]:
        fig.delaxes(ax)
    name = run.parent_names.get(parent, parent)
    from matplotlib import colormaps

    colours = colormaps["tab20"].colors
    for ax, innovation, share in zip(axes, run.innovation_names, shares):
        for k, t in enumerate(members):
            ax.plot(years, share[t], linewidth=1, color=colours[k % 20],
                    label=f"{run.territory_codes[t]} {run.territory_names[t]}"[:32])
        adopters = run.adopters[:, run.innovation_names.index(innovation)][:, members].sum(axis=1)
        ax.plot(years, adopters / orgs.sum(), color="black", linewidth=2.5, label=f"{name} (all)")
        _style_axes(ax)
        ax.set_title(innovation)
    fig.legend(handles=axes[0].get_lines(), fontsize="x-small", loc="center left",
               bbox_to_anchor=(1.0, 0.5), ncol=1 if len(members) <= 20 else 2)
    fig.suptitle(f"{run.scenario_name}: adoption share in the regions of {name}")
    _save(fig, path)
    return fig


def compare_by_territory(groups, level: str = "country") -> pd.DataFrame:
    """Final adoption share per territory at `level` for each scenario (mean over its
    replicates) and each variant's difference from the base (the first group)."""
    from .levels import at_level

    finals = []
    for group in groups:
        shares = []
        for run in group.runs:
            view = at_level(run, level)
            _, s = adoption_share_by_territory(view)
            shares.append(s[:, :, -1])
        finals.append(np.mean(shares, axis=0))  # [I, T]
    view = at_level(groups[0].runs[0], level)
    rows = []
    for i, innovation in enumerate(view.innovation_names):
        for t, (code, name) in enumerate(zip(view.territory_codes, view.territory_names)):
            row = {"innovation": innovation, "code": code, "name": name,
                   f"final_share_{groups[0].label}": finals[0][i, t]}
            for group, final in zip(groups[1:], finals[1:]):
                row[f"final_share_{group.label}"] = final[i, t]
                row[f"difference_{group.label}"] = final[i, t] - finals[0][i, t]
            rows.append(row)
    return pd.DataFrame(rows)
