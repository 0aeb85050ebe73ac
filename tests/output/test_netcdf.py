"""Run files read as netCDF-4: xarray (h5netcdf engine) sees named dimensions and coordinates
in /series, from the dimension scales and `coordinates` attributes of schema 3, and the units
and descriptions of the declaration."""

import subprocess

import h5py
import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

SCENARIO = """name = "netcdf"
seed = 4
[time]
steps = 10
steps_per_year = 4
[territories]
list = [{ code = "AA", name = "Alpha" }, { code = "BB", name = "Beta" }, { code = "CC", name = "Gamma" }]
[organisations]
per_territory = 200
[cluster_generation]
density = 10.0
size = { kind = "fixed", value = 10.0 }
[cluster_rules]
emergence = { rate = 1.0, min_founders = 3, max_new_clusters = 5 }
[[innovations]]
name = "one"
[[innovations]]
name = "two"
"""

COORDINATES = {"step", "year", "innovation", "territory", "territory_name", "cluster",
               "legal_form"}


@pytest.fixture(scope="module")
def run_file(csei, tmp_path_factory):
    folder = tmp_path_factory.mktemp("netcdf")
    scenario = folder / "netcdf.toml"
    scenario.write_text(SCENARIO)
    out = folder / "netcdf.h5"
    subprocess.run([csei, "run", str(scenario), "-o", str(out), "--format", "json",
                    "--no-progress"], check=True, capture_output=True)
    return out


def test_series_have_named_dimensions_and_coordinates(run_file):
    with xr.open_dataset(run_file, group="series", engine="h5netcdf") as ds:
        names = set(ds.dims) | set(ds.coords) | set(ds.data_vars)
        assert not [n for n in names if n.startswith("phony_dim")]
        assert set(ds.dims) == {"step", "innovation", "territory", "cluster", "legal_form"}
        assert COORDINATES <= set(ds.coords)
        assert ds.sizes["step"] == 11
        np.testing.assert_array_equal(ds["step"].values, np.arange(11))
        np.testing.assert_allclose(ds["year"].values, np.arange(11) / 4)
        assert ds["year"].dims == ("step",)
        assert list(ds["innovation"].values) == ["one", "two"]
        assert list(ds["territory"].values) == ["AA", "BB", "CC"]
        assert ds["territory_name"].dims == ("territory",)
        assert list(ds["territory_name"].values) == ["Alpha", "Beta", "Gamma"]
        assert ds.sizes["legal_form"] == 8
        assert "cooperative" in list(ds["legal_form"].values)

        adopters = ds["adopters"]
        assert adopters.dims == ("step", "innovation", "territory")
        assert {"year", "territory_name"} <= set(adopters.coords)
        assert adopters.attrs["units"] == "organisations"
        assert adopters.attrs["description"]
        assert ds["members"].dims == ("step", "territory")
        assert ds["adopters_by_form"].dims == ("step", "innovation", "legal_form")
        assert ds["cluster_adopters"].dims == ("step", "innovation", "cluster")
        assert ds["jobs"].dtype == np.float64
        for name in ds.data_vars:
            assert ds[name].dims[0] == "step"
            assert ds[name].attrs.get("units") is not None, name
            assert ds[name].attrs.get("description"), name
        # Labels work as selections.
        assert int(adopters.sel(innovation="two", territory="BB").isel(step=-1)) >= 0


def test_cluster_axis_is_labelled_by_cluster_names(run_file):
    with xr.open_dataset(run_file, group="series", engine="h5netcdf") as ds:
        slots = [str(v) for v in ds["cluster"].values]
    with h5py.File(run_file) as f:
        names = [v.decode() for v in f["clusters/name"][...]]
    assert len(slots) >= len(names) and len(names) > 0
    assert slots[: len(names)] == names
    assert slots[len(names):] == [f"slot-{c}" for c in range(len(names), len(slots))]


def test_series_values_are_the_file_values(run_file):
    with xr.open_dataset(run_file, group="series", engine="h5netcdf") as ds, \
            h5py.File(run_file) as f:
        for name in ("adopters", "new_adopters", "cluster_members", "impact"):
            np.testing.assert_array_equal(ds[name].values, f[f"series/{name}"][...])
