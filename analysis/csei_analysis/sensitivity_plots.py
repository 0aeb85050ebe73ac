"""Figures of sensitivity analyses (PNG, matplotlib's Agg backend, no pyplot).

- Morris: mu* against sigma (scatter, labelled) beside mu* bars with their bootstrap interval;
- Sobol: S1 and ST bars with their bootstrap intervals;
- grid / Latin hypercube: a tornado of Spearman rank correlations;
- every design: the outcome of each run against each parameter (scatter).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .sensitivity import STATUS_OK, Analysis, Sweep


def plot_morris(result: Analysis, path=None) -> Figure:
    idx = result.indices
    order = np.argsort(np.nan_to_num(idx["mu_star"], nan=-np.inf))
    fig = _figure((11, max(3.5, 0.45 * len(result.names) + 1.5)))
    scatter, bars = fig.subplots(1, 2)
    scatter.scatter(idx["mu_star"], idx["sigma"], color="tab:blue")
    for j, name in enumerate(result.names):
        scatter.annotate(name, (idx["mu_star"][j], idx["sigma"][j]), fontsize="small",
                         xytext=(4, 4), textcoords="offset points")
    top = np.nanmax(np.concatenate([idx["mu_star"], idx["sigma"]]), initial=0.0)
    if np.isfinite(top) and top > 0:
        scatter.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle="--",
                     label="sigma = mu*")
        scatter.legend(fontsize="small")
    scatter.set_xlabel("mu* (mean |elementary effect| per full range)")
    scatter.set_ylabel("sigma (non-linearity, interactions)")
    scatter.set_xlim(left=0)
    scatter.set_ylim(bottom=0)
    scatter.grid(True, alpha=0.3)
    lo, hi = idx["mu_star_conf"]
    y = np.arange(len(order))
    value = idx["mu_star"][order]
    err = np.vstack([value - lo[order], hi[order] - value])
    bars.barh(y, value, xerr=np.where(np.isnan(err), 0, err), color="tab:blue", capsize=3)
    bars.set_yticks(y, [result.names[j] for j in order])
    bars.set_xlabel("mu* with bootstrap interval")
    bars.grid(True, axis="x", alpha=0.3)
    fig.suptitle(f"Morris screening: {result.outcome}")
    _save(fig, path)
    return fig


def plot_sobol(result: Analysis, path=None) -> Figure:
    idx = result.indices
    order = np.argsort(np.nan_to_num(idx["ST"], nan=-np.inf))
    fig = _figure((8, max(3.0, 0.6 * len(result.names) + 1.5)))
    ax = fig.add_subplot()
    y = np.arange(len(order))
    h = 0.38
    for offset, key, colour in ((h / 2, "ST", "tab:orange"), (-h / 2, "S1", "tab:blue")):
        value = idx[key][order]
        lo, hi = (c[order] for c in idx[key + "_conf"])
        err = np.vstack([value - lo, hi - value])
        ax.barh(y + offset, np.nan_to_num(value), height=h, color=colour, label=key,
                xerr=np.where(np.isnan(err), 0, np.abs(err)), capsize=3)
    ax.set_yticks(y, [result.names[j] for j in order])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Sobol' index (bars: bootstrap interval)")
    ax.legend(loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"Sobol' indices: {result.outcome}")
    _save(fig, path)
    return fig


def plot_tornado(result: Analysis, path=None) -> Figure:
    rho = result.indices["rho"]
    order = np.argsort(np.abs(np.nan_to_num(rho)))
    fig = _figure((8, max(3.0, 0.45 * len(result.names) + 1.5)))
    ax = fig.add_subplot()
    value = np.nan_to_num(rho[order])
    ax.barh(np.arange(len(order)), value,
            color=["tab:blue" if v >= 0 else "tab:red" for v in value])
    ax.set_yticks(np.arange(len(order)), [result.names[j] for j in order])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("Spearman rank correlation with the outcome")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"Tornado: {result.outcome}")
    _save(fig, path)
    return fig


def plot_scatter(sweep: Sweep, outcome: str, path=None) -> Figure:
    """The outcome of every successful run against each parameter's value."""
    y = sweep.run_values(outcome)  # never-reached times shown at steps + 1
    ok = sweep.status == STATUS_OK
    x = sweep.value[sweep.point[ok]]
    k = sweep.k
    cols = min(k, 3)
    rows = -(-k // cols)
    fig = _figure((4 * cols, 3.2 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for j in range(k):
        ax = axes[j]
        ax.scatter(x[:, j], y[ok], s=8, alpha=0.6)
        ax.set_xlabel(sweep.names[j])
        ax.set_ylabel(outcome.rsplit(".", 1)[-1])
        ax.grid(True, alpha=0.3)
    for ax in axes[k:]:
        fig.delaxes(ax)
    fig.suptitle(f"{outcome} against each parameter ({int(ok.sum())} runs)")
    _save(fig, path)
    return fig


def plot_analyses(sweep: Sweep, results: list[Analysis], outdir) -> list[Path]:
    """Write every figure of the analyses into outdir; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    draw = {"morris": plot_morris, "sobol": plot_sobol, "spearman": plot_tornado}
    paths = []
    for r in results:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", r.outcome)
        p = outdir / f"{stem}_{r.method}.png"
        draw[r.method](r, p)
        paths.append(p)
        p = outdir / f"{stem}_scatter.png"
        plot_scatter(sweep, r.outcome, p)
        paths.append(p)
    return paths


def _figure(figsize) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path) -> None:
    if path is not None:
        fig.savefig(path, dpi=110)
