"""Tests of csei_analysis.discover (PRIM scenario discovery): a synthetic function with a known
box, categorical and integer parameters, quasi-p-values against the binomial test done by hand,
pasting, the edge cases of the command line, paired sweeps, and the command on a real sweep
made by `csei sweep`."""

import json
import subprocess

import h5py
import numpy as np
import pytest
from scipy.stats import binomtest, qmc

from csei_analysis.cli import main
from csei_analysis.discover import (
    CATEGORICAL,
    INTEGER,
    Prim,
    discover,
    format_text,
    get_quantile,
    parse_where,
)

PNG = b"\x89PNG\r\n\x1a\n"
# The known box: the outcome holds iff x1 in [0.2, 0.5] and x2 > 0.7 (x3..x5 are noise).
BOX = {"x1": (0.2, 0.5), "x2": (0.7, 1.0)}
TOLERANCE = 0.03  # recovered limits within this of the true ones (the points are 1/4000 apart)


def lhs(n, k, seed=1):
    return qmc.LatinHypercube(d=k, seed=seed).random(n)


def box_outcome(u):
    return (u[:, 0] >= 0.2) & (u[:, 0] <= 0.5) & (u[:, 1] > 0.7)


def write_sweep(path, unit, y, values=None, names=None, types=None, levels=None, replicates=1,
                status=None, outcome="x.final_share", seeds=None, low=None, high=None):
    """A sweep file as `csei sweep` writes it (schema 1) with one outcome y per run."""
    unit = np.asarray(unit, dtype=float)
    n, k = unit.shape
    runs = n * replicates
    values = unit if values is None else np.asarray(values, dtype=float)
    names = names or [f"x{j + 1}" for j in range(k)]
    types = types or ["real"] * k
    levels = levels or [""] * k
    status = np.ones(runs, dtype=np.int64) if status is None else np.asarray(status)
    s = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        for key, v in {"schema_version": 1, "kind": "sweep", "name": "synthetic",
                       "design": "lhs", "replicates": replicates, "points": n,
                       "runs": runs}.items():
            f.attrs[key] = v
        f["parameters/key"] = np.array([f"k.{m}" for m in names], dtype=s)
        f["parameters/name"] = np.array(names, dtype=s)
        f["parameters/type"] = np.array(types, dtype=s)
        f["parameters/low"] = values.min(axis=0) if low is None else np.asarray(low, float)
        f["parameters/high"] = values.max(axis=0) if high is None else np.asarray(high, float)
        f["parameters/levels"] = np.array(levels, dtype=s)
        f["design/unit"] = unit
        f["design/value"] = values
        f["runs/point"] = np.repeat(np.arange(n), replicates)
        f["runs/replicate"] = np.tile(np.arange(replicates), n)
        f["runs/seed"] = np.arange(runs) if seeds is None else np.asarray(seeds)
        f["runs/status"] = status
        f["runs/steps"] = np.full(runs, 24)
        f["runs/error"] = np.array(["" if v != 2 else "bad" for v in status], dtype=s)
        f["outcomes/names"] = np.array([outcome], dtype=s)
        f["outcomes/values"] = np.where(status[:, None] == 1,
                                        np.asarray(y, float).reshape(runs, 1), np.nan)


@pytest.fixture
def box_sweep(tmp_path):
    u = lhs(4000, 5)
    path = tmp_path / "box.h5"
    write_sweep(path, u, box_outcome(u).astype(float))
    return path


# ---- the algorithm ------------------------------------------------------------------------


def test_quantile_as_the_workbench_takes_it():
    data = np.arange(21.0)  # position 20 * 0.05 = 1: between the values 1 and 2
    assert get_quantile(data, 0.05) == 1.5
    assert get_quantile(data, 0.95) == 18.5
    # ties are stepped over, so a peel removes whole groups of equal values
    assert get_quantile(np.array([0, 0, 0, 0, 1, 2.0]), 0.05) == 0.5
    assert get_quantile(np.full(5, 3.0), 0.05) == 3.0


def test_prim_recovers_a_known_box():
    u = lhs(4000, 5)
    y = box_outcome(u)
    prim = Prim(u, y)
    trajectory = prim.peel()
    assert trajectory[0].coverage == 1 and trajectory[0].restricted == []
    assert trajectory[0].density == pytest.approx(y.mean())
    coverage = [b.coverage for b in trajectory]
    density = [b.density for b in trajectory]
    assert all(a >= b for a, b in zip(coverage, coverage[1:]))  # peeling never adds cases
    assert all(b > a for a, b in zip(density, density[1:]))  # lenient1 peels only upwards
    last = trajectory[-1]
    assert last.restricted == [0, 1]  # the noise parameters stay free
    assert last.density >= 0.95 and last.coverage >= 0.9
    assert last.box.lower[0] == pytest.approx(0.2, abs=TOLERANCE)
    assert last.box.upper[0] == pytest.approx(0.5, abs=TOLERANCE)
    assert last.box.lower[1] == pytest.approx(0.7, abs=TOLERANCE)
    assert last.box.upper[1] == u[:, 1].max()  # x2's upper side is never peeled


def test_prim_with_noise_keeps_the_box_within_tolerance():
    u = lhs(4000, 5, seed=2)
    rng = np.random.default_rng(3)
    flip = rng.random(len(u)) < 0.05
    y = box_outcome(u) ^ flip
    # 5 % of all points flipped: about 180 false cases everywhere beside about 340 true ones,
    # so the true box covers about 0.65 of the cases at a density of about 0.95
    d_box = Prim(u, y).peel()
    best = max((b for b in d_box if b.coverage >= 0.55), key=lambda b: b.density)
    assert set(best.restricted) >= {0, 1}
    assert best.density >= 0.85 and best.coverage >= 0.55
    assert best.box.lower[0] == pytest.approx(0.2, abs=0.05)
    assert best.box.upper[0] == pytest.approx(0.5, abs=0.05)
    assert best.box.lower[1] == pytest.approx(0.7, abs=0.05)


def test_categorical_and_integer_parameters():
    rng = np.random.default_rng(4)
    n = 3000
    x = np.c_[rng.random(n), rng.integers(0, 3, n), rng.integers(0, 11, n)]
    y = (x[:, 0] > 0.5) & (x[:, 1] == 1) & (x[:, 2] >= 4)
    prim = Prim(x, y, kinds=["real", CATEGORICAL, INTEGER])
    last = prim.peel()[-1]
    assert last.restricted == [0, 1, 2]
    assert last.box.levels[1] == frozenset({1.0})
    assert last.box.lower[0] == pytest.approx(0.5, abs=0.03)
    assert 3 < last.box.lower[2] <= 4  # between the integers 3 and 4
    assert last.density == 1.0


def test_quasi_p_values_are_the_binomial_test_of_each_restriction():
    u = lhs(400, 3, seed=5)
    y = box_outcome(u)
    prim = Prim(u, y)
    trajectory = prim.peel()
    entry = trajectory[len(trajectory) // 2]
    qp = prim.quasi_p(entry)
    assert set(qp) == set(entry.restricted)
    hits, points = int(y[entry.inside].sum()), entry.points
    for j, (low_p, high_p) in qp.items():
        for side, value in ((0, low_p), (1, high_p)):
            limit = (entry.box.lower if side == 0 else entry.box.upper)[j]
            initial = (prim.initial.lower if side == 0 else prim.initial.upper)[j]
            if limit == initial:
                assert value is None
                continue
            wider = entry.box.copy()
            (wider.lower if side == 0 else wider.upper)[j] = initial
            p = y[wider.contains(u)].mean()
            assert value == pytest.approx(binomtest(hits, points, p, alternative="greater").pvalue)


def test_pasting_widens_a_box_where_that_raises_its_density():
    u = lhs(3000, 2, seed=6)
    y = (u[:, 0] >= 0.5) & (u[:, 0] <= 0.8)
    prim = Prim(u, y)
    trajectory = prim.peel()
    # a box x1 in [0.6, 0.95]: below it lie more cases, above it none
    start = trajectory[0]
    start.box = start.box.copy()
    start.box.lower[0], start.box.upper[0] = 0.6, 0.95
    start.inside = start.box.contains(u)
    start.points = int(start.inside.sum())
    added = prim.paste(start, len(trajectory))
    assert added and all(b.phase == "paste" for b in added)
    assert [b.index for b in added] == list(range(len(trajectory), len(trajectory) + len(added)))
    density = [y[start.inside].mean()] + [b.density for b in added]
    assert all(b > a for a, b in zip(density, density[1:]))
    final = added[-1].box
    assert 0.5 - 0.02 <= final.lower[0] < 0.6 and final.upper[0] == 0.95
    assert final.lower[1] == u[:, 1].min()


def test_parse_where():
    assert parse_where(">= 0.5") == (">=", 0.5)
    assert parse_where("<60") == ("<", 60.0)
    assert parse_where(" != -1e-3 ") == ("!=", -0.001)
    for bad in ("0.5", ">= x", "=> 0.5", ">= 0.5 and < 1", "", ">= inf"):
        with pytest.raises(ValueError, match="--where"):
            parse_where(bad)


# ---- sweep files and the command ------------------------------------------------------------


def test_discover_on_a_sweep_file(box_sweep):
    d = discover(box_sweep, "x.final_share", ">= 0.5")
    chosen = d.trajectory[d.chosen]
    assert d.cases == int(d.y.sum()) and d.points_used == 4000
    assert chosen.coverage >= 0.8 and chosen.density >= 0.95
    # the default: the densest box with coverage >= 0.8
    eligible = [b for b in d.trajectory if b.coverage >= 0.8]
    assert chosen.density == max(b.density for b in eligible)
    text = format_text(d)
    assert "peeling trajectory" in text and "x1" in text and "not restricted" in text


def test_command_prints_json_and_writes_plots(box_sweep, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["discover", str(box_sweep), "--outcome", "x.final_share", "--where", "> 0.5",
                 "--json", "--plot", str(plots)]) == 0
    doc = json.loads(capsys.readouterr().out)
    chosen = doc["chosen"]
    params = {p["name"]: p for p in chosen["parameters"]}
    for name, (low, high) in BOX.items():
        assert params[name]["restricted"]
        assert params[name]["box"][0] == pytest.approx(low, abs=TOLERANCE)
        assert params[name]["box"][1] == pytest.approx(high, abs=TOLERANCE)
        assert params[name]["quasi_p"]["lower"] < 1e-6
    assert params["x2"]["quasi_p"]["upper"] is None  # that side is not restricted
    for name in ("x3", "x4", "x5"):
        assert not params[name]["restricted"] and params[name]["quasi_p"] is None
        assert params[name]["box"] == params[name]["range"]
    assert chosen["coverage"] >= 0.8 and chosen["density"] >= 0.95
    assert chosen["restricted_parameters"] == ["x1", "x2"]
    assert doc["trajectory"][0]["coverage"] == 1 and doc["trajectory"][0]["restricted"] == 0
    assert doc["cases"] == int(box_outcome(lhs(4000, 5)).sum())
    assert len(doc["plots"]) == 3
    for path in doc["plots"]:
        with open(path, "rb") as f:
            assert f.read(8) == PNG

    assert main(["discover", str(box_sweep), "--outcome", "x.final_share", "--where", "> 0.5",
                 "--box", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["chosen"]["box"] == 3 and "--box" in doc["chosen"]["choice"]


def test_no_point_satisfies_is_a_clear_error(box_sweep, capsys):
    assert main(["discover", str(box_sweep), "--outcome", "x.final_share", "--where",
                 "> 1"]) == 2
    err = capsys.readouterr().err
    assert "no design point has x.final_share > 1" in err and str(box_sweep) in err


def test_every_point_satisfies(box_sweep, capsys):
    assert main(["discover", str(box_sweep), "--outcome", "x.final_share", "--where",
                 ">= 0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["trajectory"]) == 1
    assert doc["chosen"]["density"] == 1 and doc["chosen"]["restricted"] == 0
    assert any("every design point" in n for n in doc["notes"])


def test_a_constant_parameter_is_never_restricted(tmp_path, capsys):
    u = lhs(2000, 3, seed=7)
    values = u.copy()
    values[:, 2] = 5.0  # one value everywhere
    path = tmp_path / "c.h5"
    write_sweep(path, u, box_outcome(u).astype(float), values=values, low=[0, 0, 0],
                high=[1, 1, 10])
    assert main(["discover", str(path), "--outcome", "x.final_share", "--where", ">= 0.5",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    x3 = doc["chosen"]["parameters"][2]
    assert not x3["restricted"] and x3["box"] == [0, 10]
    assert any("'x3' has one value" in n for n in doc["notes"])
    assert doc["chosen"]["restricted_parameters"] == ["x1", "x2"]


@pytest.mark.parametrize("args, message", [
    (["--where", ">= zero"], "--where '>= zero': expected an operator and a number"),
    (["--where", "0.5"], "--where '0.5'"),
    (["--where", ">= 0.5", "--box", "999"], "--box 999: the peeling trajectory has boxes 0 to"),
    (["--where", ">= 0.5", "--alpha", "0.7"], "--alpha 0.7: out of range"),
])
def test_bad_arguments_are_one_line_errors(box_sweep, capsys, args, message):
    assert main(["discover", str(box_sweep), "--outcome", "x.final_share", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_unknown_outcome_and_files(box_sweep, tmp_path, capsys):
    assert main(["discover", str(box_sweep), "--outcome", "x.nothing", "--where", ">= 0"]) == 2
    assert "no outcome 'x.nothing'; the file has x.final_share" in capsys.readouterr().err
    assert main(["discover", str(tmp_path / "none.h5"), "--outcome", "a", "--where",
                 ">= 0"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_replicates_failed_points_and_categorical_levels(tmp_path, capsys):
    """Two replicates a point (the outcome is their mean), one point with every run failed,
    and a parameter with string levels shown by name."""
    rng = np.random.default_rng(8)
    n = 1200
    u = rng.random((n, 2))
    values = np.c_[u[:, 0], np.floor(u[:, 1] * 3)]
    y_point = (values[:, 0] > 0.6) & (values[:, 1] == 2)
    y = np.repeat(y_point.astype(float), 2)
    status = np.ones(2 * n, dtype=np.int64)
    status[[0, 1]] = 2  # point 0: both replicates failed
    path = tmp_path / "cat.h5"
    write_sweep(path, u, y, values=values, names=["share", "network"],
                types=["real", "level"], levels=["", '["partners", "erdos_renyi", "ring"]'],
                replicates=2, status=status, low=[0, 0], high=[1, 2])
    assert main(["discover", str(path), "--outcome", "x.final_share", "--where", ">= 0.5",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["points"] == n - 1 and doc["points_left_out"] == 1
    network = doc["chosen"]["parameters"][1]
    assert network["kind"] == "categorical" and network["box_levels"] == ["ring"]
    assert network["levels"] == ["partners", "erdos_renyi", "ring"]
    assert network["quasi_p"]["levels"] < 1e-6
    assert main(["discover", str(path), "--outcome", "x.final_share", "--where", ">= 0.5"]) == 0
    out = capsys.readouterr().out
    assert "{ring}" in out and "1 design points without a successful run" in out


def test_paired_difference_against_a_base_sweep(tmp_path, capsys):
    u = lhs(3000, 3, seed=9)
    base = tmp_path / "base.h5"
    policy = tmp_path / "policy.h5"
    noise = np.random.default_rng(10).random(len(u))
    write_sweep(base, u, noise)  # the same noise in both: paired seeds cancel it
    write_sweep(policy, u, noise + 0.2 * box_outcome(u))
    assert main(["discover", str(policy), "--outcome", "x.final_share", "--against",
                 str(base), "--where", ">= 0.1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["against"] == str(base) and doc["where"] == "x.final_share - synthetic >= 0.1"
    assert doc["chosen"]["density"] >= 0.95 and doc["chosen"]["coverage"] >= 0.8
    # a base with other seeds or another design is refused
    other = tmp_path / "other.h5"
    write_sweep(other, u, noise, seeds=np.arange(len(u)) + 1)
    assert main(["discover", str(policy), "--outcome", "x.final_share", "--against",
                 str(other), "--where", ">= 0.1"]) == 2
    assert "do not have the seeds" in capsys.readouterr().err
    write_sweep(other, lhs(3000, 3, seed=11), noise)
    assert main(["discover", str(policy), "--outcome", "x.final_share", "--against",
                 str(other), "--where", ">= 0.1"]) == 2
    assert "not the same design" in capsys.readouterr().err


# ---- a real sweep -------------------------------------------------------------------------

REAL_SWEEP = """
name = "discover_small"
scenario = "{repo}/tests/data/small.toml"
set = ["time.steps=24", "organisations.total=600"]
seed = 5
[design]
kind = "lhs"
samples = 48
[[parameters]]
key = "innovations[0].q"
name = "word of mouth q"
range = [0.1, 2.0]
[[parameters]]
key = "innovations[0].p"
name = "innovation p"
range = [0.001, 0.05]
[[parameters]]
key = "network.kind"
levels = ["partners", "erdos_renyi"]
[outcomes]
metrics = ["word_of_mouth.final_share", "word_of_mouth.steps_to_50"]
"""


def test_command_on_a_real_sweep(csei, repo, tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(REAL_SWEEP.format(repo=repo))
    out = tmp_path / "s.h5"
    run = subprocess.run([csei, "sweep", str(spec), "-o", str(out)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    with h5py.File(out, "r") as f:
        share = f["outcomes/values"][:, 0]
        q = f["design/value"][:, 0]
    threshold = float(np.median(share))
    assert main(["discover", str(out), "--outcome", "word_of_mouth.final_share", "--where",
                 f">= {threshold}", "--json", "--plot", str(tmp_path / "p")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["points"] == 48 and doc["cases"] == int((share >= threshold).sum())
    names = [p["name"] for p in doc["chosen"]["parameters"]]
    assert names == ["word of mouth q", "innovation p", "network.kind"]
    assert doc["chosen"]["parameters"][2]["kind"] == "categorical"
    assert doc["chosen"]["parameters"][2]["levels"] == ["partners", "erdos_renyi"]
    # Bass diffusion: more word of mouth, more adopters; the box raises q's lower limit
    q_row = doc["chosen"]["parameters"][0]
    assert q_row["lower_restricted"] and doc["chosen"]["density"] > doc["cases"] / 48
    inside = q >= q_row["box"][0]
    assert (share[inside] >= threshold).mean() >= (share >= threshold).mean()
    assert all((tmp_path / "p" / name).exists() for name in (
        "word_of_mouth.final_share_trajectory.png", "word_of_mouth.final_share_box.png"))
    # time metrics: never reached counts as steps + 1, so "<= 24" means reached in the run
    assert main(["discover", str(out), "--outcome", "word_of_mouth.steps_to_50", "--where",
                 "<= 24"]) in (0, 2)


def test_the_shipped_discovery_sweeps_are_a_valid_pair(csei, repo):
    """facilitators_discovery.toml and its base validate, and differ only in names and in the
    funding parameter, which the base fixes at 0: the same design points and seeds."""
    import tomllib

    sweeps = repo / "scenarios" / "sweeps"
    specs = {}
    for name in ("facilitators_discovery", "facilitators_discovery_base"):
        path = sweeps / f"{name}.toml"
        run = subprocess.run([csei, "sweep", str(path), "--dry-run"], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        specs[name] = tomllib.loads(path.read_text())
    policy, base = specs["facilitators_discovery"], specs["facilitators_discovery_base"]
    funding, base_funding = policy["parameters"][0], base["parameters"][0]
    assert funding["key"] == base_funding["key"] == "events[0].value"
    assert funding["range"][1] > 0 and base_funding["levels"] == [0.0]
    for spec in (policy, base):
        for key in ("name", "description"):
            spec.pop(key)
        spec["parameters"].pop(0)
    assert policy == base
