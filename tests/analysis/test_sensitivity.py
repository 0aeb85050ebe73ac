"""Tests of csei_analysis.sensitivity: indices against functions with known answers (the
Ishigami function for Sobol', linear and product models for Morris), bootstrap intervals,
reading sweep files, and the `sensitivity` command."""

import h5py
import numpy as np
import pytest
from scipy.stats import qmc

from csei_analysis.cli import main
from csei_analysis.sensitivity import (
    SweepFileError,
    analyse,
    elementary_effects,
    format_table,
    morris_indices,
    open_sweep,
    rank_correlations,
    saltelli_blocks,
    sobol_indices,
)

# Ishigami function, a = 7, b = 0.1, on [-pi, pi]^3 (Ishigami & Homma 1990; Saltelli et al. 2008).
ISHIGAMI_S1 = [0.314, 0.442, 0.0]
ISHIGAMI_ST = [0.558, 0.442, 0.244]


def ishigami(u, a=7.0, b=0.1):
    x = -np.pi + 2 * np.pi * np.asarray(u)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def saltelli_rows(m, k):
    """The Saltelli design as `csei sweep` lays it out: per base sample j a block of k + 2
    rows A_j, A_B^(1)_j .. A_B^(k)_j, B_j; from an unscrambled Sobol' sequence."""
    u = qmc.Sobol(2 * k, scramble=False).random_base2(m)
    a, b = u[:, :k], u[:, k:]
    rows = []
    for j in range(len(u)):
        rows.append(a[j])
        for i in range(k):
            ab = a[j].copy()
            ab[i] = b[j, i]
            rows.append(ab)
        rows.append(b[j])
    return np.array(rows)


def morris_rows(r, k, p=4, seed=0):
    """A Morris design laid out as `csei sweep` writes it: r trajectories of k + 1 points."""
    rng = np.random.default_rng(seed)
    delta = p / (2 * (p - 1))
    rows = []
    for _ in range(r):
        x = rng.integers(0, p // 2, size=k) / (p - 1)
        up = rng.integers(0, 2, size=k) == 1
        x = np.where(up, x, x + delta)
        rows.append(x.copy())
        for j in rng.permutation(k):
            x[j] += delta if up[j] else -delta
            rows.append(x.copy())
    return np.array(rows)


def test_ishigami_sobol_indices():
    k = 3
    u = saltelli_rows(13, k)  # 8192 base samples
    y_a, y_b, y_ab = saltelli_blocks(ishigami(u), k)
    res = sobol_indices(y_a, y_b, y_ab, bootstrap=200, seed=1)
    assert res["S1"] == pytest.approx(ISHIGAMI_S1, abs=0.01)
    assert res["ST"] == pytest.approx(ISHIGAMI_ST, abs=0.01)
    for key in ("S1", "ST"):
        lo, hi = res[key + "_conf"]
        assert np.all(lo <= res[key] + 1e-12) and np.all(res[key] <= hi + 1e-12)
        assert np.all(hi - lo < 0.1)


def test_sobol_bootstrap_intervals_narrow_with_more_samples():
    k = 3
    widths = []
    for m in (9, 12):
        y_a, y_b, y_ab = saltelli_blocks(ishigami(saltelli_rows(m, k)), k)
        res = sobol_indices(y_a, y_b, y_ab, bootstrap=200, seed=2)
        lo, hi = res["ST_conf"]
        widths.append(np.mean(hi - lo))
    assert widths[1] < widths[0] / 2


def test_saltelli_blocks_drop_failed_runs():
    y = np.arange(20, dtype=float)  # 4 blocks of k + 2 = 5
    y[7] = np.nan
    y_a, y_b, y_ab = saltelli_blocks(y, 3)
    assert list(y_a) == [0, 10, 15]
    assert list(y_b) == [4, 14, 19]
    assert y_ab.shape == (3, 3)
    with pytest.raises(ValueError):
        saltelli_blocks(np.zeros(7), 3)


def test_morris_on_a_linear_model_gives_its_coefficients():
    coef = np.array([2.0, -3.0, 0.0, 0.5])
    r, k = 12, len(coef)
    u = morris_rows(r, k, seed=3)
    ee = elementary_effects(u, u @ coef + 1.0, r)
    assert ee.shape == (r, k)
    res = morris_indices(ee, bootstrap=100)
    assert res["mu"] == pytest.approx(coef)
    assert res["mu_star"] == pytest.approx(np.abs(coef))
    assert res["sigma"] == pytest.approx(np.zeros(k), abs=1e-9)
    lo, hi = res["mu_star_conf"]
    assert lo == pytest.approx(np.abs(coef)) and hi == pytest.approx(np.abs(coef))


def test_morris_sigma_shows_interactions():
    r, k = 30, 3
    u = morris_rows(r, k, seed=4)
    y = u[:, 0] * u[:, 1]  # interacting, the third has no effect
    res = morris_indices(elementary_effects(u, y, r), bootstrap=0)
    assert res["mu_star"][2] == 0 and res["sigma"][2] == 0
    assert res["sigma"][0] > 0.1 and res["sigma"][1] > 0.1
    # A failed run leaves out the two effects that use it, not the trajectory.
    y[1] = np.nan
    ee = elementary_effects(u, y, r)
    assert np.isnan(ee).sum() == 2
    assert np.all(np.isfinite(morris_indices(ee, bootstrap=0)["mu_star"]))


def test_rank_correlations():
    rng = np.random.default_rng(5)
    x = rng.random((200, 3))
    y = np.exp(3 * x[:, 0]) - x[:, 1]
    rho = rank_correlations(x, y)
    assert rho[0] > 0.9 and rho[1] < 0 and abs(rho[2]) < 0.2


# ---- sweep files --------------------------------------------------------------------------


def write_sweep(path, design, unit, y, replicates=1, status=None, extra_attrs=None):
    """A sweep file as `csei sweep` writes it (schema 1), with one outcome y per run."""
    unit = np.asarray(unit, dtype=float)
    n_points, k = unit.shape
    runs = n_points * replicates
    y = np.asarray(y, dtype=float).reshape(runs, -1)
    status = np.ones(runs, dtype=np.int64) if status is None else np.asarray(status)
    strings = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        attrs = {"schema_version": 1, "kind": "sweep", "name": "t", "design": design,
                 "replicates": replicates, "trajectories": n_points // (k + 1),
                 "samples": n_points, "runs": runs, "points": n_points}
        attrs.update(extra_attrs or {})
        for key, v in attrs.items():
            f.attrs[key] = v
        f["parameters/key"] = np.array([f"p{j}" for j in range(k)], dtype=strings)
        f["parameters/name"] = np.array([f"param {j}" for j in range(k)], dtype=strings)
        f["design/unit"] = unit
        f["design/value"] = 10 * unit
        f["runs/point"] = np.repeat(np.arange(n_points), replicates)
        f["runs/replicate"] = np.tile(np.arange(replicates), n_points)
        f["runs/status"] = status
        f["runs/steps"] = np.full(runs, 24)
        f["runs/error"] = np.array(["" if s != 2 else "bad" for s in status], dtype=strings)
        names = ["x.final_share", "x.steps_to_50"][: y.shape[1]]
        f["outcomes/names"] = np.array(names, dtype=strings)
        f["outcomes/values"] = np.where(status[:, None] == 1, y, np.nan)


def test_open_sweep_point_means_and_censoring(tmp_path):
    path = tmp_path / "s.h5"
    unit = np.array([[0.0], [0.5], [1.0]])
    # point 0: 0.1 and 0.3; point 1: 0.5 and a failed run; point 2: 0.8 and 0.9
    share = [0.1, 0.3, 0.5, 99.0, 0.8, 0.9]
    steps = [5, -1, 7, 7, -1, -1]
    write_sweep(path, "lhs", unit, np.c_[share, steps], replicates=2, status=[1, 1, 1, 2, 1, 1])
    sweep = open_sweep(path)
    assert sweep.points == 3 and sweep.k == 1
    assert sweep.point_means("x.final_share") == pytest.approx([0.2, 0.5, 0.85])
    # never reached (-1) counts as steps + 1 = 25
    assert sweep.point_means("x.steps_to_50") == pytest.approx([15.0, 7.0, 25.0])
    assert sweep.point_means("x.steps_to_50", censor=False) == pytest.approx([2.0, 7.0, -1.0])
    assert sweep.select(["*.final_share"]) == ["x.final_share"]
    with pytest.raises(SweepFileError, match="no outcome matches"):
        sweep.select(["nothing"])


def test_open_sweep_rejects_other_files(tmp_path):
    run = tmp_path / "run.h5"
    with h5py.File(run, "w") as f:
        f.attrs["schema_version"] = 1
    with pytest.raises(SweepFileError, match="not a csei sweep file"):
        open_sweep(run)
    with pytest.raises(SweepFileError, match="no such file"):
        open_sweep(tmp_path / "missing.h5")
    text = tmp_path / "x.h5"
    text.write_text("hello")
    with pytest.raises(SweepFileError, match="not an HDF5 file"):
        open_sweep(text)


def test_analyse_and_command_on_a_morris_sweep(tmp_path, capsys):
    coef = np.array([1.0, -2.0, 0.0])
    u = morris_rows(8, 3, seed=6)
    path = tmp_path / "m.h5"
    write_sweep(path, "morris", u, u @ coef)
    results = analyse(open_sweep(path), bootstrap=50)
    assert results[0].method == "morris"
    assert results[0].indices["mu_star"] == pytest.approx(np.abs(coef))
    table = format_table(results)
    assert "mu*" in table and "param 1" in table

    outdir = tmp_path / "figs"
    assert main(["sensitivity", str(path), "-o", str(outdir), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert "morris design" in out and "sigma" in out
    pngs = sorted(p.name for p in outdir.glob("*.png"))
    assert pngs == ["x.final_share_morris.png", "x.final_share_scatter.png"]
    for p in outdir.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_on_a_sobol_sweep(tmp_path, capsys):
    u = saltelli_rows(9, 3)
    path = tmp_path / "s.h5"
    write_sweep(path, "sobol", u, ishigami(u), extra_attrs={"samples": 512})
    assert main(["sensitivity", str(path), "--no-plots", "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    assert "S1" in out and "ST" in out and "(sobol, 2560 points)" in out
    assert main(["sensitivity", str(path), "-o", str(tmp_path / "f"), "--outcome", "x.*"]) == 0
    assert (tmp_path / "f" / "x.final_share_sobol.png").exists()
    assert main(["sensitivity", str(tmp_path / "none.h5")]) == 2
    assert "error:" in capsys.readouterr().err
