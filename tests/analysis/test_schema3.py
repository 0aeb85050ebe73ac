"""Schema 3 run files, made by build/csei: the series, their dimensions and units come from the
file's dimension scales and attributes, and bad scales are reported."""

import shutil

import h5py
import pytest

from csei_analysis import RunFileError, open_run
from csei_analysis.metrics import summary_table
from runfiles import csei_binary, real_run

SERIES = {
    "series/adopters": ("step", "innovation", "territory"),
    "series/new_adopters": ("step", "innovation", "territory"),
    "series/members": ("step", "territory"),
    "series/adopters_by_form": ("step", "innovation", "legal_form"),
    "series/cluster_members": ("step", "cluster"),
    "series/cluster_adopters": ("step", "innovation", "cluster"),
}


@pytest.fixture(scope="module")
def v3_file(tmp_path_factory):
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)")
    return real_run(tmp_path_factory.mktemp("v3") / "v3.h5")


def test_series_come_from_the_file(v3_file):
    with open_run(v3_file) as run:
        assert run.schema_version >= 3
        for name, dims in SERIES.items():
            assert run.series_dims(name) == dims
        names = set(run.series_names)
        assert set(SERIES) <= names
        # Coordinates and scales are not series.
        assert not names & {f"series/{n}" for n in ("step", "year", "innovation", "territory",
                                                    "territory_name", "cluster", "legal_form")}
        assert run.units("series/adopters") == "organisations"
        assert run.units("series/jobs") == "jobs"
        assert run.description("series/aware")
        assert run.units("summary/final_share") == "share"
        assert run.units("territories/code") is None
        assert len(summary_table(run)) == run.n_innovations


def test_schema1_and_2_series_dims_from_the_tables(tmp_path):
    from runfiles import write_run, write_run_v2
    with open_run(write_run(tmp_path / "v1.h5")) as run:
        assert run.series_names == ["series/adopters", "series/new_adopters"]
        assert run.units("series/adopters") is None
    with open_run(write_run_v2(tmp_path / "v2.h5")) as run:
        assert run.series_dims("series/cluster_adopters") == ("step", "innovation", "cluster")


def _edited_copy(src, dst, edit):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "a") as g:
        edit(g)
    return dst


def test_a_series_without_scales_is_reported(v3_file, tmp_path):
    def add_unlabelled(g):
        g["series"].create_dataset("unlabelled", data=[[1, 2]])
    bad = _edited_copy(v3_file, tmp_path / "bad.h5", add_unlabelled)
    with pytest.raises(RunFileError, match="'/series/unlabelled' has no dimension scale"):
        open_run(bad)


def test_a_scale_of_the_wrong_length_is_reported(v3_file, tmp_path):
    def shorten_territories(g):
        del g["territories/code"]
        g["territories"].create_dataset("code", data=["A"], dtype=h5py.string_dtype())
    bad = _edited_copy(v3_file, tmp_path / "bad.h5", shorten_territories)
    with pytest.raises(RunFileError, match="'/series/territory' has length 3, expected 1"):
        open_run(bad)
