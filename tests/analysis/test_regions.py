"""Regions and countries: parents in the run file, the country-level view (--level country),
metrics per territory, regions within a country, and the choropleth maps (the value drawn for
every region, the outermost regions in insets, the attribution on every map)."""

import subprocess

import h5py
import numpy as np
import pytest

from csei_analysis import adoption_share_by_territory, open_run
from csei_analysis.choropleth import (
    ATTRIBUTION,
    find_boundaries,
    laea,
    layout,
    norm_for,
    rasterise,
)
from csei_analysis.cli import main
from csei_analysis.io import RunFileError
from csei_analysis.levels import at_level
from csei_analysis.plots import animate_adoption, map_layout, plot_adoption_map, plot_map_years
from csei_analysis.regional import plot_within, territory_metrics, within
from runfiles import REPO, csei_binary, real_run, write_run

OUTERMOST = ("FRY1", "FRY2", "FRY3", "FRY4", "FRY5", "ES70", "PT20", "PT30")


@pytest.fixture(scope="module")
def nuts2_run(tmp_path_factory):
    """The NUTS-2 baseline at 1:5,000 of social-economy employment, two years."""
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()}")
    path = tmp_path_factory.mktemp("nuts2") / "nuts2.h5"
    return real_run(path, "--set", "organisations.scale=0.0002", "--set", "time.steps=24",
                    "--set", "cluster_generation.density=0", "--set", "clusters=[]",
                    "--set", "innovations[3].pioneer_cluster=''",
                    "--set", "innovations[0].pioneers=5", "--set", "innovations[1].pioneers=5",
                    "--set", "innovations[2].pioneers=100", "--set", "innovations[3].pioneers=5",
                    scenario=REPO / "scenarios" / "baseline_nuts2.toml")


def test_run_file_records_parents(nuts2_run):
    with h5py.File(nuts2_run) as f:
        parents = [p.decode() for p in f["territories/parent"][()]]
        codes = [c.decode() for c in f["territories/code"][()]]
        names = dict(zip((c.decode() for c in f["parents/code"][()]),
                         (n.decode() for n in f["parents/name"][()])))
    assert len(codes) == 240
    assert all(code.startswith(parent) for code, parent in zip(codes, parents))
    assert len(names) == 27 and names["EL"] == "Greece" and names["FR"] == "France"


def test_country_view_sums_the_regions(nuts2_run):
    with open_run(nuts2_run) as run:
        view = at_level(run, "country")
        assert len(view.territory_codes) == 27
        assert view.territory_names[view.territory_codes.index("DE")] == "Germany"
        parents = np.array(run.territory_parents)
        for k, code in enumerate(view.territory_codes):
            mine = parents == code
            assert view.organisations[k] == run.organisations[mine].sum()
            np.testing.assert_array_equal(view.adopters[:, :, k], run.adopters[:, :, mine].sum(axis=2))
            np.testing.assert_array_equal(view.read("series/members")[:, k],
                                          run.read("series/members")[:, mine].sum(axis=1))
        # Totals are unchanged; territories reached are counted at the country level.
        assert view.organisations.sum() == run.organisations.sum()
        assert not view.has("summary/territories_reached")
        _, shares = adoption_share_by_territory(view)
        de = view.territory_codes.index("DE")
        assert shares[0, de, -1] == pytest.approx(
            run.adopters[-1, 0, parents == "DE"].sum() / run.organisations[parents == "DE"].sum())
        # Germany's pioneers are German: its regions, and no other country, have adopters at step 0.
        assert view.adopters[0, 0, de] == 5
        assert view.adopters[0, 0].sum() == 5


def test_country_level_needs_parents(tmp_path):
    path = write_run(tmp_path / "flat.h5", codes=["AA", "BB", "CC"])
    with open_run(path) as run:
        with pytest.raises(RunFileError, match="have no parent"):
            at_level(run, "country")
    assert main(["plot", str(path), "--level", "country", "-o", str(tmp_path / "p")]) == 2


def test_metrics_per_region_and_per_country(nuts2_run):
    with open_run(nuts2_run) as run:
        table = territory_metrics(run, years=[0.5, 1.0])
        _, shares = adoption_share_by_territory(run)
        countries = territory_metrics(at_level(run, "country"), years=[1.0])
    assert len(table) == 4 * 240 and len(countries) == 4 * 27
    row = table[(table.innovation == "short_food_chain") & (table.code == "FR10")].iloc[0]
    assert row["parent"] == "FR"
    t = run.territory_codes.index("FR10")
    assert row["share_1y"] == pytest.approx(shares[2, t, 12])
    assert row["share_0.5y"] == pytest.approx(shares[2, t, 6])
    reached = np.nonzero(shares[2, t] >= 0.1)[0]
    expected = reached[0] / 12 if len(reached) else np.nan
    assert row["years_to_10"] == pytest.approx(expected, nan_ok=True)
    assert set(countries.code) == set(run.parent_names)


def test_regions_within_a_country(nuts2_run, tmp_path):
    with open_run(nuts2_run) as run:
        fr = within(run, "FR")
        assert len(fr) == 27 and all(run.territory_codes[t].startswith("FR") for t in fr)
        with pytest.raises(RunFileError, match="no territory has parent 'XX'"):
            within(run, "XX")
        fig = plot_within(run, "FR")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 28  # 27 regions and France as a whole
    assert lines[-1].get_label() == "France (all)"
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "France (all)"
    out = tmp_path / "terr"
    assert main(["territories", str(nuts2_run), "--within", "FR", "--years", "1",
                 "-o", str(out)]) == 0
    assert (out / "territories_FR.png").read_bytes().startswith(b"\x89PNG")
    csv = (out / "territories.csv").read_text().splitlines()
    assert csv[0].startswith("innovation,code,name,organisations,parent,years_to_10,years_to_50")
    assert len(csv) == 1 + 4 * 27


def test_choropleth_draws_every_region_with_its_value(nuts2_run):
    with open_run(nuts2_run) as run:
        lay = map_layout(run)
        fig = plot_adoption_map(run, step=6)
        _, shares = adoption_share_by_territory(run)
        codes = run.territory_codes
    assert lay is not None and len(lay.outlines) > 27  # country borders over the regions
    inset_codes = {codes[t] for inset in lay.insets for t, _ in inset.parts}
    assert set(OUTERMOST) <= inset_codes  # the outermost regions are in insets, not dropped
    maps = [ax for ax in fig.axes if ax.get_title() in run.innovation_names]
    assert len(maps) == 4
    for i, ax in enumerate(maps):
        main_collection = ax.collections[0]
        collections = [main_collection] + [c for a in ax.child_axes for c in a.collections]
        values = {}
        for coll in collections:
            arr = np.ma.filled(coll.get_array().astype(float), np.nan)
            for t, v in zip(coll.owners, arr):
                values.setdefault(codes[t], []).append(float(v))
        assert set(values) == set(codes)  # every region drawn
        for t, code in enumerate(codes):  # every part of a region has the region's value
            np.testing.assert_allclose(values[code], shares[i, t, 6], equal_nan=True)
    assert any(ATTRIBUTION in text.get_text() for text in fig.texts)


def test_small_multiples_share_one_scale_and_carry_the_attribution(nuts2_run):
    with open_run(nuts2_run) as run:
        fig = plot_map_years(run)  # default: 4 panels per innovation
        _, shares = adoption_share_by_territory(run)
    panels = [ax for ax in fig.axes if ax.collections and ax.get_xlim()[1] > 100]
    assert len(panels) == 16
    norms = {(p.collections[0].norm.vmin, p.collections[0].norm.vmax) for p in panels}
    assert len(norms) == 1  # one colour scale
    assert [p.get_title() for p in panels[:4]] == ["year 0.5", "year 1", "year 1.5", "year 2"]
    assert norms.pop()[1] >= np.nanmax(shares[:, :, [6, 12, 18, 24]])
    assert any(ATTRIBUTION in text.get_text() for text in fig.texts)


def test_country_runs_use_the_country_boundaries():
    path, features = find_boundaries(["DE", "FR", "EL"])
    assert path.name == "countries_eu27.geojson" and "EL" in features
    path, _ = find_boundaries(["DE30", "DE40"])
    assert path.name == "nuts2_eu27.geojson"
    assert find_boundaries(["DE", "DE30"]) == (None, None)  # mixed levels: no choropleth
    assert find_boundaries(["G00001"]) == (None, None)


def test_rasterised_frame_keeps_enclaves():
    # Berlin (DE30) lies inside Brandenburg (DE40): Brandenburg's hole must leave Berlin visible.
    _, features = find_boundaries(["DE30", "DE40"])
    lay = layout(["DE30", "DE40"], features)
    raster = rasterise(lay, width=300)
    assert (raster.labels == 0).sum() > 20  # Berlin's pixels
    centre = laea([13.40], [52.52])[0]
    x0, x1, y0, y1 = raster.extent
    col = int((centre[0] - x0) / (x1 - x0) * 299)
    row = int((y1 - centre[1]) / (x1 - x0) * 299)
    assert raster.labels[row, col] == 0


def test_animation_is_a_gif_of_the_run(nuts2_run, tmp_path):
    from PIL import Image

    with open_run(nuts2_run) as run:
        path = animate_adoption(run, tmp_path / "a.gif", frames=5)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 5


def test_norm_is_shared_and_round():
    assert norm_for([0.01, 0.03]).vmax == 0.05
    assert norm_for([0.2, 0.61]).vmax == 1.0
    assert norm_for([0.07]).vmax == 0.1
    assert norm_for([np.nan]).vmax == 1.0


def test_plot_and_report_at_country_level(nuts2_run, tmp_path):
    out = tmp_path / "plots"
    assert main(["plot", str(nuts2_run), "--level", "country", "--no-gif", "-o", str(out)]) == 0
    assert (out / "adoption_map.png").is_file() and not (out / "adoption_map.gif").exists()
    report = tmp_path / "r.html"
    assert main(["report", str(nuts2_run), "--level", "country", "-o", str(report)]) == 0
    page = report.read_text()
    assert "Figures by country" in page and "data:image/gif;base64," in page


def test_compare_by_country(nuts2_run, tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", str(nuts2_run), str(nuts2_run), "--level", "country",
                 "-o", str(out)]) == 0
    lines = (out / "compare_by_country.csv").read_text().splitlines()
    assert lines[0].startswith("innovation,code,name,")
    assert len(lines) == 1 + 4 * 27


def test_web_map_is_generated_from_the_boundaries_and_complete():
    import json

    result = subprocess.run(["/usr/bin/python3", str(REPO / "scripts" / "make_web_map.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = (REPO / "web" / "map_eu27.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("{"):text.rindex("}") + 1])
    assert data["attribution"] == ATTRIBUTION
    assert len(data["levels"]["country"]) == 27 and len(data["levels"]["region"]) == 240
    assert all(shape["d"].startswith("M") for level in data["levels"].values()
               for shape in level.values())  # every territory has a path
    assert len(text.encode()) < 150_000  # compact
    labels = " ".join(box["label"] for box in data["insets"]["region"])
    for name in ("Canarias", "Guyane", "La Réunion", "Mayotte", "Guadeloupe", "Martinique"):
        assert name in labels


def test_region_table_is_the_derivation_of_the_shipped_data():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "derive_nuts2_table", REPO / "scripts" / "derive_nuts2_table.py")
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    data = REPO / "scenarios" / "data"
    text = derive.derive(str(data / "nuts2_eu27.csv"), str(data / "eu27.csv"))
    assert text == (data / "nuts2_eu27.csv").read_text(encoding="utf-8")


def test_country_map_insets_are_named_after_their_regions(tmp_path):
    codes = ["FR", "ES", "PT", "DE"]
    path = write_run(tmp_path / "c.h5", adopters=np.zeros((2, 1, 4), dtype=np.int64),
                     organisations=[10, 10, 10, 10], codes=codes)
    with open_run(path) as run:
        lay = map_layout(run)
    labels = [", ".join(i.names) for i in lay.insets]
    assert any("Açores" in label for label in labels)
    assert any("Guyane" in label for label in labels)
    assert "France" not in labels and "Portugal" not in labels
