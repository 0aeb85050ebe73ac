"""Tests of the figures beyond the adoption curves: the territory x time heatmap, the map's
fallbacks without boundaries (centroid bubbles; the EU tile grid without coordinates either),
Rogers' categories. Each checks the data drawn. The choropleth maps: test_regions.py."""

import numpy as np
import pytest

from csei_analysis import adoption_share_by_territory, open_run
from csei_analysis.maps import EU27_TILES, GRID_SHAPE, tile_grid, uses_tile_grid
from csei_analysis.metrics import ROGERS_METRICS, summary_table
from csei_analysis.plots import (
    plot_adoption_heatmap,
    plot_adoption_map,
    plot_rogers,
    resolve_step,
)
from runfiles import ADOPTERS, CODES, INNOVATIONS, ORGANISATIONS, write_run

EU_CODES = ["DE", "EL", "CY"]


@pytest.fixture
def run_file(tmp_path):
    return write_run(tmp_path / "small.h5", codes=CODES, innovations=INNOVATIONS)


@pytest.fixture
def no_boundaries(tmp_path, monkeypatch):
    """No boundary files: maps fall back to bubbles or tiles."""
    empty = tmp_path / "no_boundaries"
    empty.mkdir()
    monkeypatch.setenv("CSEI_BOUNDARIES", str(empty))


@pytest.fixture
def eu_file(tmp_path, no_boundaries):
    """EU-27 codes without coordinates (lat = lon = 0) and without boundaries: the tile grid."""
    path = write_run(tmp_path / "eu.h5", codes=EU_CODES, innovations=INNOVATIONS)
    import h5py

    with h5py.File(path, "r+") as f:
        f["territories/lat"][...] = 0.0
        f["territories/lon"][...] = 0.0
    return path


def test_tile_grid_has_the_27_member_states():
    assert len(EU27_TILES) == 27
    assert "EL" in EU27_TILES and "GR" not in EU27_TILES
    positions = list(EU27_TILES.values())
    assert len(set(positions)) == 27  # no two states on one tile
    assert all(0 <= r < GRID_SHAPE[0] and 0 <= c < GRID_SHAPE[1] for r, c in positions)
    assert uses_tile_grid(EU_CODES) and not uses_tile_grid(CODES)
    assert not uses_tile_grid(["DE", "DE"])


def test_heatmap_images_hold_territory_shares(run_file):
    with open_run(run_file) as run:
        fig = plot_adoption_heatmap(run)
        _, shares = adoption_share_by_territory(run)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == INNOVATIONS
    for ax, expected in zip(panels, shares):
        np.testing.assert_allclose(ax.get_images()[0].get_array(), expected)  # [T, S+1]
        assert ax.get_xlabel() == "years" and ax.get_ylabel() == "territory"
        assert [t.get_text() for t in ax.get_yticklabels()] == CODES


@pytest.mark.parametrize("step", [None, 2, -2])
def test_tile_map_holds_shares_at_step(eu_file, step):
    with open_run(eu_file) as run:
        fig = plot_adoption_map(run, step=step)
        index = resolve_step(run, step)
    assert index == {None: 4, 2: 2, -2: 3}[step]
    maps = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in maps] == INNOVATIONS
    for i, ax in enumerate(maps):
        grid = ax.get_images()[0].get_array()
        expected = ADOPTERS[index, i] / np.array(ORGANISATIONS)
        for code, share in zip(EU_CODES, expected):
            assert grid[EU27_TILES[code]] == pytest.approx(share)
        assert np.ma.count(grid) == len(EU_CODES)  # every other tile is empty
        assert {t.get_text() for t in ax.texts} == set(EU_CODES)
    assert f"at step {index}" in fig._suptitle.get_text()


def test_without_boundaries_the_map_falls_back_to_centroid_bubbles(run_file, no_boundaries):
    with open_run(run_file) as run:
        fig = plot_adoption_map(run)
        lat, lon = run.read("territories/lat"), run.read("territories/lon")
    ax = fig.axes[0]
    assert not ax.get_images()
    (bubbles,) = ax.collections
    np.testing.assert_allclose(bubbles.get_offsets(), np.column_stack([lon, lat]))
    np.testing.assert_allclose(bubbles.get_array(), ADOPTERS[-1, 0] / np.array(ORGANISATIONS))
    sizes = bubbles.get_sizes()
    assert sizes[1] > sizes[0] > sizes[2]  # sized by organisations 10, 20, 5
    assert ax.get_xlabel() == "longitude" and ax.get_ylabel() == "latitude"


def test_tile_grid_marks_territories_without_share():
    grid = tile_grid(["DE", "FR"], [0.5, np.nan])
    assert grid[EU27_TILES["DE"]] == 0.5
    assert np.isnan(grid[EU27_TILES["FR"]]) and np.isnan(grid).sum() == grid.size - 1


def test_rogers_bars_hold_category_shares(run_file):
    with open_run(run_file) as run:
        fig = plot_rogers(run)
        table = summary_table(run)
    (ax,) = fig.axes
    labels = [c.get_label() for c in ax.containers]
    assert labels == ["innovators", "early adopters", "early majority", "late majority", "laggards"]
    for container, metric in zip(ax.containers, ROGERS_METRICS):
        np.testing.assert_allclose([bar.get_width() for bar in container], table[metric])
    assert [t.get_text() for t in ax.get_yticklabels()] == INNOVATIONS
    assert ax.get_xlabel() == "share of adopters"


def test_eu_codes_with_coordinates_but_no_boundaries_are_bubbles_not_tiles(tmp_path,
                                                                           no_boundaries):
    path = write_run(tmp_path / "eu_points.h5", codes=EU_CODES, innovations=INNOVATIONS)
    with open_run(path) as run:
        fig = plot_adoption_map(run)
    assert not fig.axes[0].get_images()
    assert fig.axes[0].collections[0].get_offsets().shape == (3, 2)
