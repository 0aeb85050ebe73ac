#!/usr/bin/env python3
"""Write web/map_eu27.js: the EU-27 countries and NUTS-2 regions as pre-projected, simplified
SVG paths for the workshop page (no network, no front-end build step).

From scenarios/data/boundaries/{countries,nuts2}_eu27.geojson (GISCO 1:20M, see
scenarios/data/SOURCES.md): the same Lambert azimuthal equal-area projection and the same
insets for the outermost regions as the analysis maps (analysis/csei_analysis/choropleth.py),
then Douglas-Peucker simplification in pixels and integer coordinates on a 1600-pixel-wide
canvas, relative path commands. A territory keeps at least its largest ring, so none is lost.
Deterministic: the same inputs give the same bytes.

    /usr/bin/python3 scripts/make_web_map.py            # writes web/map_eu27.js
    /usr/bin/python3 scripts/make_web_map.py --check    # exits 1 if web/map_eu27.js is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "analysis"))

from csei_analysis.choropleth import ATTRIBUTION, layout, load_boundaries  # noqa: E402

WIDTH = 1600  # canvas width in map units (the SVG viewBox)
INSET_W = 300  # the column of insets on the left
TOLERANCE = 1.2  # Douglas-Peucker tolerance in map units
OUTPUT = REPO / "web" / "map_eu27.js"


def simplify(points: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker on a closed ring (first point kept; iterative)."""
    if len(points) < 4:
        return points
    keep = np.zeros(len(points), bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1:b] - points[a]
        norm = np.hypot(*seg)
        dist = (np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm if norm > 0
                else np.hypot(rel[:, 0], rel[:, 1]))
        k = int(np.argmax(dist))
        if dist[k] > tol:
            keep[a + 1 + k] = True
            stack += [(a, a + 1 + k), (a + 1 + k, b)]
    return points[keep]


def ring_path(ring: np.ndarray) -> str:
    pts = np.round(ring).astype(int)
    pts = pts[np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]]
    if len(pts) > 1 and (pts[0] == pts[-1]).all():
        pts = pts[:-1]
    if len(pts) < 3:
        return ""
    out = [f"M{pts[0][0]} {pts[0][1]}"]
    deltas = np.diff(pts, axis=0)
    out.append("l" + " ".join(f"{dx} {dy}" for dx, dy in deltas))
    return "".join(out) + "z"


def area(ring):
    x, y = ring[:, 0], ring[:, 1]
    return abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2


def build(countries_file: Path, regions_file: Path) -> str:
    levels = {}
    insets_out = {}
    outlines = ""
    height = None
    # Country insets are named after the regions in them (Acores, Madeira, ...), not the country.
    region_features = load_boundaries(str(regions_file))
    region_features_codes = list(region_features)
    region_insets = layout(region_features_codes, region_features).insets
    for level, path in (("country", countries_file), ("region", regions_file)):
        features = load_boundaries(str(path))
        codes = list(features)
        lay = layout(codes, features)
        xy = np.concatenate([e for _, e, _ in lay.main])
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if height is None:  # both levels share the canvas (the countries' frame)
            frame = (x0, y0, x1, y1)
            scale = (WIDTH - INSET_W - 10) / (x1 - x0)
            height = int(np.ceil((y1 - y0) * scale)) + 10
        fx0, fy0, _, fy1 = frame

        def to_px(points):
            return np.column_stack([INSET_W + 5 + (points[:, 0] - fx0) * scale,
                                    5 + (fy1 - points[:, 1]) * scale])

        paths = {code: [] for code in codes}
        rings_of = {code: [] for code in codes}
        for t, exterior, holes in lay.main:
            for ring in [exterior, *holes]:
                rings_of[codes[t]].append(to_px(ring))
        # Insets: a column of boxes on the left, each part fitted in its box.
        n = len(lay.insets)
        box_h = (height - 10) / max(n, 1)
        boxes = []
        for k, inset in enumerate(lay.insets):
            lon0, lat0 = inset.centre
            local = [(t, np.column_stack([(poly[0][:, 0] - lon0) * np.cos(np.radians(lat0)),
                                          poly[0][:, 1] - lat0])) for t, poly in inset.parts]
            allxy = np.concatenate([r for _, r in local])
            (lx0, ly0), (lx1, ly1) = allxy.min(axis=0), allxy.max(axis=0)
            bx, by, bw, bh = 5, 5 + k * box_h, INSET_W - 20, box_h - 8
            s = min((bw - 10) / max(lx1 - lx0, 1e-6), (bh - 22) / max(ly1 - ly0, 1e-6))
            ox = bx + (bw - (lx1 - lx0) * s) / 2
            oy = by + 4 + (bh - 22 - (ly1 - ly0) * s) / 2
            for t, r in local:
                rings_of[codes[t]].append(np.column_stack([ox + (r[:, 0] - lx0) * s,
                                                           oy + (ly1 - r[:, 1]) * s]))
            names = sorted({features[codes[t]].name for t, _ in inset.parts})
            if level == "country" and region_insets:
                near = min(region_insets, key=lambda r: np.hypot(r.centre[0] - lon0,
                                                                 r.centre[1] - lat0))
                names = sorted({region_features[region_features_codes[t]].name
                                for t, _ in near.parts})
            boxes.append({"x": bx, "y": round(by), "w": bw, "h": round(bh),
                          "label": ", ".join(names)})
        for code, rings in rings_of.items():
            largest = max(range(len(rings)), key=lambda i: area(rings[i]))
            for i, ring in enumerate(rings):
                d = ring_path(simplify(ring, TOLERANCE))
                if not d and i == largest:  # never lose a territory: keep its largest ring
                    d = ring_path(ring)
                if d:
                    paths[code].append(d)
        levels[level] = {code: {"name": features[code].name, "d": "".join(p)}
                         for code, p in paths.items()}
        insets_out[level] = boxes
        if level == "country":  # country borders for region maps: the main frame only
            outlines = "".join(ring_path(simplify(to_px(e), TOLERANCE)) for _, e, _ in lay.main)
    data = {
        "attribution": ATTRIBUTION,
        "source": "Eurostat GISCO, NUTS 2016, 1:20 million; simplified",
        "width": WIDTH,
        "height": height,
        "levels": levels,
        "insets": insets_out,
        "outlines": outlines,
    }
    return ("// Generated by scripts/make_web_map.py from scenarios/data/boundaries/ "
            "(do not edit).\n// " + ATTRIBUTION + ".\nwindow.CSEI_MAP = "
            + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ";\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    bdir = REPO / "scenarios" / "data" / "boundaries"
    text = build(bdir / "countries_eu27.geojson", bdir / "nuts2_eu27.geojson")
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run scripts/make_web_map.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT}: {len(text.encode()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
