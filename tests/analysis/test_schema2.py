"""Tests against synthetic schema 2 files: validation of the extra datasets, stored summaries,
the figures that need them (members vs non-members, legal forms, jobs and impact, awareness),
and skipping with a note, never a crash, when some are absent."""

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from csei_analysis import RunFileError, open_run
from csei_analysis.cli import main
from csei_analysis.describe import describe
from csei_analysis.metrics import summary_table
from csei_analysis.plots import (
    FIGURES,
    plot_adoption_total,
    plot_awareness,
    plot_jobs_impact,
    plot_legal_forms,
    plot_members,
    plot_run,
)
from runfiles import FORM_ORGANISATIONS, FORMS, PNG_SIGNATURE, V2_ORGANISATIONS, v2_data
from runfiles import write_run_v2

NAMES = ["repair_cafe", "solar_coop"]
DATA = v2_data()
YEARS = np.arange(7) / 12


@pytest.fixture
def v2_file(tmp_path):
    return write_run_v2(tmp_path / "v2.h5")


def test_open_v2(v2_file):
    with open_run(v2_file) as run:
        assert run.schema_version == 2
        assert run.has("series/aware", "legal_forms/name", "summary/rogers_laggards")
        assert list(run.read("legal_forms/name")) == FORMS
        np.testing.assert_array_equal(run.adopters, DATA["series/adopters"])
        assert run.get("series/nonexistent") is None


def test_summary_prefers_stored_metrics(v2_file):
    with open_run(v2_file) as run:
        table = summary_table(run)
    np.testing.assert_array_equal(table["steps_to_10"], [2, np.nan])
    np.testing.assert_array_equal(table["peak_step"], [3, 5])
    np.testing.assert_allclose(table["final_share"], [0.25, 0.125])
    np.testing.assert_allclose(table["cluster_advantage"], [0.1, np.nan])
    np.testing.assert_allclose(table["rogers_early_adopters"], [0.2, 0.5])
    adopters = DATA["series/adopters"][-1].sum(axis=1)
    np.testing.assert_allclose(table["jobs"], 2.5 * adopters)
    np.testing.assert_allclose(table["impact"], 0.75 * adopters)
    np.testing.assert_allclose(table["transfers"], DATA["series/transfers"].sum(axis=(0, 2)))
    np.testing.assert_allclose(table["abandoned"], DATA["series/abandoned"][-1].sum(axis=1))
    np.testing.assert_allclose(
        table["aware_share"], DATA["series/aware"][-1].sum(axis=1) / V2_ORGANISATIONS.sum()
    )


def test_summary_computed_when_not_stored(tmp_path):
    names = [f"summary/{m}" for m in ("steps_to_10", "rogers_innovators", "cluster_advantage")]
    with open_run(write_run_v2(tmp_path / "v2.h5", omit=names)) as run:
        table = summary_table(run)
    total = DATA["series/adopters"].sum(axis=2)  # current adopters, 200 organisations
    expected = [np.argmax(20 * total[:, i] >= 2 * 200) if (total[:, i] >= 20).any() else np.nan
                for i in range(2)]
    np.testing.assert_array_equal(table["steps_to_10"], expected)
    assert table["rogers_innovators"].notna().all()
    assert "cluster_advantage" not in table


def test_members_figure(v2_file):
    with open_run(v2_file) as run:
        fig = plot_members(run)
    members = DATA["series/members"].sum(axis=1)
    member_adopters = DATA["series/member_adopters"].sum(axis=2)
    other_adopters = DATA["series/adopters"].sum(axis=2) - member_adopters
    assert [ax.get_title() for ax in fig.axes] == NAMES
    for i, ax in enumerate(fig.axes):
        member, other = ax.get_lines()
        assert (member.get_label(), other.get_label()) == ("cluster members", "non-members")
        np.testing.assert_allclose(member.get_xdata(), YEARS)
        np.testing.assert_allclose(member.get_ydata(), member_adopters[:, i] / members)
        np.testing.assert_allclose(other.get_ydata(), other_adopters[:, i] / (200 - members))


def test_legal_form_figure(v2_file):
    with open_run(v2_file) as run:
        fig = plot_legal_forms(run, step=3)
    (ax,) = fig.axes
    assert [c.get_label() for c in ax.containers] == NAMES
    assert [t.get_text() for t in ax.get_xticklabels()] == [f.replace("_", " ") for f in FORMS]
    for i, container in enumerate(ax.containers):
        expected = DATA["series/adopters_by_form"][3, i] / FORM_ORGANISATIONS
        np.testing.assert_allclose([bar.get_height() for bar in container], expected)
    assert "at step 3" in ax.get_title()


def test_jobs_impact_figure(v2_file):
    with open_run(v2_file) as run:
        fig = plot_jobs_impact(run)
    jobs, impact = fig.axes
    total = DATA["series/adopters"].sum(axis=2)
    for ax, factor in ((jobs, 2.5), (impact, 0.75)):
        assert [line.get_label() for line in ax.get_lines()] == NAMES
        for i, line in enumerate(ax.get_lines()):
            np.testing.assert_allclose(line.get_ydata(), factor * total[:, i])
    assert jobs.get_ylabel() == "jobs created"
    assert impact.get_ylabel().startswith("ecological impact")


def test_awareness_figure(v2_file):
    with open_run(v2_file) as run:
        fig = plot_awareness(run)
    for i, ax in enumerate(fig.axes):
        lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        assert list(lines) == ["aware", "adopters", "abandoned"]
        for name, drawn in lines.items():
            np.testing.assert_allclose(drawn, DATA[f"series/{name}"][:, i].sum(axis=1) / 200)


def test_events_are_marked_on_adoption_curves(v2_file):
    with open_run(v2_file) as run:
        fig = plot_adoption_total(run)
    (ax,) = fig.axes
    (events,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    np.testing.assert_allclose([seg[0][0] for seg in events.get_segments()], [2 / 12, 4 / 12])
    assert [line.get_label() for line in ax.get_lines()] == NAMES


def test_all_figures_for_a_full_v2_file(v2_file, tmp_path):
    with open_run(v2_file) as run:
        paths, notes = plot_run(run, tmp_path / "plots")
    assert notes == []
    assert [p.name for p in paths] == [spec.filename for spec in FIGURES] + ["adoption_map.gif"]
    for path in paths[:-1]:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert paths[-1].read_bytes().startswith(b"GIF89a")


@pytest.mark.parametrize(
    "omit, skipped",
    [
        (("series/jobs",), ["jobs_impact.png"]),
        (("series/member_adopters", "series/aware"), ["adoption_members.png", "awareness.png"]),
        (("series/adopters_by_form",), ["adoption_by_form.png"]),
    ],
)
def test_partial_v2_file_skips_figures_with_a_note(tmp_path, capsys, omit, skipped):
    path = write_run_v2(tmp_path / "v2.h5", omit=omit)
    assert main(["plot", str(path), "-o", str(tmp_path / "plots")]) == 0
    out, err = capsys.readouterr()
    notes = err.splitlines()
    assert [n.split()[1] for n in notes] == skipped
    assert all(n.startswith("note: ") and "skipped: needs /" in n for n in notes)
    assert len(out.split()) == len(FIGURES) - len(skipped) + 1  # and the animated map


def test_describe_v2(v2_file):
    with open_run(v2_file) as run:
        text = " ".join(describe(run))
    assert "Innovation repair_cafe (social innovation)" in text
    assert "solar_coop (ecological innovation)" in text and "launched at step 2" in text
    assert "1 cluster existed" in text
    assert "2 policy events applied, between steps 2 and 4" in text


BAD_V2 = {
    "wrong-shape": (
        {"replace": {"series/aware": np.zeros((7, 2, 2), dtype=np.int64)}},
        "dataset '/series/aware' has shape (7, 2, 2), expected (7, 2, 3)",
    ),
    "forms-without-names": (
        {"omit": ("legal_forms/name",)},
        "dataset '/series/adopters_by_form' needs '/legal_forms/name', which is missing",
    ),
    "summary-length": (
        {"replace": {"summary/final_share": np.zeros(3)}},
        "dataset '/summary/final_share' has shape (3,), expected (2,)",
    ),
    "events-mismatch": (
        {"replace": {"events/kind": ["subsidy"]}},
        "dataset '/events/kind' has shape (1,), expected (2,)",
    ),
    "no-adopters": ({"omit": ("series/adopters",)}, "missing dataset '/series/adopters'"),
}


@pytest.mark.parametrize("case", sorted(BAD_V2))
def test_bad_v2_file(tmp_path, capsys, case):
    kwargs, what = BAD_V2[case]
    path = write_run_v2(tmp_path / "bad.h5", **kwargs)
    with pytest.raises(RunFileError) as info:
        open_run(path)
    assert info.value.what == what
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == f"error: {path}: {what}\n"
    assert not (tmp_path / "r.html").exists()


def test_cluster_series_may_have_unused_slots(tmp_path):
    # The simulator sizes cluster series for every cluster a run could found (emergence and
    # found_cluster slots); only /clusters lists those that exist.
    path = write_run_v2(tmp_path / "slots.h5", replace={
        "series/cluster_members": np.zeros((7, 5), dtype=np.int64),
        "series/cluster_adopters": np.zeros((7, 2, 5), dtype=np.int64)})
    with open_run(path) as run:
        assert run.n_innovations == 2
    fewer = write_run_v2(tmp_path / "fewer.h5", replace={
        "series/cluster_members": np.zeros((7, 1), dtype=np.int64),
        "series/cluster_adopters": np.zeros((7, 2, 1), dtype=np.int64)})
    with pytest.raises(RunFileError, match="1 cluster columns for 2 clusters"):
        open_run(fewer)
