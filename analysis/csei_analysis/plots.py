"""Figures of one csei run, drawn with matplotlib's Agg backend.

Figures are built without pyplot so nothing depends on a display or on global
figure state; each plot function returns its Figure so callers (and tests) can
inspect the data behind it. `FIGURES` lists every figure with the datasets it
needs beyond schema 1; `iter_figures` skips, with a one-line note, those whose
datasets a run lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .io import ROGERS_CATEGORIES, Run, RunFileError
from .maps import draw_map, tile_grid
from .metrics import ROGERS_METRICS, summary_table
from .shares import (
    FORM_DATASETS,
    MEMBER_DATASETS,
    adoption_share_by_form,
    adoption_share_by_territory,
    adoption_share_members,
    adoption_share_total,
    series_total,
)

# Above this many territories a legend is unreadable, so lines stay unlabelled.
MAX_LABELLED_TERRITORIES = 30

TOTAL_PNG = "adoption_total.png"
BY_TERRITORY_PNG = "adoption_by_territory.png"
ANIMATION_GIF = "adoption_map.gif"


def resolve_step(run: Run, step) -> int:
    """A step index in 0..S; None is the last step, negative counts from the end."""
    if step is None:
        return run.steps
    index = step + run.steps + 1 if step < 0 else step
    if not 0 <= index <= run.steps:
        raise RunFileError(run.path, f"step {step} is out of range (0..{run.steps})")
    return index


# -- adoption -----------------------------------------------------------------


def plot_adoption_total(run: Run, path=None) -> Figure:
    """Adoption share of all organisations over time, one line per innovation."""
    years, shares = adoption_share_total(run)
    fig = _figure(figsize=(8, 5))
    ax = fig.add_subplot()
    for name, share in zip(run.innovation_names, shares):
        ax.plot(years, share, label=name)
    _style_axes(ax)
    _mark_events(run, ax)
    ax.set_title(f"{run.scenario_name}: adoption share, all territories")
    ax.legend()
    _save(fig, path)
    return fig


def plot_adoption_by_territory(run: Run, path=None) -> Figure:
    """Adoption share per territory over time: one subplot per innovation, one line per territory."""
    years, shares = adoption_share_by_territory(run)
    n_territories = shares.shape[1]
    fig, axes = _panels(run, sharey=True)
    labelled = n_territories <= MAX_LABELLED_TERRITORIES
    colours = _territory_colours(n_territories)
    for ax, name, innovation_shares in zip(axes, run.innovation_names, shares):
        for code, colour, share in zip(run.territory_codes, colours, innovation_shares):
            ax.plot(years, share, color=colour, linewidth=1, label=code if labelled else None)
        ax.set_title(name)
    for ax in axes:  # after every panel is drawn: shared limits must see all the data
        _style_axes(ax)
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


def plot_adoption_heatmap(run: Run, path=None) -> Figure:
    """Adoption share as a territory x time heatmap, one panel per innovation."""
    years, shares = adoption_share_by_territory(run)
    n_territories = shares.shape[1]
    fig, axes = _panels(run, height=max(3.0, 0.18 * n_territories + 1.5))
    for ax, name, innovation_shares in zip(axes, run.innovation_names, shares):
        image = ax.imshow(
            innovation_shares,
            aspect="auto",
            interpolation="nearest",
            cmap=colormaps["viridis"].with_extremes(bad="#dddddd"),
            vmin=0.0,
            vmax=1.0,
            extent=(years[0], years[-1], n_territories - 0.5, -0.5),
        )
        if n_territories <= 40:
            ax.set_yticks(range(n_territories), run.territory_codes, fontsize="small")
        ax.set_xlabel("years")
        ax.set_ylabel("territory")
        ax.set_title(name)
    fig.colorbar(image, ax=list(axes), label="adoption share", shrink=0.8)
    fig.suptitle(f"{run.scenario_name}: adoption share by territory and time")
    _save(fig, path)
    return fig


def map_layout(run: Run):
    """The choropleth layout of the run's territories, or None without matching boundaries."""
    from .choropleth import (
        BOUNDARY_FILES,
        find_boundaries,
        layout,
        load_boundaries,
        name_insets_by_region,
    )

    path, features = find_boundaries(run.territory_codes)
    if features is None:
        return None
    outlines = None
    if path.name == BOUNDARY_FILES[1]:  # regions: draw the country borders over them
        countries = path.parent / BOUNDARY_FILES[0]
        if countries.is_file():
            wanted = set(run.territory_parents) | {c[:2] for c in run.territory_codes}
            outlines = {k: v for k, v in load_boundaries(str(countries)).items() if k in wanted}
    lay = layout(run.territory_codes, features, list(run.territory_names), outlines)
    regions = path.parent / BOUNDARY_FILES[1]
    if path.name == BOUNDARY_FILES[0] and regions.is_file():
        name_insets_by_region(lay, load_boundaries(str(regions)))
    return lay


def _level_label(run) -> str:
    return "country" if getattr(run, "territory_level", "territory") == "country" else "territory"


def plot_adoption_map(run: Run, path=None, step=None) -> Figure:
    """Adoption share by territory at one step (default: the last), one map per innovation:
    a choropleth where the shipped boundaries match the run's territories, else bubbles at the
    centroids (or the EU-27 tile grid without coordinates)."""
    step = resolve_step(run, step)
    _, shares = adoption_share_by_territory(run)
    lay = map_layout(run)
    fig, axes = _panels(run, width=4.5 if lay is None else 5.5, height=4.5 if lay is None else 5.2,
                        columns=3 if lay is None else 2)
    if lay is not None:
        from .choropleth import draw_choropleth, norm_for

        norm = norm_for(shares[:, :, step])
        for ax, name, innovation_shares in zip(axes, run.innovation_names, shares):
            mappable = draw_choropleth(ax, lay, innovation_shares[:, step], norm, title=name)
        _attribute(fig)
    else:
        lat, lon = run.read("territories/lat"), run.read("territories/lon")
        for ax, name, innovation_shares in zip(axes, run.innovation_names, shares):
            mappable = draw_map(
                ax, run.territory_codes, innovation_shares[:, step], lat, lon, run.organisations
            )
            ax.set_title(name)
    fig.colorbar(mappable, ax=list(axes), label=f"adoption share of the {_level_label(run)}'s "
                 "organisations", shrink=0.8)
    fig.suptitle(
        f"{run.scenario_name}: adoption share at step {step} (year {step / run.steps_per_year:g})"
    )
    _save(fig, path)
    return fig


def map_years(run: Run, years=None, panels: int = 4) -> list[int]:
    """Steps of the small multiples: the given years, else `panels` years spread over the run."""
    from .regional import default_years, year_steps

    return year_steps(run, default_years(run, panels) if years is None else years)


def plot_map_years(run: Run, path=None, years=None, panels: int = 4) -> Figure:
    """Small multiples: one row per innovation, one map per chosen year, one colour scale."""
    lay = map_layout(run)
    steps = map_years(run, years, panels)
    _, shares = adoption_share_by_territory(run)
    n_rows, n_cols = run.n_innovations, len(steps)
    fig = _figure(figsize=(3.4 * n_cols + 1.2, 3.3 * n_rows + 0.6))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    if lay is not None:
        from .choropleth import draw_choropleth, norm_for

        norm = norm_for(shares[:, :, steps])
    else:
        from matplotlib.colors import Normalize

        norm = Normalize(0.0, 1.0)
    lat, lon = run.read("territories/lat"), run.read("territories/lon")
    for i, name in enumerate(run.innovation_names):
        for j, step in enumerate(steps):
            ax = axes[i, j]
            label = f"year {step / run.steps_per_year:g}"
            if lay is not None:
                mappable = draw_choropleth(ax, lay, shares[i, :, step], norm, insets=(j == 0))
            else:
                mappable = draw_map(ax, run.territory_codes, shares[i, :, step], lat, lon,
                                    run.organisations)
            ax.set_title(label if i == 0 else "", fontsize="medium")
            if j == 0:
                ax.set_ylabel(name, fontsize="medium")
    fig.colorbar(mappable, ax=list(axes.ravel()), label="adoption share", shrink=0.6)
    if lay is not None:
        _attribute(fig, extra="outermost regions in the insets of the first column")
    fig.suptitle(f"{run.scenario_name}: adoption share by {_level_label(run)}")
    _save(fig, path)
    return fig


def animate_adoption(run: Run, path, frames: int = 21, fps: int = 4) -> Path:
    """An animated GIF of adoption share by territory over the run (one panel per innovation,
    one colour scale for all frames). With matching boundaries the main frame is rasterised
    once and recoloured per frame (insets stay polygons); otherwise bubbles or tiles."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    from .choropleth import draw_borders, draw_choropleth, norm_for, raster_rgba, rasterise

    lay = map_layout(run)
    _, shares = adoption_share_by_territory(run)
    steps = np.unique(np.linspace(0, run.steps, min(frames, run.steps + 1)).round().astype(int))
    fig, axes = _panels(run, width=4.6, height=4.3, columns=2)
    updates = []
    if lay is not None:
        norm = norm_for(shares)
        raster = rasterise(lay)
        for ax, name, s in zip(axes, run.innovation_names, shares):
            # The polygons give the frame, the insets and the colour bar; the raster covers the
            # main-frame polygons and is what each frame recolours.
            mappable = draw_choropleth(ax, lay, s[:, steps[0]], norm, title=name)
            main = mappable.main if hasattr(mappable, "main") else mappable
            main.set_visible(False)
            image = ax.imshow(raster_rgba(raster, s[:, steps[0]], norm), extent=raster.extent,
                              origin="upper", interpolation="nearest", zorder=0.5)
            draw_borders(ax, lay)
            insets = getattr(mappable, "collections", [main])[1:]

            def update(step, s=s, image=image, insets=insets):
                image.set_data(raster_rgba(raster, s[:, step], norm))
                for coll in insets:
                    coll.set_array(np.ma.masked_invalid(s[coll.owners, step]))
            updates.append(update)
        _attribute(fig)
        bar = main
    else:
        lat, lon = run.read("territories/lat"), run.read("territories/lon")
        for ax, name, s in zip(axes, run.innovation_names, shares):
            bar = draw_map(ax, run.territory_codes, s[:, steps[0]], lat, lon, run.organisations)
            ax.set_title(name)
            if hasattr(bar, "set_offsets"):  # bubbles: recolour the markers
                updates.append(lambda step, m=bar, s=s: m.set_array(s[:, step]))
            else:  # tiles: redraw the grid
                updates.append(lambda step, ax=ax, s=s: ax.images[0].set_data(
                    np.ma.masked_invalid(tile_grid(run.territory_codes, s[:, step]))))
    fig.colorbar(bar, ax=list(axes), label="adoption share", shrink=0.8)
    title = fig.suptitle("")

    def frame(k):
        step = steps[k]
        for update in updates:
            update(step)
        title.set_text(f"{run.scenario_name}: adoption share, year "
                       f"{step / run.steps_per_year:.1f}")
        return []

    fig.canvas.draw()  # lay the figure out once, then keep it: every frame has the same boxes
    fig.set_layout_engine("none")
    animation = FuncAnimation(fig, frame, frames=len(steps), blit=False)
    animation.save(str(path), writer=PillowWriter(fps=fps), dpi=72)
    return Path(path)


def _attribute(fig, extra=None) -> None:
    from .choropleth import ATTRIBUTION

    text = ATTRIBUTION + (f"; {extra}" if extra else "")
    fig.text(0.01, 0.0, text, fontsize=7, color="#444444", ha="left", va="bottom")


def plot_members(run: Run, path=None) -> Figure:
    """Adoption share among cluster members and among the other organisations (schema 2 and later)."""
    years, members, others = adoption_share_members(run)
    fig, axes = _panels(run, sharey=True)
    for ax, name, member, other in zip(axes, run.innovation_names, members, others):
        ax.plot(years, member, label="cluster members")
        ax.plot(years, other, label="non-members", linestyle="--")
        ax.set_title(name)
        ax.legend(fontsize="small")
    for ax in axes:
        _style_axes(ax)
    fig.suptitle(f"{run.scenario_name}: adoption share, cluster members vs non-members")
    _save(fig, path)
    return fig


def plot_awareness(run: Run, path=None) -> Figure:
    """Aware, current adopters and cumulative abandonments as shares of organisations (schema 2 and later)."""
    n = float(run.organisations.sum())
    curves = {
        "aware": series_total(run, "series/aware") / n,
        "adopters": series_total(run, "series/adopters") / n,
        "abandoned": series_total(run, "series/abandoned") / n,
    }
    fig, axes = _panels(run, sharey=True)
    for i, (ax, name) in enumerate(zip(axes, run.innovation_names)):
        for label, values in curves.items():
            ax.plot(run.years, values[i], label=label)
        ax.set_title(name)
        ax.legend(fontsize="small")
    for ax in axes:
        _style_axes(ax, "share of organisations")
    fig.suptitle(f"{run.scenario_name}: awareness, adoption and abandonment")
    _save(fig, path)
    return fig


# -- breakdowns and outcomes ------------------------------------------------------


def plot_legal_forms(run: Run, path=None, step=None) -> Figure:
    """Adoption share within each legal form at one step, one bar group per form (schema 2 and later)."""
    step = resolve_step(run, step)
    forms, shares = adoption_share_by_form(run, step)
    fig = _figure(figsize=(max(8.0, 1.1 * len(forms)), 4.5))
    ax = fig.add_subplot()
    width = 0.8 / run.n_innovations
    x = np.arange(len(forms))
    for i, (name, share) in enumerate(zip(run.innovation_names, shares)):
        ax.bar(x + (i - (run.n_innovations - 1) / 2) * width, share, width, label=name)
    ax.set_xticks(x, [f.replace("_", " ") for f in forms], rotation=30, ha="right")
    ax.set_xlabel("legal form")
    ax.set_ylabel("adoption share")
    ax.set_ylim(0, 1)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(f"{run.scenario_name}: adoption share by legal form at step {step}")
    _save(fig, path)
    return fig


def plot_rogers(run: Run, path=None) -> Figure:
    """Shares of adopters in Rogers' categories: one stacked bar per innovation."""
    table = summary_table(run)
    fig = _figure(figsize=(8, 1.2 + 0.6 * run.n_innovations))
    ax = fig.add_subplot()
    left = np.zeros(run.n_innovations)
    colours = colormaps["RdYlBu"](np.linspace(0.1, 0.9, len(ROGERS_CATEGORIES)))
    for category, metric, colour in zip(ROGERS_CATEGORIES, ROGERS_METRICS, colours):
        share = np.nan_to_num(table[metric].to_numpy())
        ax.barh(run.innovation_names, share, left=left, color=colour,
                label=category.replace("_", " "))
        left += share
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of adopters")
    ax.legend(ncol=len(ROGERS_CATEGORIES), loc="lower center", bbox_to_anchor=(0.5, 1.0),
              fontsize="small", frameon=False)
    fig.suptitle(f"{run.scenario_name}: adopters by Rogers' category")
    _save(fig, path)
    return fig


def plot_jobs_impact(run: Run, path=None) -> Figure:
    """Jobs created and ecological impact over time, one line per innovation (schema 2 and later)."""
    fig = _figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2)
    for ax, dataset, label in (
        (axes[0], "series/jobs", "jobs created"),
        (axes[1], "series/impact", "ecological impact (t CO2e / year)"),
    ):
        for name, values in zip(run.innovation_names, series_total(run, dataset)):
            ax.plot(run.years, values, label=name)
        _style_axes(ax, label)
        ax.set_title(label)
        ax.legend(fontsize="small")
    fig.suptitle(f"{run.scenario_name}: jobs and impact, all territories")
    _save(fig, path)
    return fig


# -- the set of figures ----------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    filename: str
    caption: str
    draw: Callable  # (run, step) -> Figure
    needs: tuple = ()  # datasets beyond schema 1


FIGURES = (
    FigureSpec(TOTAL_PNG, "Adoption share of all organisations",
               lambda run, step: plot_adoption_total(run)),
    FigureSpec(BY_TERRITORY_PNG, "Adoption share by territory",
               lambda run, step: plot_adoption_by_territory(run)),
    FigureSpec("adoption_heatmap.png", "Adoption share by territory and time",
               lambda run, step: plot_adoption_heatmap(run)),
    FigureSpec("adoption_map.png", "Map of adoption share",
               lambda run, step: plot_adoption_map(run, step=step)),
    FigureSpec("adoption_map_years.png", "Maps of adoption share at four years of the run",
               lambda run, step: plot_map_years(run)),
    FigureSpec("adoption_members.png", "Cluster members vs non-members",
               lambda run, step: plot_members(run), MEMBER_DATASETS),
    FigureSpec("awareness.png", "Awareness, adoption and abandonment",
               lambda run, step: plot_awareness(run), ("series/aware", "series/abandoned")),
    FigureSpec("adoption_by_form.png", "Adoption share by legal form",
               lambda run, step: plot_legal_forms(run, step=step), FORM_DATASETS),
    FigureSpec("rogers.png", "Adopters by Rogers' category",
               lambda run, step: plot_rogers(run)),
    FigureSpec("jobs_impact.png", "Jobs and ecological impact",
               lambda run, step: plot_jobs_impact(run), ("series/jobs", "series/impact")),
)


def iter_figures(run: Run, step=None) -> Iterator[tuple[FigureSpec, Figure | None, str | None]]:
    """Yield (spec, figure, None) for each figure the run has data for, else (spec, None, note)."""
    step = resolve_step(run, step)
    for spec in FIGURES:
        missing = [f"/{name}" for name in spec.needs if not run.has(name)]
        if missing:
            yield spec, None, f"{spec.filename} skipped: needs {', '.join(missing)} (schema 2)"
        else:
            yield spec, spec.draw(run, step), None


def plot_run(run: Run, outdir, step=None, gif=True) -> tuple[list[Path], list[str]]:
    """Write every figure the run has data for into outdir, and the animated map (GIF);
    return (paths, skip notes)."""
    step = resolve_step(run, step)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths, notes = [], []
    for spec, fig, note in iter_figures(run, step):
        if fig is None:
            notes.append(note)
        else:
            _save(fig, outdir / spec.filename)
            paths.append(outdir / spec.filename)
    if gif:
        paths.append(animate_adoption(run, outdir / ANIMATION_GIF))
    return paths, notes


# -- helpers ----------------------------------------------------------------------


def _figure(figsize) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _panels(run: Run, width=6.0, height=4.0, sharey=False, columns=2):
    """A figure with one subplot per innovation, in rows of `columns`; unused cells removed."""
    n = run.n_innovations
    ncols = min(n, columns)
    nrows = math.ceil(n / ncols)
    fig = _figure(figsize=(width * ncols, height * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def _style_axes(ax, ylabel="adoption share") -> None:
    ax.set_xlabel("years")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)


def _mark_events(run: Run, ax) -> None:
    """Dotted vertical lines at the policy events of a schema 2 run."""
    steps = run.get("events/step")
    if steps is not None and len(steps):
        ax.vlines(np.unique(steps) / run.steps_per_year, 0, 1, transform=ax.get_xaxis_transform(),
                  colors="grey", linestyles=":", label="policy event")


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
        # Legends may sit outside the axes; a tight box keeps them in the image.
        fig.savefig(path, dpi=110, bbox_inches="tight")
