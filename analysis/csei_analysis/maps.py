"""Maps of adoption by territory without boundaries: centroid bubbles, else an EU-27 tile grid.

Runs whose territories match the shipped boundaries are drawn as choropleths (choropleth.py).
Other runs are drawn as bubbles at the territory centroids (/territories/lat, lon), sized by
organisations. Only a run of EU-27 member states (Eurostat codes, EL = Greece) without
coordinates (all 0) falls back to the tile grid: one square tile per state placed roughly
where it lies.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke

# (row, column) of each tile, north to south and west to east.
EU27_TILES = {
    "SE": (0, 3), "FI": (0, 5),
    "IE": (1, 0), "DK": (1, 3), "EE": (1, 5),
    "NL": (2, 2), "DE": (2, 3), "PL": (2, 4), "LV": (2, 5),
    "BE": (3, 1), "LU": (3, 2), "CZ": (3, 3), "SK": (3, 4), "LT": (3, 5),
    "FR": (4, 1), "AT": (4, 3), "HU": (4, 4), "RO": (4, 5),
    "PT": (5, 0), "ES": (5, 1), "IT": (5, 2), "SI": (5, 3), "HR": (5, 4), "BG": (5, 5),
    "MT": (6, 2), "EL": (6, 5), "CY": (6, 6),
}  # fmt: skip
GRID_SHAPE = (7, 7)
CMAP = "viridis"


def uses_tile_grid(codes) -> bool:
    """Whether every territory code is an EU-27 code (and none repeats)."""
    return len(set(codes)) == len(codes) and all(code in EU27_TILES for code in codes)


def tile_grid(codes, shares) -> np.ndarray:
    """The grid of shares [rows, columns]; NaN where no territory (or no share)."""
    grid = np.full(GRID_SHAPE, np.nan)
    for code, share in zip(codes, shares):
        grid[EU27_TILES[code]] = share
    return grid


def draw_map(ax, codes, shares, lat, lon, organisations):
    """Draw shares in [0, 1] on ax as bubbles at the centroids, or as tiles where the
    territories are the EU-27 without coordinates; return the mappable for a colour bar."""
    norm = Normalize(0.0, 1.0)
    ax.set_aspect("equal")
    no_points = not np.any(np.asarray(lat, float)) and not np.any(np.asarray(lon, float))
    if uses_tile_grid(codes) and no_points:
        # Empty cells are transparent; a territory without a share is a grey tile.
        image = ax.imshow(
            np.ma.masked_invalid(tile_grid(codes, shares)),
            cmap=colormaps[CMAP].with_extremes(bad=(0, 0, 0, 0)),
            norm=norm,
            interpolation="nearest",
        )
        for code, share in zip(codes, shares):
            row, col = EU27_TILES[code]
            if not np.isfinite(share):
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, color="#dddddd"))
            light = not np.isfinite(share) or share > 0.6
            ax.text(col, row, code, ha="center", va="center", fontsize=9,
                    color="black" if light else "white", weight="bold")
        ax.set_axis_off()
        return image
    sizes = np.asarray(organisations, dtype=float)
    sizes = 40 + 1200 * sizes / sizes.max() if sizes.max() > 0 else np.full(len(codes), 40.0)
    bubbles = ax.scatter(
        lon, lat, s=sizes, c=np.asarray(shares, dtype=float),
        cmap=colormaps[CMAP].with_extremes(bad="#dddddd"), norm=norm,
        edgecolors="black", linewidths=0.5, plotnonfinite=True,
    )
    if len(codes) <= 40:
        for code, x, y in zip(codes, lon, lat):
            ax.text(x, y, code, ha="center", va="center", fontsize=8, weight="bold",
                    path_effects=[withStroke(linewidth=2, foreground="white")])
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.margins(0.15)
    ax.grid(True, alpha=0.3)
    return bubbles
