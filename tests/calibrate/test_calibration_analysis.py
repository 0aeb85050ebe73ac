"""csei-analysis calibration: the table, the three figures, the calibrated scenario (it extends
the base with the posterior medians and csei accepts it), and refusing other files."""
import pathlib
import subprocess
import sys
import tomllib

import h5py
import pytest

DATA = pathlib.Path(__file__).resolve().parent / "data"
ANALYSIS = pathlib.Path(__file__).resolve().parents[2] / "analysis"


def analysis(*args):
    return subprocess.run([sys.executable, "-m", "csei_analysis", *map(str, args)],
                          capture_output=True, text=True, cwd=ANALYSIS, timeout=300)


@pytest.fixture(scope="module")
def small(csei, tmp_path_factory):
    d = tmp_path_factory.mktemp("cal")
    text = (DATA / "bass_recovery.toml").read_text()
    text = text.replace("particles = 200", "particles = 40").replace("generations = 8",
                                                                     "generations = 3")
    for name in ("bass_small.toml", "bass_observed.csv"):
        (d / name).write_text((DATA / name).read_text())
    (d / "cal.toml").write_text(text)
    out = d / "cal.h5"
    r = subprocess.run([csei, "calibrate", str(d / "cal.toml"), "-o", str(out), "--no-progress"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return out


def test_table_figures_and_scenario(csei, small, tmp_path):
    scen = tmp_path / "sub" / "calibrated.toml"
    r = analysis("calibration", small, "-o", tmp_path / "figs", "--scenario", scen)
    assert r.returncode == 0, r.stderr
    assert "innovations[0].q" in r.stdout and "90% interval" in r.stdout
    for name in ("fit.png", "posterior.png", "tolerance.png"):
        png = tmp_path / "figs" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    with h5py.File(small) as f:
        median = f["posterior/median"][:]
    doc = tomllib.loads(scen.read_text())
    assert doc["extends"].endswith("bass_small.toml")
    assert doc["innovations"][0]["p"] == median[0] and doc["innovations"][0]["q"] == median[1]
    assert "calibrated:" in scen.read_text()
    v = subprocess.run([csei, "validate", str(scen)], capture_output=True, text=True)
    assert v.returncode == 0, v.stderr
    # The calibrated scenario runs and takes the medians.
    run = subprocess.run([csei, "run", str(scen), "-o", str(tmp_path / "run.h5"), "--format",
                          "json", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with h5py.File(tmp_path / "run.h5") as f:
        resolved = tomllib.loads(f.attrs["scenario"] if isinstance(f.attrs["scenario"], str)
                                 else f.attrs["scenario"].decode())
    assert resolved["innovations"][0]["q"] == median[1]


def test_refuses_a_run_file(csei, tmp_path):
    run = subprocess.run([csei, "run", str(DATA / "bass_small.toml"), "-o",
                          str(tmp_path / "run.h5"), "--no-progress"], capture_output=True)
    assert run.returncode == 0
    r = analysis("calibration", tmp_path / "run.h5", "--no-plots")
    assert r.returncode == 2 and "not a calibration file" in r.stderr


def test_posterior_draws_as_replicates(csei, small, tmp_path):
    """--draws K writes K scenarios, each a particle of the last generation (drawn by weight,
    with a fixed seed: the same files twice), with its own replicate seed; each runs and takes
    its draw's values, and the --set form in its header gives the same values."""
    import numpy as np

    from csei_analysis.calibration import open_calibration, posterior_draws

    scen = tmp_path / "calibrated.toml"
    r = analysis("calibration", small, "--no-plots", "--scenario", scen, "--draws", "5")
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_path / "calibrated_draws").glob("draw_*.toml"))
    assert [f.name for f in files] == [f"draw_{k:02d}.toml" for k in range(1, 6)]
    cal = open_calibration(small)
    idx, vals = posterior_draws(cal, 5, int(cal.attrs["seed"]))
    last = cal.particles[-1]
    seeds = set()
    for f, v in zip(files, vals):
        doc = tomllib.loads(f.read_text())
        got = [doc["innovations"][0]["p"], doc["innovations"][0]["q"]]
        assert got == [float(x) for x in v]
        # each draw is one particle of the posterior population
        assert any(np.array_equal(np.asarray(got), row) for row in last)
        seeds.add(doc["seed"])
        assert f"--set innovations[0].p={float(v[0])!r}" in f.read_text()
    assert len(seeds) == 5
    # deterministic: the same command writes the same files
    first = [f.read_text() for f in files]
    r = analysis("calibration", small, "--no-plots", "--scenario", scen, "--draws", "5")
    assert r.returncode == 0 and [f.read_text() for f in files] == first
    # a different draws seed gives other draws (40 particles: five equal indices are unlikely)
    idx2, _ = posterior_draws(cal, 5, 12345)
    assert not np.array_equal(idx, idx2)
    run = subprocess.run([csei, "run", str(files[0]), "-o", str(tmp_path / "d1.h5"), "--format",
                          "json", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with h5py.File(tmp_path / "d1.h5") as f:
        assert int(f.attrs["seed"]) == tomllib.loads(first[0])["seed"]
    # --draws needs --scenario
    r = analysis("calibration", small, "--no-plots", "--draws", "3")
    assert r.returncode == 2 and "--scenario" in r.stderr


def test_report_lists_provenance_and_the_calibration(csei, small, tmp_path, monkeypatch):
    """A run of the calibrated scenario: report lists its calibrated values (tagged by the
    writer) and the base's, and has a calibration section, given with --calibration or found
    from the tags (output/<calibration name>.h5 of the tagged calibration file)."""
    from csei_analysis.report import build_report

    monkeypatch.chdir(tmp_path)
    (tmp_path / "output").mkdir()
    base = small.parent / "bass_small.toml"  # tag the base (a comment: nothing else changes)
    base.write_text(base.read_text().replace('name = "bass"', 'name = "bass"  # [literature: '
                                             'Bass 1969]'))
    (tmp_path / "cal.toml").write_text((small.parent / "cal.toml").read_text())
    with h5py.File(small) as f:
        cal_name = f.attrs["name"] if isinstance(f.attrs["name"], str) else f.attrs["name"].decode()
    (tmp_path / "output" / f"{cal_name}.h5").write_bytes(small.read_bytes())
    scen = tmp_path / "calibrated.toml"
    r = analysis("calibration", small, "--no-plots", "--scenario", scen)
    assert r.returncode == 0, r.stderr
    text = scen.read_text()
    # the writer rewrote calibration_file's path: tag it as this folder's calibration file
    calfile = [ln for ln in text.splitlines() if "[calibrated: " in ln][0].split(
        "[calibrated: ")[1].split("]")[0]
    scen.write_text(text.replace(calfile, "cal.toml"))
    run = subprocess.run([csei, "run", str(scen), "-o", str(tmp_path / "run.h5"), "--format",
                          "json", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    page, notes = build_report([tmp_path / "run.h5"])
    assert "Where the values come from" in page
    assert "2 calibrated" in page and "cal.toml" in page
    assert "Bass 1969" in page  # the base's literature tag, copied into the calibrated file
    assert f"Calibration: {cal_name}" in page and "innovations[0].q" in page
    assert "Some values were calibrated" in page
    # without the result file: no section, and a note says why
    (tmp_path / "output" / f"{cal_name}.h5").unlink()
    page, notes = build_report([tmp_path / "run.h5"])
    assert "Calibration: " not in page and any("result file was not found" in n for n in notes)
    page, _ = build_report([tmp_path / "run.h5"], calibrations=[small])
    assert f"Calibration: {cal_name}" in page
