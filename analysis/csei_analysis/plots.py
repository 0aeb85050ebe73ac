"""Adoption figures for a csei run, drawn with matplotlib's Agg backend.

Figures are built without pyplot so nothing depends on a display or on global
figure state; each plot function returns its Figure so callers can inspect it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .io import Run
from .shares import adoption_share_by_territory, adoption_share_total

# Above this many territories a legend is unreadable, so lines stay unlabelled.
MAX_LABELLED_TERRITORIES = 30

TOTAL_PNG = "adoption_total.png"
BY_TERRITORY_PNG = "adoption_by_territory.png"


def plot_adoption_total(run: Run, path=None) -> Figure:
    """Adoption share of all organisations over time, one line per innovation."""
    years, shares = adoption_share_total(run)
    fig = _figure(figsize=(8, 5))
    ax = fig.add_subplot()
    for name, share in zip(run.innovation_names, shares):
        ax.plot(years, share, label=name)
    _style_axes(ax)
    ax.set_title(f"{run.scenario_name}: adoption share, all territories")
    ax.legend()
    _save(fig, path)
    return fig


def plot_adoption_by_territory(run: Run, path=None) -> Figure:
    """Adoption share per territory over time: one subplot per innovation, one line per territory."""
    years, shares = adoption_share_by_territory(run)
    n_innovations, n_territories = shares.shape[:2]
    ncols = min(n_innovations, 2)
    nrows = math.ceil(n_innovations / ncols)
    fig = _figure(figsize=(6 * ncols, 4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    labelled = n_territories <= MAX_LABELLED_TERRITORIES
    colours = _territory_colours(n_territories)
    for ax, name, innovation_shares in zip(axes, run.innovation_names, shares):
        for code, colour, share in zip(run.territory_codes, colours, innovation_shares):
            ax.plot(years, share, color=colour, linewidth=1, label=code if labelled else None)
        ax.set_title(name)
        _style_axes(ax)
    for ax in axes[n_innovations:]:
        fig.delaxes(ax)
    if labelled:
        fig.legend(
            handles=axes[0].get_lines(),
            title="territory",
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            fontsize="small",
            ncol=1 if n_territories <= 15 else 2,
        )
    fig.suptitle(f"{run.scenario_name}: adoption share by territory")
    _save(fig, path)
    return fig


def plot_run(run: Run, outdir) -> list[Path]:
    """Write all figures of a run as PNGs into outdir; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [outdir / TOTAL_PNG, outdir / BY_TERRITORY_PNG]
    plot_adoption_total(run, paths[0])
    plot_adoption_by_territory(run, paths[1])
    return paths


def _figure(figsize) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style_axes(ax) -> None:
    ax.set_xlabel("years")
    ax.set_ylabel("adoption share")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)


def _territory_colours(n: int) -> list:
    # Qualitative maps keep a few territories distinct; beyond 20 a continuous map
    # at least avoids the default cycle's repeats.
    if n <= 10:
        return list(colormaps["tab10"].colors[:n])
    if n <= 20:
        return list(colormaps["tab20"].colors[:n])
    return list(colormaps["viridis"](np.linspace(0, 1, n)))


def _save(fig: Figure, path) -> None:
    if path is not None:
        # The territory legend sits outside the axes; a tight box keeps it in the image.
        fig.savefig(path, dpi=120, bbox_inches="tight")
