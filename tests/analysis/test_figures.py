"""Tests of the figures beyond the adoption curves: the territory x time heatmap, the EU
tile map and its centroid-bubble fallback, Rogers' categories. Each checks the data drawn."""

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
def eu_file(tmp_path):
    return write_run(tmp_path / "eu.h5", codes=EU_CODES, innovations=INNOVATIONS)


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


def test_non_eu_codes_fall_back_to_centroid_bubbles(run_file):
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


def test_real_eu_run_is_drawn_on_the_tile_grid(eu_run):
    with open_run(eu_run) as run:
        assert len(run.territory_codes) == 27
        fig = plot_adoption_map(run)
        _, shares = adoption_share_by_territory(run)
        codes = run.territory_codes
    maps = [ax for ax in fig.axes if ax.get_images()]
    assert len(maps) == len(shares)  # one map per innovation
    for ax, innovation_shares in zip(maps, shares):
        drawn = ax.get_images()[0].get_array().filled(np.nan)
        np.testing.assert_allclose(drawn, tile_grid(codes, innovation_shares[:, -1]))
