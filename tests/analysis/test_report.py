"""Tests of `report`: the HTML's content and self-containment, grouping of replicates and
scenarios, lazy reading, and the page opened in headless Chromium (screenshots are kept in
$CSEI_TEST_ARTIFACTS, default build/test-artifacts)."""

import base64
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import h5py
import numpy as np
import pytest

from csei_analysis.cli import main
from csei_analysis.plots import FIGURES
from csei_analysis.report import build_report, write_report
from headless import CHROMIUM, check_page
from runfiles import PNG_SIGNATURE, REPO, write_run, write_run_v2

ARTIFACTS = Path(os.environ.get("CSEI_TEST_ARTIFACTS") or REPO / "build" / "test-artifacts")
V2_FIGURES = 10  # plot figures for a schema 2 run


class Page(HTMLParser):
    """Tags, attributes and text of a page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]

    def plain(self):
        return " ".join(" ".join(self.text).split())


def assert_self_contained(page: Page):
    """Nothing is fetched: no scripts, no external styles, images inline as PNG data (and the
    animated map as GIF data)."""
    assert not page.all("script")
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None and tag != "a":
                assert value.startswith("data:"), f"<{tag} {name}={value[:60]}>"
            if tag == "a" and value is not None:
                assert value.startswith("#"), value
    for img in page.all("img"):
        gif = img["src"].startswith("data:image/gif;base64,")
        prefix = "data:image/gif;base64," if gif else "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        signature = b"GIF89a" if gif else PNG_SIGNATURE
        assert base64.b64decode(img["src"][len(prefix) :]).startswith(signature)
        assert img["alt"]


def test_report_of_a_v2_run(tmp_path):
    text, notes = build_report([write_run_v2(tmp_path / "v2.h5")])
    page = Page(text)
    assert_self_contained(page)
    assert notes == []
    assert len(page.all("img")) == len(FIGURES) + 1  # the figures and the animated map
    plain = page.plain()
    for expected in [
        "Scenario: synthetic",
        "In plain words",
        "Innovation repair_cafe (social innovation)",
        "Provenance",
        "Summary",
        "final adoption share",
        "cluster advantage",
        "jobs created",
        "Policy events",
        "subsidy",
        "cluster alpha",
        "Scenario file",
        "name = 'synthetic'",
    ]:
        assert expected in plain, expected
    assert "Comparison" not in plain  # one scenario


def test_report_compares_replicate_groups(policy_runs):
    paths = policy_runs["base"] + policy_runs["variant"]
    text, notes = build_report(paths)
    page = Page(text)
    assert_self_contained(page)
    plain = page.plain()
    assert "Comparison with base" in plain
    assert "differs from the base in: innovations[0].q = 0.5 (base 1.5)" in plain
    assert "Summary metrics: innovations[0].q = 0.5 vs base" in plain
    assert plain.count("Summary (mean of 3 replicates)") == 2
    assert "Figures (replicate with seed 1)" in plain
    # Provenance: each replicate's file and seed.
    for path in paths:
        assert path.name in plain
    # The simulator writes schema 3 (a superset of 2): every figure is drawn for each scenario, none skipped.
    assert len(page.all("img")) == 1 + 2 * (V2_FIGURES + 1)  # comparison + each scenario, with its animated map
    assert plain.count("skipped: needs /series/") == 0 and len(notes) == 0


def test_report_of_unrelated_scenarios_does_not_compare(tmp_path):
    one = write_run(tmp_path / "one.h5", innovations=["a", "b"])
    two = write_run(tmp_path / "two.h5", innovations=["c", "d"], scenario="name = 'other'\n")
    with h5py.File(two, "a") as f:
        f.attrs["scenario_name"] = "other"
    text, notes = build_report([one, two])
    plain = Page(text).plain()
    assert "Comparison" not in plain
    assert "Scenario: synthetic" in plain and "Scenario: other" in plain
    assert notes[0] == f"scenarios not compared: {two}: cannot be compared with {one}: " \
        "innovations ['c', 'd'] vs ['a', 'b']"


def test_report_reads_only_what_it_needs(tmp_path, monkeypatch):
    path = write_run_v2(tmp_path / "big.h5")
    with h5py.File(path, "a") as f:  # per-organisation data, as a 2.8-million run could hold
        f.create_dataset("organisations/adoption_step", shape=(2_800_000, 2), dtype=np.int64)
    read = []
    original = h5py.Dataset.__getitem__

    def spy(self, key):
        read.append(self.name)
        return original(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    build_report([path])
    assert "/organisations/adoption_step" not in read
    assert len(read) == len(set(read))  # each dataset read once, then cached
    assert all(name.split("/")[1] in {"series", "territories", "innovations", "legal_forms",
                                      "clusters", "events", "summary", "inputs"} for name in read)


def test_cli_report_default_output(tmp_path, capsys):
    run = write_run(tmp_path / "run.h5")
    assert main(["report", str(run)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{tmp_path / 'run_report.html'}\n"
    assert (tmp_path / "run_report.html").read_text().startswith("<!DOCTYPE html>")
    assert err.count("note: ") == 4


def test_cli_report_bad_file(tmp_path, capsys):
    good, bad = write_run(tmp_path / "good.h5"), tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    assert main(["report", str(good), str(bad), "-o", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == f"error: {bad}: not an HDF5 file\n"
    assert not (tmp_path / "r.html").exists()


def test_wrapper_script_runs_every_subcommand(policy_runs, tmp_path):
    wrapper = REPO / "analysis" / "csei-analysis"
    base, variant = policy_runs["base"][0], policy_runs["variant"][0]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for args, made in [
        (["plot", base, "-o", tmp_path / "plots"], tmp_path / "plots" / "adoption_map.png"),
        (["compare", base, variant, "-o", tmp_path / "c"], tmp_path / "c" / "compare_adoption.png"),
        (["report", base, "-o", tmp_path / "r.html"], tmp_path / "r.html"),
    ]:
        result = subprocess.run([str(wrapper), *map(str, args)], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert made.is_file()


# -- in a browser -------------------------------------------------------------------


@pytest.fixture(params=["comparison", "schema2"])
def report_file(request, tmp_path):
    if request.param == "comparison":  # real runs: skipped when csei is not built
        runs = request.getfixturevalue("policy_runs")
        paths = runs["base"] + runs["variant"]
    else:
        paths = [write_run_v2(tmp_path / "v2.h5")]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"report_{request.param}.html"
    write_report(paths, out)
    return out


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it, so CI "
    "always runs this test)",
)
def test_report_in_headless_chromium(report_file):
    screenshot = report_file.with_suffix(".png")
    check = check_page(report_file, screenshot)
    assert check.errors == []
    assert check.title.startswith("csei report: ")
    expected_images = len(Page(report_file.read_text()).all("img"))
    assert len(check.images) == expected_images > 0
    for image in check.images:
        assert image["decoded"] and image["complete"], image["alt"]
        assert image["width"] > 100 and image["height"] > 100, image
    assert all(url.startswith(("file:", "data:")) for url in check.requests), check.requests
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    assert screenshot.stat().st_size > 10_000
