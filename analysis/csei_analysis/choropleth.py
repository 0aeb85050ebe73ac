"""Choropleth maps from the shipped boundaries (EU-27 countries, NUTS-2 2016 regions).

The boundaries are GISCO's 1:20 million GeoJSON files in `scenarios/data/boundaries/` (or the
folder named by the environment variable CSEI_BOUNDARIES), matched to a run by territory code:
a run whose codes are all features of one file is drawn as filled polygons. Polygons are
projected with a spherical Lambert azimuthal equal-area projection centred at 52 N, 10 E (plain
numpy, no GIS library). Parts far from the European mainland (the outermost regions: Canarias,
Madeira, Acores, Guadeloupe, Martinique, Guyane, La Reunion, Mayotte) are drawn in insets, each
at its own scale and labelled, along the left edge of the map; nothing is dropped. Every map
carries the attribution the boundaries require (ATTRIBUTION).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.patches import PathPatch, Polygon
from matplotlib.path import Path as MplPath

ATTRIBUTION = "© EuroGeographics for the administrative boundaries"
BOUNDARY_FILES = ("countries_eu27.geojson", "nuts2_eu27.geojson")
CMAP = "viridis"
NO_VALUE = "#d9d9d9"
# Parts whose centre lies outside this lon/lat box go to an inset.
MAIN_LON = (-20.0, 45.0)
MAIN_LAT = (34.0, 72.0)
CENTRE = (10.0, 52.0)  # lon, lat of the projection centre
EARTH_KM = 6371.0
INSET_GROUP_DEG = 8.0  # outlying parts of one territory closer than this share an inset
INSET_JOIN_DEG = 3.0  # insets of different territories closer than this merge


def boundaries_dir() -> Path:
    """Where the GeoJSON boundaries are: $CSEI_BOUNDARIES, else scenarios/data/boundaries of
    the source tree, or of an installed package (<prefix>/share/csei beside
    <prefix>/lib/pythonX.Y/dist-packages/csei_analysis)."""
    env = os.environ.get("CSEI_BOUNDARIES")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    source = here.parents[2] / "scenarios" / "data" / "boundaries"
    installed = here.parents[4] / "share" / "csei" / "scenarios" / "data" / "boundaries"
    return installed if not source.is_dir() and installed.is_dir() else source


def laea(lon, lat, centre=CENTRE) -> np.ndarray:
    """Spherical Lambert azimuthal equal-area projection, in km; arrays of degrees in, [n, 2] out."""
    lam, phi = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    lam0, phi1 = np.radians(centre[0]), np.radians(centre[1])
    k = np.sqrt(2.0 / (1.0 + np.sin(phi1) * np.sin(phi)
                       + np.cos(phi1) * np.cos(phi) * np.cos(lam - lam0)))
    x = EARTH_KM * k * np.cos(phi) * np.sin(lam - lam0)
    y = EARTH_KM * k * (np.cos(phi1) * np.sin(phi) - np.sin(phi1) * np.cos(phi) * np.cos(lam - lam0))
    return np.column_stack([x, y])


@dataclass
class Feature:
    code: str
    name: str
    parts: list  # list of polygons; each a list of rings [n, 2] lon/lat (exterior first)


@lru_cache(maxsize=4)
def load_boundaries(path: str) -> dict[str, Feature]:
    """Features of a GeoJSON file by their `code` property."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    for feat in data["features"]:
        geom = feat["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        parts = [[np.asarray(ring, dtype=float) for ring in poly] for poly in polys]
        code = str(feat["properties"]["code"])
        out[code] = Feature(code, str(feat["properties"].get("name", code)), parts)
    return out


def find_boundaries(codes, directory=None):
    """(path, features) of the first shipped file that has every code, or (None, None)."""
    directory = Path(directory) if directory else boundaries_dir()
    wanted = set(codes)
    for name in BOUNDARY_FILES:
        path = directory / name
        if not path.is_file():
            continue
        features = load_boundaries(str(path))
        if wanted <= set(features):
            return path, features
    return None, None


@dataclass
class Inset:
    """Outlying parts drawn at their own scale: (territory index, rings) and a label."""

    centre: tuple
    parts: list = field(default_factory=list)  # (territory index, polygon rings lon/lat)
    names: list = field(default_factory=list)


@dataclass
class MapLayout:
    """Projected polygons of the run's territories: main frame and insets."""

    codes: list
    main: list  # (territory index, projected exterior [n, 2], holes)
    insets: list  # Inset
    outlines: list  # projected country outlines (NUTS-2 maps), each [n, 2]


def _outside(ring) -> bool:
    lon, lat = ring[:, 0].mean(), ring[:, 1].mean()
    return not (MAIN_LON[0] <= lon <= MAIN_LON[1] and MAIN_LAT[0] <= lat <= MAIN_LAT[1])


def layout(codes, features, names=None, outline_features=None) -> MapLayout:
    """Split each territory's polygons into the main frame and insets, projected.

    The outlying parts of one territory within INSET_GROUP_DEG of each other share an inset
    (an archipelago); insets of different territories closer than INSET_JOIN_DEG merge
    (Guadeloupe and Martinique)."""
    main, groups = [], []
    for t, code in enumerate(codes):
        feature = features[code]
        mine = []
        for poly in feature.parts:
            if not _outside(poly[0]):
                main.append((t, laea(poly[0][:, 0], poly[0][:, 1]),
                             [laea(h[:, 0], h[:, 1]) for h in poly[1:]]))
                continue
            centre = np.array([poly[0][:, 0].mean(), poly[0][:, 1].mean()])
            near = [g for g in mine if min(np.hypot(*(centre - c)) for c in g["centres"])
                    < INSET_GROUP_DEG]
            group = {"t": t, "centres": [centre], "parts": [poly]}
            for g in near:  # single linkage: merge every group this part is near
                group["centres"] += g["centres"]
                group["parts"] += g["parts"]
            mine = [g for g in mine if not any(g is n for n in near)] + [group]
        label = names[t] if names is not None else feature.name
        groups += [{**g, "label": label} for g in mine]
    insets = []
    for g in groups:
        centre = tuple(np.mean(g["centres"], axis=0))
        for inset in insets:
            if np.hypot(centre[0] - inset.centre[0], centre[1] - inset.centre[1]) < INSET_JOIN_DEG:
                break
        else:
            inset = Inset(centre)
            insets.append(inset)
        inset.parts += [(g["t"], poly) for poly in g["parts"]]
        if g["label"] not in inset.names:
            inset.names.append(g["label"])
    insets.sort(key=lambda i: -i.centre[1])  # north to south
    outlines = []
    for feature in (outline_features or {}).values():
        for poly in feature.parts:
            if not _outside(poly[0]):
                outlines.append(laea(poly[0][:, 0], poly[0][:, 1]))
    return MapLayout(list(codes), main, insets, outlines)


def _ring_path(exterior, holes) -> PathPatch:
    """A polygon with holes as one path (exteriors counter-clockwise, holes clockwise, as in
    RFC 7946 GeoJSON; the projection keeps orientation, so holes stay empty)."""
    rings = [exterior, *holes]
    vertices = np.concatenate([np.vstack([r, r[:1]]) for r in rings])
    codes = []
    for r in rings:
        codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 1) + [MplPath.CLOSEPOLY]
    return PathPatch(MplPath(vertices, codes))


def _polygon_patches(items):
    """Patches (with their holes) and the territory index of each."""
    patches, owners = [], []
    for t, exterior, holes in items:
        patches.append(_ring_path(exterior, holes))
        owners.append(t)
    return patches, np.asarray(owners, dtype=int)


def norm_for(values) -> Normalize:
    """A shared colour scale from 0 to a round maximum of the values (at least 0.05, at most 1)."""
    values = np.asarray(values, dtype=float)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if top <= step * 1.0000001:
            return Normalize(0.0, step)
    return Normalize(0.0, 1.0)


def draw_choropleth(ax, lay: MapLayout, values, norm: Normalize, title=None, insets=True):
    """Fill each territory with its value; return the main PatchCollection (array = values)."""
    values = np.asarray(values, dtype=float)
    cmap = colormaps[CMAP].with_extremes(bad=NO_VALUE)
    patches, owners = _polygon_patches(lay.main)
    main = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.25)
    main.set_array(np.ma.masked_invalid(values[owners]))
    main.owners = owners
    ax.add_collection(main)
    if lay.outlines:
        ax.add_collection(PatchCollection([Polygon(o, closed=True) for o in lay.outlines],
                                          facecolor="none", edgecolor="#333333", linewidth=0.5))
    xy = np.concatenate([e for _, e, _ in lay.main]) if lay.main else np.zeros((1, 2))
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    pad = 0.02 * max(x1 - x0, y1 - y0)
    left = (x1 - x0) * (0.22 if lay.insets else 0.0)  # the same frame with or without insets
    ax.set_xlim(x0 - pad - left, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_linewidth(0.5)
        side.set_color("#999999")
    if title:
        ax.set_title(title, fontsize="medium")
    collections = [main]
    if insets and lay.insets:
        collections += _draw_insets(ax, lay, values, norm, cmap)
    return main if len(collections) == 1 else _Composite(main, collections)


class _Composite:
    """The main collection, plus the inset collections to update together (animations)."""

    def __init__(self, main, collections):
        self.main = main
        self.collections = collections

    def __getattr__(self, name):
        return getattr(self.main, name)

    def set_values(self, values):
        for c in self.collections:
            c.set_array(np.ma.masked_invalid(np.asarray(values, float)[c.owners]))


def set_values(mappable, values) -> None:
    """Recolour a map drawn by draw_choropleth with new values (one per territory)."""
    if isinstance(mappable, _Composite):
        mappable.set_values(values)
    else:
        mappable.set_array(np.ma.masked_invalid(np.asarray(values, float)[mappable.owners]))


def _draw_insets(ax, lay: MapLayout, values, norm, cmap):
    n = len(lay.insets)
    height = min(0.16, 0.96 / n)
    out = []
    for k, inset in enumerate(lay.insets):
        box = ax.inset_axes([0.005, 0.995 - (k + 1) * height, 0.2, height * 0.92])
        lon0, lat0 = inset.centre
        patches, owners = [], []
        for t, poly in inset.parts:
            # Local equirectangular projection around the inset's centre.
            ring = poly[0]
            x = (ring[:, 0] - lon0) * np.cos(np.radians(lat0))
            patches.append(Polygon(np.column_stack([x, ring[:, 1] - lat0]), closed=True))
            owners.append(t)
        coll = PatchCollection(patches, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.2)
        coll.owners = np.asarray(owners, dtype=int)
        coll.set_array(np.ma.masked_invalid(values[coll.owners]))
        box.add_collection(coll)
        xy = np.concatenate([p.get_xy() for p in patches])
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        span = max(x1 - x0, (y1 - y0) * 1.6, 0.3)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        box.set_xlim(cx - span / 2 * 1.15, cx + span / 2 * 1.15)
        box.set_ylim(cy - span / 3.2 * 1.15, cy + span / 3.2 * 1.15)
        box.set_aspect("equal", adjustable="datalim")
        box.set_xticks([])
        box.set_yticks([])
        box.set_facecolor("#f4f8fb")
        for side in box.spines.values():
            side.set_linewidth(0.4)
            side.set_color("#888888")
        label = ", ".join(_short(s) for s in inset.names)
        box.text(0.02, 0.04, label, transform=box.transAxes, fontsize=6, va="bottom",
                 ha="left", color="#222222")
        out.append(coll)
    return out


def _short(name: str) -> str:
    """Inset labels: "Região Autónoma dos Açores" -> "Açores"; long names cut."""
    name = re.sub(r"^Região Autónoma d[aeo]s? ", "", name)
    return name if len(name) <= 18 else name[:17] + "."


@dataclass
class Raster:
    """The main frame rasterised once: each pixel holds its territory index (-1: none), so an
    animation frame is a colour lookup rather than a redraw of every polygon."""

    labels: np.ndarray  # [rows, columns] int
    extent: tuple  # x0, x1, y0, y1 in projected km (for imshow)


def rasterise(lay: MapLayout, width: int = 640) -> Raster:
    """Territory index per pixel of the main frame (larger polygons first, holes cleared, so
    enclaves such as Berlin in Brandenburg stay visible)."""
    from PIL import Image, ImageDraw

    xy = np.concatenate([e for _, e, _ in lay.main])
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    scale = (width - 1) / (x1 - x0)
    height = int(np.ceil((y1 - y0) * scale)) + 1
    image = Image.new("I", (width, height), -1)
    draw = ImageDraw.Draw(image)

    def pixels(ring):
        return [(float((x - x0) * scale), float((y1 - y) * scale)) for x, y in ring]

    def area(ring):
        x, y = ring[:, 0], ring[:, 1]
        return abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2

    for t, exterior, holes in sorted(lay.main, key=lambda item: -area(item[1])):
        draw.polygon(pixels(exterior), fill=int(t))
        for hole in holes:
            draw.polygon(pixels(hole), fill=-1)
    return Raster(np.asarray(image, dtype=np.int64), (x0, x1, y0, y1))


def raster_rgba(raster: Raster, values, norm: Normalize) -> np.ndarray:
    """RGBA image of the values (one per territory); no territory: transparent."""
    cmap = colormaps[CMAP].with_extremes(bad=NO_VALUE)
    colours = cmap(norm(np.ma.masked_invalid(np.asarray(values, float))))
    out = np.zeros(raster.labels.shape + (4,))
    inside = raster.labels >= 0
    out[inside] = colours[raster.labels[inside]]
    return out


def draw_borders(ax, lay: MapLayout) -> None:
    """Territory borders (white) and country outlines (dark) as line collections."""
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection([e for _, e, _ in lay.main], colors="white", linewidths=0.25))
    if lay.outlines:
        ax.add_collection(LineCollection(lay.outlines, colors="#333333", linewidths=0.5))


def name_insets_by_region(lay: MapLayout, region_features: dict) -> None:
    """Country maps: name each inset after the regions it shows (Acores, Madeira, Guyane, ...)
    rather than the country, from the nearest inset of the regions' layout."""
    regions = layout(list(region_features), region_features)
    for inset in lay.insets:
        if not regions.insets:
            return
        near = min(regions.insets, key=lambda r: np.hypot(r.centre[0] - inset.centre[0],
                                                          r.centre[1] - inset.centre[1]))
        inset.names = list(near.names)
