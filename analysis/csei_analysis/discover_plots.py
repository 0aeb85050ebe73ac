"""Figures of a scenario discovery (PNG, matplotlib's Agg backend, no pyplot).

- the peeling trajectory: coverage against density, one dot per box, coloured by its number of
  restricted dimensions, the chosen box ringed;
- the chosen box's limits against each parameter's range (ranges scaled to [0, 1]);
- the points in the two parameters the box restricts most (first restricted first), cases and
  other points, with the box drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .discover import CATEGORICAL, Discovery, limits


def plot_discovery(d: Discovery, outdir) -> list[Path]:
    """Write the figures into outdir; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = d.outcome.replace("/", "_")
    paths = [outdir / f"{stem}_trajectory.png", outdir / f"{stem}_box.png"]
    _save(plot_trajectory(d), paths[0])
    _save(plot_box(d), paths[1])
    fig = plot_points(d)
    if fig is not None:
        paths.append(outdir / f"{stem}_points.png")
        _save(fig, paths[-1])
    return paths


def plot_trajectory(d: Discovery) -> Figure:
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    cov = np.array([b.coverage for b in d.trajectory])
    den = np.array([b.density for b in d.trajectory])
    dims = np.array([len(b.restricted) for b in d.trajectory])
    top = max(int(dims.max()), 1)
    colours = ListedColormap([_dim_colour(i, top) for i in range(top + 1)])
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), top + 1)
    ax.plot(cov, den, color="lightgrey", linewidth=1, zorder=1)
    dots = ax.scatter(cov, den, c=dims, cmap=colours, norm=norm, s=28, zorder=2,
                      edgecolors="white", linewidths=0.5)
    bar = fig.colorbar(dots, ax=ax, ticks=range(top + 1))
    bar.set_label("restricted dimensions")
    chosen = d.trajectory[d.chosen]
    ax.scatter([chosen.coverage], [chosen.density], s=180, facecolors="none",
               edgecolors="black", linewidths=1.5, zorder=3)
    ax.annotate(f"box {chosen.index}\ncoverage {chosen.coverage:.2f}, density "
                f"{chosen.density:.2f}", (chosen.coverage, chosen.density),
                xytext=(-150 if chosen.coverage > 0.6 else 14, -34), textcoords="offset points",
                fontsize="small", arrowprops={"arrowstyle": "-", "color": "grey"})
    pasted = [b for b in d.trajectory if b.phase == "paste"]
    if pasted:
        ax.scatter([b.coverage for b in pasted], [b.density for b in pasted], marker="x",
                   color="black", s=30, zorder=3, label="pasted")
        ax.legend(fontsize="small", loc="lower left")
    ax.set_xlabel("coverage (share of all cases inside the box)")
    ax.set_ylabel("density (share of the box's points that are cases)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(max(0.0, min(den.min(), 1.0) - 0.05), 1.02)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"PRIM peeling trajectory of {d.sweep_name}\ncases: {d.where}\n"
                 f"{d.cases} of {d.points_used} points", fontsize="medium")
    return fig


def plot_box(d: Discovery) -> Figure:
    chosen = d.trajectory[d.chosen]
    rows = limits(d, chosen)
    order = sorted(range(len(rows)), key=lambda j: (not rows[j]["restricted"], j))
    fig = Figure(figsize=(9, max(2.5, 0.55 * len(rows) + 1.4)), layout="constrained")
    ax = fig.add_subplot()
    for y, j in enumerate(reversed(order)):
        row = rows[j]
        colour = "tab:blue" if row["restricted"] else "lightsteelblue"
        ax.barh(y, 1.0, left=0, height=0.6, color="whitesmoke", edgecolor="lightgrey")
        if row["kind"] == CATEGORICAL:
            m = len(row["levels"])
            for i, level in enumerate(row["levels"]):
                inside = level in row["box_levels"]
                ax.barh(y, 1 / m, left=i / m, height=0.6, edgecolor="white",
                        color=colour if inside else "whitesmoke")
                ax.text((i + 0.5) / m, y, level, ha="center", va="center", fontsize="x-small")
            text = ""
        else:
            low, high = row["range"]
            span = (high - low) or 1.0
            a, b = (row["box"][0] - low) / span, (row["box"][1] - low) / span
            ax.barh(y, b - a, left=a, height=0.6, color=colour)
            text = (f"[{_fmt(row['box'][0])}, {_fmt(row['box'][1])}]" if row["restricted"]
                    else "not restricted")
        qp = d.quasi_p.get(j)
        if qp:
            text += "  qp " + ", ".join(_p(v) for v in qp if v is not None)
        ax.text(1.02, y, text, va="center", fontsize="small")
    labels = []
    for j in reversed(order):
        row = rows[j]
        rng = "" if row["kind"] == CATEGORICAL else \
            f"\n[{_fmt(row['range'][0])}, {_fmt(row['range'][1])}]"
        labels.append(row["name"] + rng)
    ax.set_yticks(range(len(order)), labels, fontsize="small")
    ax.set_xlim(0, 1.45)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["low", "", "", "", "high"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Box {chosen.index} for {d.where}\ncoverage {chosen.coverage:.2f}, density "
                 f"{chosen.density:.2f}, mass {chosen.mass:.2f} (dark: restricted; bar = the "
                 "box within the parameter's range;\nqp = quasi-p-values of its limits)",
                 fontsize="medium")
    return fig


def plot_points(d: Discovery) -> Figure | None:
    """The points in the box's first two restricted numeric dimensions (or the first and
    another), None when the sweep has fewer than two numeric parameters."""
    chosen = d.trajectory[d.chosen]
    numeric = [j for j, p in enumerate(d.parameters) if p.kind != CATEGORICAL]
    dims = [j for j in chosen.restricted if j in numeric][:2]
    dims += [j for j in numeric if j not in dims][: 2 - len(dims)]
    if len(dims) < 2:
        return None
    x, cases = d.x, d.y
    inside = chosen.inside
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.add_subplot()
    a, b = dims
    ax.scatter(x[~cases, a], x[~cases, b], s=10, color="lightgrey", label="outcome does not hold")
    ax.scatter(x[cases, a], x[cases, b], s=12, color="tab:orange", label="outcome holds")
    rows = limits(d, chosen)
    (xa, xb), (ya, yb) = rows[a]["box"], rows[b]["box"]
    ax.add_patch(Rectangle((xa, ya), xb - xa, yb - ya, fill=False, edgecolor="black",
                           linewidth=1.5, label=f"box {chosen.index} (other limits apply too)"))
    ax.set_xlabel(d.parameters[a].name)
    ax.set_ylabel(d.parameters[b].name)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0, -0.12), ncols=2)
    ax.set_title(f"{d.where}\nbox {chosen.index}: {int(inside.sum())} points, "
                 f"{int((cases & inside).sum())} of them cases", fontsize="medium")
    ax.grid(True, alpha=0.3)
    return fig


def _dim_colour(i: int, top: int):
    from matplotlib import colormaps

    return colormaps["viridis"](i / max(top, 1))


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _p(v) -> str:
    return f"{v:.2g}" if v >= 1e-4 else "<1e-4"


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
