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
