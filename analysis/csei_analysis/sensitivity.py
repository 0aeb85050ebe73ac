"""Sensitivity indices from csei sweep files (`csei sweep`, layout in output/SCHEMA.md).

- Morris (1991) elementary effects: mu, mu* (Campolongo et al. 2007) and sigma per parameter,
  with bootstrap confidence intervals for mu* over trajectories.
- Sobol' indices from the Saltelli (2010) scheme: first-order S1 (Saltelli et al. 2010,
  estimator (b) of their table 2) and total ST (Jansen 1999), with bootstrap confidence
  intervals over base samples.
- For grid and Latin hypercube designs: Spearman rank correlations of outcome and parameter.

Indices are computed on each design point's mean over its successful replicates. Effects are
per unit of the design's [0, 1] coordinate, i.e. per the parameter's whole range, so the
parameters of one sweep compare directly.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .io import RunFileError

SUPPORTED_SWEEP_SCHEMA_VERSIONS = (1,)
STATUS_OK = 1
STATUS_FAILED = 2


class SweepFileError(RunFileError):
    """A sweep file that cannot be used; the message names the file and the problem."""


# ---- reading ------------------------------------------------------------------------------


@dataclass
class Sweep:
    """A sweep file's contents, read into memory."""

    path: Path
    attrs: dict
    design: str
    keys: list[str]
    names: list[str]
    unit: np.ndarray  # [points, parameters], coordinates in [0, 1]
    value: np.ndarray  # [points, parameters], parameter values (a level's index if not numeric)
    point: np.ndarray  # [runs]
    replicate: np.ndarray  # [runs]
    status: np.ndarray  # [runs]: 0 not run (shard), 1 ok, 2 failed
    steps: np.ndarray  # [runs]
    errors: list[str]
    outcomes: list[str]
    values: np.ndarray  # [runs, outcomes]

    @property
    def points(self) -> int:
        return self.unit.shape[0]

    @property
    def k(self) -> int:
        return self.unit.shape[1]

    def outcome(self, name: str) -> np.ndarray:
        """One outcome per run (NaN where the run failed or did not run)."""
        return self.values[:, self.outcomes.index(name)]

    def select(self, patterns=None) -> list[str]:
        """Outcome names matching any of the glob patterns (all outcomes if none)."""
        if not patterns:
            return list(self.outcomes)
        chosen = [o for o in self.outcomes if any(fnmatch.fnmatchcase(o, p) for p in patterns)]
        if not chosen:
            raise SweepFileError(
                self.path, f"no outcome matches {', '.join(patterns)}; the file has "
                + ", ".join(self.outcomes)
            )
        return chosen

    def run_values(self, name: str, censor: bool = True) -> np.ndarray:
        """One outcome per run, NaN unless the run is ok, shape [runs].

        With `censor`, a time-to-event metric (steps_to_*, peak_step) that was never reached
        (-1) counts as the run's steps + 1, so runs that did not get there rank last.
        """
        y = self.outcome(name).astype(float).copy()
        ok = self.status == STATUS_OK
        if censor and _is_time_metric(name):
            never = ok & (y < 0)
            y[never] = self.steps[never] + 1
        y[~ok] = np.nan
        return y

    def point_means(self, name: str, censor: bool = True) -> np.ndarray:
        """Mean of an outcome over each point's successful replicates, shape [points]
        (time-to-event metrics censored as in run_values)."""
        y = self.run_values(name, censor)
        ok = self.status == STATUS_OK
        sums = np.bincount(self.point[ok], weights=y[ok], minlength=self.points)
        counts = np.bincount(self.point[ok], minlength=self.points)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 1 << 40


def _check_sizes(path, f) -> None:
    """Refuse, before reading anything, datasets that would need more memory than there is, and
    links to other files (external links, virtual datasets): a sweep file is read only from
    itself."""
    total = 0
    for name in ("parameters/key", "parameters/name", "design/unit", "design/value",
                 "runs/point", "runs/replicate", "runs/status", "runs/steps", "runs/error",
                 "outcomes/names", "outcomes/values"):
        link = f.get(name, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            raise SweepFileError(path, f"/{name} is an external link: refused")
        if name in f:
            ds = f[name]
            if not isinstance(ds, h5py.Dataset):
                raise SweepFileError(path, f"/{name} is not a dataset")
            if ds.is_virtual:
                raise SweepFileError(path, f"/{name} is a virtual dataset: refused")
            total += int(np.prod(ds.shape, dtype=float) * max(ds.dtype.itemsize, 8))
    if total > _memory_bytes():
        raise SweepFileError(path, f"its datasets would need {total / 2**30:.3g} GiB of memory, "
                                   f"more than this machine has: a damaged file?")


def open_sweep(path) -> Sweep:
    """Read and check a sweep file written by `csei sweep` or `csei sweep-merge`."""
    path = Path(path)
    if not path.exists():
        raise SweepFileError(path, "no such file")
    if not h5py.is_hdf5(path):
        raise SweepFileError(path, "not an HDF5 file")
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: _decode(v) for k, v in f.attrs.items()}
            if attrs.get("kind") != "sweep":
                raise SweepFileError(path, "not a csei sweep file (no kind = 'sweep' attribute)")
            try:
                version = int(attrs.get("schema_version", -1))
            except (TypeError, ValueError):
                version = attrs.get("schema_version")
            if version not in SUPPORTED_SWEEP_SCHEMA_VERSIONS:
                raise SweepFileError(path, f"unsupported sweep schema_version {version!r}")
            _check_sizes(path, f)
            sweep = Sweep(
                path=path,
                attrs=attrs,
                design=str(attrs["design"]),
                keys=_strings(f["parameters/key"]),
                names=_strings(f["parameters/name"]),
                unit=f["design/unit"][()],
                value=f["design/value"][()],
                point=f["runs/point"][()],
                replicate=f["runs/replicate"][()],
                status=f["runs/status"][()],
                steps=f["runs/steps"][()],
                errors=_strings(f["runs/error"]),
                outcomes=_strings(f["outcomes/names"]),
                values=f["outcomes/values"][()],
            )
    except KeyError as err:
        raise SweepFileError(path, f"missing {err}") from None
    except OSError as err:
        raise SweepFileError(path, f"cannot read: {err}") from err
    if sweep.unit.ndim != 2 or sweep.values.shape != (len(sweep.point), len(sweep.outcomes)):
        raise SweepFileError(path, "datasets do not have the shapes of schema version 1")
    return sweep


# ---- estimators ---------------------------------------------------------------------------


def elementary_effects(unit: np.ndarray, y: np.ndarray, trajectories: int) -> np.ndarray:
    """Elementary effects from a Morris design: shape [trajectories, k], NaN where a run failed.

    `unit` is the design [trajectories * (k + 1), k]; consecutive points of a trajectory differ
    in one coordinate. Each effect is the change of y over the change of that coordinate.
    """
    unit = np.asarray(unit, dtype=float)
    y = np.asarray(y, dtype=float)
    k = unit.shape[1]
    if unit.shape[0] != trajectories * (k + 1) or y.shape[0] != unit.shape[0]:
        raise ValueError("a Morris design has trajectories x (k + 1) points")
    ee = np.full((trajectories, k), np.nan)
    for t in range(trajectories):
        rows = slice(t * (k + 1), (t + 1) * (k + 1))
        u, v = unit[rows], y[rows]
        step = np.diff(u, axis=0)  # [k, k]
        for s in range(k):
            j = int(np.argmax(np.abs(step[s])))
            ee[t, j] = (v[s + 1] - v[s]) / step[s, j]
    return ee


def morris_indices(ee: np.ndarray, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0):
    """mu, mu* and sigma of elementary effects [trajectories, k], with a bootstrap interval
    for mu* (resampling trajectories). Failed runs (NaN effects) are left out."""
    ee = np.asarray(ee, dtype=float)
    n = np.sum(~np.isnan(ee), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet_nan_warnings():
        mu = np.nanmean(ee, axis=0)
        mu_star = np.nanmean(np.abs(ee), axis=0)
        sigma = np.where(n > 1, np.nanstd(ee, axis=0, ddof=1), np.nan)
    low, high = np.full_like(mu_star, np.nan), np.full_like(mu_star, np.nan)
    if bootstrap > 0 and ee.shape[0] > 1:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, ee.shape[0], size=(bootstrap, ee.shape[0]))
        with np.errstate(invalid="ignore"), _quiet_nan_warnings():
            boot = np.nanmean(np.abs(ee)[idx], axis=1)  # [bootstrap, k]
            alpha = (1 - confidence) / 2
            low, high = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
    return {"mu": mu, "mu_star": mu_star, "sigma": sigma, "mu_star_conf": (low, high), "n": n}


def saltelli_blocks(y: np.ndarray, k: int):
    """Splits outcomes of a Saltelli design (blocks of k + 2 rows: A, A_B^(1..k), B) into
    yA [N], yB [N] and yAB [N, k]; blocks with a NaN (a failed run) are dropped."""
    y = np.asarray(y, dtype=float)
    if y.shape[0] % (k + 2):
        raise ValueError("a Saltelli design has N x (k + 2) points")
    blocks = y.reshape(-1, k + 2)
    blocks = blocks[~np.isnan(blocks).any(axis=1)]
    return blocks[:, 0], blocks[:, k + 1], blocks[:, 1 : k + 1]


def sobol_indices(
    y_a, y_b, y_ab, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict:
    """First-order (Saltelli 2010) and total (Jansen 1999) Sobol' indices with bootstrap
    confidence intervals (resampling base samples).

    S1_i = mean((f(B) - m) (f(A_B^i) - f(A))) / V,   ST_i = mean((f(A) - f(A_B^i))^2) / (2 V),
    m and V = mean and variance of f over the A and B samples together.
    """
    y_a, y_b, y_ab = (np.asarray(v, dtype=float) for v in (y_a, y_b, y_ab))

    def estimate(a, b, ab):
        both = np.concatenate([a, b])
        var = np.var(both)
        if var == 0:
            nan = np.full(ab.shape[1], np.nan)
            return nan, nan
        # Centring f(B) leaves the estimator's expectation unchanged (E[f(A_B^i) - f(A)] = 0)
        # and removes the variance an offset of the outcome would add.
        s1 = np.mean((b - both.mean())[:, None] * (ab - a[:, None]), axis=0) / var
        st = 0.5 * np.mean((a[:, None] - ab) ** 2, axis=0) / var
        return s1, st

    s1, st = estimate(y_a, y_b, y_ab)
    k = y_ab.shape[1]
    s1_conf = (np.full(k, np.nan), np.full(k, np.nan))
    st_conf = (np.full(k, np.nan), np.full(k, np.nan))
    n = y_a.shape[0]
    if bootstrap > 0 and n > 1:
        rng = np.random.default_rng(seed)
        b1, bt = np.empty((bootstrap, k)), np.empty((bootstrap, k))
        for i in range(bootstrap):
            idx = rng.integers(0, n, size=n)
            b1[i], bt[i] = estimate(y_a[idx], y_b[idx], y_ab[idx])
        alpha = (1 - confidence) / 2
        with _quiet_nan_warnings():
            s1_conf = tuple(np.nanquantile(b1, [alpha, 1 - alpha], axis=0))
            st_conf = tuple(np.nanquantile(bt, [alpha, 1 - alpha], axis=0))
    return {"S1": s1, "ST": st, "S1_conf": s1_conf, "ST_conf": st_conf, "n": n}


def rank_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of y with each column of x, shape [k] (NaN rows dropped)."""
    from scipy.stats import rankdata

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    out = np.full(x.shape[1], np.nan)
    if len(y) < 3:
        return out
    ry = rankdata(y)
    for j in range(x.shape[1]):
        rx = rankdata(x[:, j])
        if np.std(rx) > 0 and np.std(ry) > 0:
            out[j] = np.corrcoef(rx, ry)[0, 1]
    return out


# ---- one analysis per outcome -------------------------------------------------------------


@dataclass
class Analysis:
    """Indices of one outcome of a sweep."""

    outcome: str
    method: str  # "morris", "sobol" or "spearman"
    names: list[str]
    indices: dict
    used_points: int
    failed_runs: int
    extra: dict = field(default_factory=dict)


def analyse(
    sweep: Sweep, outcomes=None, bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
) -> list[Analysis]:
    """Indices for each selected outcome (glob patterns; all outcomes by default), by the
    method that fits the sweep's design."""
    results = []
    failed = int(np.sum(sweep.status == STATUS_FAILED))
    for name in sweep.select(outcomes):
        y = sweep.point_means(name)
        finite = y[np.isfinite(y)]
        constant = finite.size > 0 and np.all(finite == finite[0])
        if sweep.design == "morris":
            ee = elementary_effects(sweep.unit, y, int(sweep.attrs["trajectories"]))
            idx = morris_indices(ee, bootstrap, confidence, seed)
            results.append(
                Analysis(name, "morris", sweep.names, idx, int(np.sum(~np.isnan(y))), failed,
                         {"effects": ee, "constant": constant})
            )
        elif sweep.design == "sobol":
            y_a, y_b, y_ab = saltelli_blocks(y, sweep.k)
            idx = sobol_indices(y_a, y_b, y_ab, bootstrap, confidence, seed)
            results.append(
                Analysis(name, "sobol", sweep.names, idx, int(np.sum(~np.isnan(y))), failed,
                         {"constant": constant})
            )
        else:
            idx = {"rho": rank_correlations(sweep.unit, y)}
            results.append(
                Analysis(name, "spearman", sweep.names, idx, int(np.sum(~np.isnan(y))), failed,
                         {"constant": constant})
            )
    return results


def format_table(results: list[Analysis], confidence: float = 0.95) -> str:
    """A plain-text table of the indices, one block per outcome."""
    lines = []
    pct = f"{confidence * 100:g}%"
    for r in results:
        width = max(12, *(len(n) for n in r.names))
        lines.append(f"{r.outcome}  ({r.method}, {r.used_points} points"
                     + (f", {r.failed_runs} failed runs" if r.failed_runs else "") + ")")
        if r.extra.get("constant"):
            lines.append("  the same at every point: no sensitivity to any parameter")
            lines.append("")
            continue
        if r.method == "morris":
            lo, hi = r.indices["mu_star_conf"]
            lines.append(f"  {'parameter':<{width}} {'mu*':>11} {pct + ' interval':>25} "
                         f"{'mu':>11} {'sigma':>11}")
            order = np.argsort(-np.nan_to_num(r.indices["mu_star"], nan=-np.inf))
            for j in order:
                lines.append(
                    f"  {r.names[j]:<{width}} {_num(r.indices['mu_star'][j])} "
                    f"[{_num(lo[j])}, {_num(hi[j])}] {_num(r.indices['mu'][j])} "
                    f"{_num(r.indices['sigma'][j])}"
                )
        elif r.method == "sobol":
            s1_lo, s1_hi = r.indices["S1_conf"]
            st_lo, st_hi = r.indices["ST_conf"]
            lines.append(f"  {'parameter':<{width}} {'S1':>11} {pct + ' interval':>25} "
                         f"{'ST':>11} {pct + ' interval':>25}")
            order = np.argsort(-np.nan_to_num(r.indices["ST"], nan=-np.inf))
            for j in order:
                lines.append(
                    f"  {r.names[j]:<{width}} {_num(r.indices['S1'][j])} "
                    f"[{_num(s1_lo[j])}, {_num(s1_hi[j])}] {_num(r.indices['ST'][j])} "
                    f"[{_num(st_lo[j])}, {_num(st_hi[j])}]"
                )
        else:
            lines.append(f"  {'parameter':<{width}} {'Spearman rho':>12}")
            order = np.argsort(-np.abs(np.nan_to_num(r.indices["rho"])))
            for j in order:
                lines.append(f"  {r.names[j]:<{width}} {_num(r.indices['rho'][j], 12)}")
        lines.append("")
    return "\n".join(lines)


# ---- helpers ------------------------------------------------------------------------------


def _is_time_metric(name: str) -> bool:
    metric = name.rsplit(".", 1)[-1]
    return metric.startswith("steps_to_") or metric == "peak_step"


def _num(v, width: int = 11) -> str:
    return f"{'nan':>{width}}" if v is None or np.isnan(v) else f"{v:>{width}.4g}"


def _strings(ds) -> list[str]:
    return [_decode(v) for v in ds[()].ravel()]


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


class _quiet_nan_warnings:
    """Silences numpy's all-NaN-slice warnings inside a block."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
