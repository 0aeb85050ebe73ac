"""Scenario discovery on csei sweep files: PRIM (Friedman and Fisher 1999) as the EMA workbench
(Kwakkel 2017, `ema_workbench.analysis.prim`) does it.

The cases are the sweep's design points; a point is a case of interest when its outcome (the
mean over its successful replicates, time-to-event metrics that were never reached counting as
steps + 1, as in `sensitivity`) satisfies a comparison such as ">= 0.5". PRIM looks for a box of
parameter space (an interval per numeric parameter, a subset of levels per categorical one) that
holds many cases of interest (coverage: the share of all cases of interest inside the box) at a
high rate (density: the share of the points inside the box that are cases of interest).

- Peeling: starting from the box of all points, each step removes the points below the alpha
  quantile or above the 1 - alpha quantile of one numeric parameter (quantiles as the workbench
  takes them: midway between two distinct values), or the points with one level of a
  categorical parameter, whichever candidate scores best; the score is the workbench's default
  objective "lenient1", the gain in density per point removed ((mean_new - mean_old) /
  (n_old - n_new)), or Friedman and Fisher's original one, the density of the new box. Ties go
  to the candidate that leaves more dimensions unrestricted. Peeling stops when no candidate
  scores above 0 or the box would hold less than the minimum mass (share of all points).
  Every box on the way is kept: the peeling trajectory.
- Pasting (optional): the chosen box is widened again, one restricted side at a time, by the
  paste_alpha share of the strip of points just outside that side, while that raises its
  density and mass.
- Quasi-p-values (as the workbench reports them): for each restricted side of the chosen box,
  the one-sided binomial test of the box's H cases of interest in T points against the density
  of the box with that one restriction removed; a large value says the restriction adds little.

- Paired sweeps: with a base sweep of the same design and seeds (`against`), the outcome is
  the difference of the two files' point means, point by point.

`discover(...)` returns a `Discovery`; `format_text`, `to_json` and `discover_plots.plot_discovery`
show it. `Prim` works on any array, not only on sweep files.
"""

from __future__ import annotations

import json
import math
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .sensitivity import STATUS_OK, Sweep, SweepFileError, _decode, open_sweep

REAL, INTEGER, CATEGORICAL = "real", "integer", "categorical"
OBJECTIVES = ("lenient1", "original")
DEFAULT_ALPHA = 0.05
DEFAULT_MASS_MIN = 0.05
DEFAULT_MIN_COVERAGE = 0.8

COMPARISONS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_WHERE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class DiscoveryError(SweepFileError):
    """A discovery that cannot be made; the message names the file and the problem."""


def parse_where(text: str):
    """'>= 0.5' -> ('>=', 0.5). Raises ValueError with a one-line reason."""
    match = _WHERE.match(text or "")
    if not match:
        raise ValueError(f"--where {text!r}: expected an operator and a number, e.g. '>= 0.5' "
                         f"(operators: {', '.join(sorted(COMPARISONS, key=len))})")
    value = float(match.group(2))
    if not math.isfinite(value):
        raise ValueError(f"--where {text!r}: the number must be finite")
    return match.group(1), value


# ---- PRIM ---------------------------------------------------------------------------------


@dataclass
class Box:
    """A box: numeric limits [lower, upper] per dimension (NaN for categorical ones) and the
    allowed levels of each categorical dimension (None for numeric ones)."""

    lower: np.ndarray
    upper: np.ndarray
    levels: list

    def copy(self) -> Box:
        return Box(self.lower.copy(), self.upper.copy(), [None if s is None else frozenset(s)
                                                           for s in self.levels])

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Which rows of x [n, k] lie in the box."""
        inside = np.ones(x.shape[0], dtype=bool)
        for j, allowed in enumerate(self.levels):
            if allowed is None:
                inside &= (x[:, j] >= self.lower[j]) & (x[:, j] <= self.upper[j])
            else:
                inside &= np.isin(x[:, j], list(allowed))
        return inside


@dataclass
class TrajectoryBox:
    """One box of the trajectory with its statistics."""

    index: int
    box: Box
    inside: np.ndarray  # [n] bool
    coverage: float
    density: float
    mass: float
    points: int
    restricted: list[int]  # dimensions whose limits differ from the initial box
    phase: str  # "peel" (the initial box too) or "paste"


class Prim:
    """PRIM on cases x [n, k] (float) with a boolean outcome y [n].

    kinds: per dimension REAL, INTEGER or CATEGORICAL (levels are the distinct values of the
    column). Integer dimensions peel like real ones; their limits fall between integers.
    """

    def __init__(self, x, y, kinds=None, alpha=DEFAULT_ALPHA, mass_min=DEFAULT_MASS_MIN,
                 objective="lenient1", paste_alpha=None):
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=bool)
        if self.x.ndim != 2 or self.y.shape != (self.x.shape[0],):
            raise ValueError("x must be [n, k] and y [n]")
        if self.x.shape[0] == 0:
            raise ValueError("no cases")
        if np.isnan(self.x).any():
            raise ValueError("x has NaN values")
        if not 0 < alpha < 0.5:
            raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
        if not 0 <= mass_min < 1:
            raise ValueError(f"mass_min must be in [0, 1), got {mass_min}")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}")
        self.n, self.k = self.x.shape
        self.kinds = list(kinds) if kinds is not None else [REAL] * self.k
        if len(self.kinds) != self.k:
            raise ValueError("one kind per dimension")
        self.alpha = alpha
        self.paste_alpha = alpha if paste_alpha is None else paste_alpha
        if not 0 < self.paste_alpha < 1:
            raise ValueError(f"paste_alpha must be in (0, 1), got {self.paste_alpha}")
        self.mass_min = mass_min
        self.objective = objective
        self.total = int(self.y.sum())
        levels = [frozenset(np.unique(self.x[:, j]).tolist()) if kind == CATEGORICAL else None
                  for j, kind in enumerate(self.kinds)]
        self.initial = Box(self.x.min(axis=0), self.x.max(axis=0), levels)
        for j, kind in enumerate(self.kinds):
            if kind == CATEGORICAL:
                self.initial.lower[j] = self.initial.upper[j] = np.nan

    # -- statistics --------------------------------------------------------------------------

    def restricted(self, box: Box) -> list[int]:
        out = []
        for j in range(self.k):
            if self.kinds[j] == CATEGORICAL:
                if box.levels[j] != self.initial.levels[j]:
                    out.append(j)
            elif box.lower[j] > self.initial.lower[j] or box.upper[j] < self.initial.upper[j]:
                out.append(j)
        return out

    def entry(self, box: Box, inside: np.ndarray, index: int, phase: str) -> TrajectoryBox:
        points = int(inside.sum())
        hits = int(self.y[inside].sum())
        return TrajectoryBox(
            index=index, box=box, inside=inside,
            coverage=hits / self.total if self.total else float("nan"),
            density=hits / points if points else float("nan"),
            mass=points / self.n, points=points, restricted=self.restricted(box), phase=phase,
        )

    def _score(self, y_old: np.ndarray, y_new: np.ndarray) -> float:
        mean_new = float(y_new.mean()) if y_new.size else 0.0
        if self.objective == "original":
            return mean_new
        mean_old = float(y_old.mean())
        if mean_new == mean_old or y_new.size == y_old.size:
            return 0.0
        return (mean_new - mean_old) / abs(y_old.size - y_new.size)

    def _best(self, candidates, inside_old):
        """The best-scoring candidate (score, box, inside) or None; ties to fewer restrictions,
        then to the first candidate."""
        best = None
        y_old = self.y[inside_old]
        for box, inside in candidates:
            score = self._score(y_old, self.y[inside])
            key = (score, self.k - len(self.restricted(box)))
            if best is None or key > best[0]:
                best = (key, box, inside)
        return best

    # -- peeling -----------------------------------------------------------------------------

    def peel(self) -> list[TrajectoryBox]:
        """The peeling trajectory, from the box of all points."""
        box = self.initial.copy()
        inside = np.ones(self.n, dtype=bool)
        trajectory = [self.entry(box, inside, 0, "peel")]
        while self.y[inside].any() and not self.y[inside].all():  # else nothing to gain
            candidates = self._peels(box, inside)
            best = self._best(candidates, inside)
            if best is None:
                break
            (score, _), new_box, new_inside = best
            mass_new = new_inside.sum() / self.n
            if not (mass_new >= self.mass_min and new_inside.sum() < inside.sum() and score > 0):
                break
            box, inside = new_box, new_inside
            trajectory.append(self.entry(box, inside, len(trajectory), "peel"))
        return trajectory

    def _peels(self, box: Box, inside: np.ndarray):
        rows = np.flatnonzero(inside)
        out = []
        for j in range(self.k):
            xs = self.x[rows, j]
            if self.kinds[j] == CATEGORICAL:
                if len(box.levels[j]) < 2:
                    continue
                for level in sorted(box.levels[j]):
                    keep = xs != level
                    if keep.all() or not keep.any():
                        continue  # a level no point in the box has, or the only one left
                    new = box.copy()
                    new.levels[j] = frozenset(box.levels[j] - {level})
                    out.append((new, self._mask(rows, keep)))
                continue
            low = get_quantile(xs, self.alpha)
            keep = xs >= low
            if keep.sum() < xs.size:
                new = box.copy()
                new.lower[j] = low
                out.append((new, self._mask(rows, keep)))
            high = get_quantile(xs, 1 - self.alpha)
            keep = xs <= high
            if keep.sum() < xs.size:
                new = box.copy()
                new.upper[j] = high
                out.append((new, self._mask(rows, keep)))
        return out

    def _mask(self, rows, keep) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        mask[rows[keep]] = True
        return mask

    # -- pasting -----------------------------------------------------------------------------

    def paste(self, start: TrajectoryBox, first_index: int) -> list[TrajectoryBox]:
        """Boxes that pasting adds to `start`, in order (empty if nothing is gained)."""
        box, inside = start.box, start.inside
        added = []
        while True:
            candidates = self._pastes(box)
            best = None
            if candidates:
                best = self._best([(b, m) for b, m in candidates if m.sum() > inside.sum()],
                                  inside)
            if best is None:
                break
            (score, _), new_box, new_inside = best
            mass_new = new_inside.sum() / self.n
            mean_old = self.y[inside].mean()
            mean_new = self.y[new_inside].mean()
            if not (mass_new >= self.mass_min and score > 0 and mean_new > mean_old):
                break
            box, inside = new_box, new_inside
            added.append(self.entry(box, inside, first_index + len(added), "paste"))
        return added

    def _pastes(self, box: Box):
        out = []
        for j in self.restricted(box):
            others = box.copy()
            if self.kinds[j] == CATEGORICAL:
                for level in sorted(self.initial.levels[j] - box.levels[j]):
                    new = box.copy()
                    new.levels[j] = frozenset(box.levels[j] | {level})
                    out.append((new, new.contains(self.x)))
                continue
            others.lower[j], others.upper[j] = self.initial.lower[j], self.initial.upper[j]
            strip_rows = others.contains(self.x)
            xs = self.x[strip_rows, j]
            below = xs[xs < box.lower[j]]
            if below.size:
                new = box.copy()
                new.lower[j] = min(box.lower[j], get_quantile(below, 1 - self.paste_alpha))
                if below.size == 1 or new.lower[j] > below.max():
                    new.lower[j] = below.max()
                out.append((new, new.contains(self.x)))
            above = xs[xs > box.upper[j]]
            if above.size:
                new = box.copy()
                new.upper[j] = max(box.upper[j], get_quantile(above, self.paste_alpha))
                if above.size == 1 or new.upper[j] < above.min():
                    new.upper[j] = above.min()
                out.append((new, new.contains(self.x)))
        return out

    # -- quasi-p-values ----------------------------------------------------------------------

    def quasi_p(self, entry: TrajectoryBox) -> dict:
        """{dimension: (p of the lower side, p of the upper side)} for restricted dimensions
        (categorical: (p, None)); None for a side that is not restricted."""
        from scipy.stats import binomtest

        hits = int(self.y[entry.inside].sum())
        points = entry.points
        out = {}
        for j in entry.restricted:
            sides = []
            if self.kinds[j] == CATEGORICAL:
                relaxed = [entry.box.copy()]
                relaxed[0].levels[j] = self.initial.levels[j]
                relaxed.append(None)
            else:
                relaxed = []
                for side, (limit, free) in enumerate(
                        ((entry.box.lower[j], self.initial.lower[j]),
                         (entry.box.upper[j], self.initial.upper[j]))):
                    if limit == free:
                        relaxed.append(None)
                        continue
                    b = entry.box.copy()
                    (b.lower if side == 0 else b.upper)[j] = free
                    relaxed.append(b)
            for b in relaxed:
                if b is None or points == 0:
                    sides.append(None)
                    continue
                wider = b.contains(self.x)
                p = float(self.y[wider].mean())
                sides.append(float(binomtest(hits, points, p, alternative="greater").pvalue))
            out[j] = tuple(sides)
        return out


def get_quantile(data: np.ndarray, quantile: float) -> float:
    """The quantile as the EMA workbench's PRIM takes it: at position (n - 1) q of the sorted
    data, moved outwards past equal values and then midway between the two values found, so a
    peel at it always removes whole groups of tied values."""
    data = np.sort(np.asarray(data, dtype=float))
    i = (len(data) - 1) * quantile
    lo, hi = int(math.floor(i)), int(math.ceil(i))
    if quantile > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < len(data) - 1:
            hi += 1
    return float((data[lo] + data[hi]) / 2)


# ---- on a sweep file ----------------------------------------------------------------------


@dataclass
class Parameter:
    """A sweep parameter as discovery sees it."""

    name: str
    key: str
    kind: str  # REAL, INTEGER or CATEGORICAL
    low: float  # the declared range (levels: first and last numeric level)
    high: float
    labels: list[str] = field(default_factory=list)  # categorical: level i's text


@dataclass
class Discovery:
    """What `discover` found."""

    path: Path
    sweep_name: str
    design: str
    outcome: str
    where: str  # the condition in words, e.g. "x.final_share >= 0.5"
    operator: str
    threshold: float
    parameters: list[Parameter]
    points_used: int
    points_left_out: int
    cases: int  # points where the outcome holds
    trajectory: list[TrajectoryBox]
    chosen: int
    choice: str  # how the chosen box was chosen
    quasi_p: dict
    settings: dict
    notes: list[str]
    x: np.ndarray  # [points used, parameters]: the parameter values PRIM saw
    y: np.ndarray  # [points used]: whether the outcome holds
    against: Path | None = None  # the base sweep of a paired difference


def read_parameters(sweep: Sweep) -> list[Parameter]:
    """Parameters with their kinds and declared ranges from /parameters (older files without
    type, low and high: every parameter real over its values' range)."""
    k = sweep.k
    with h5py.File(sweep.path, "r") as f:
        group = f["parameters"]

        def column(name, default):
            if name not in group:
                return [default] * k
            return [_decode(v) for v in group[name][()].ravel()]

        types = column("type", "real")
        lows = column("low", np.nan)
        highs = column("high", np.nan)
        levels = column("levels", "")
    out = []
    for j in range(k):
        values = sweep.value[:, j]
        low = float(lows[j]) if np.isfinite(float(lows[j])) else float(np.min(values))
        high = float(highs[j]) if np.isfinite(float(highs[j])) else float(np.max(values))
        kind, labels = (INTEGER if types[j] == "integer" else REAL), []
        if types[j] == "level":
            parsed = _parse_levels(levels[j], sweep.path, sweep.names[j])
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in parsed)
            if numeric and parsed:
                kind = INTEGER if all(isinstance(v, int) for v in parsed) else REAL
                low, high = float(min(parsed)), float(max(parsed))
            else:
                kind = CATEGORICAL
                labels = [_level_text(v) for v in parsed]
        out.append(Parameter(sweep.names[j], sweep.keys[j], kind, low, high, labels))
    return out


def discover(path, outcome: str, where: str, alpha: float = DEFAULT_ALPHA,
             mass_min: float = DEFAULT_MASS_MIN, min_coverage: float = DEFAULT_MIN_COVERAGE,
             box: int | None = None, paste: bool = False, paste_alpha: float | None = None,
             objective: str = "lenient1", against=None) -> Discovery:
    """PRIM on a sweep file: the points where `outcome` (its point means) satisfies `where`.

    With `against` (another sweep file with the same design and run seeds, e.g. the same sweep
    with a policy switched off), the outcome is the difference of the two files' point means,
    point by point: paired runs with the same random numbers."""
    op_text, threshold = parse_where(where)
    for name, value, ok in (("--alpha", alpha, 0 < alpha < 0.5),
                            ("--mass-min", mass_min, 0 <= mass_min < 1),
                            ("--min-coverage", min_coverage, 0 <= min_coverage <= 1),
                            ("--paste-alpha", paste_alpha,
                             paste_alpha is None or 0 < paste_alpha < 1)):
        if not ok:
            raise ValueError(f"{name} {value}: out of range")
    sweep = open_sweep(path)
    if outcome not in sweep.outcomes:
        raise DiscoveryError(sweep.path, f"no outcome '{outcome}'; the file has "
                             + ", ".join(sweep.outcomes))
    try:
        parameters = read_parameters(sweep)
    except (OSError, KeyError) as err:
        raise DiscoveryError(sweep.path, f"cannot read /parameters: {err}") from None
    y_mean = sweep.point_means(outcome)
    label = outcome
    if against is not None:
        base = _paired_base(sweep, against, outcome)
        y_mean = y_mean - base.point_means(outcome)
        label = f"{outcome} - {base.attrs.get('name', base.path.stem)}"
    used = np.isfinite(y_mean)
    notes = []
    if not used.any():
        raise DiscoveryError(sweep.path, f"'{outcome}' has no value at any design point "
                             "(no successful run)")
    left_out = int((~used).sum())
    if left_out:
        notes.append(f"{left_out} design points without a successful run"
                     + (" in either file" if against is not None else "") + " are left out")
    x = sweep.value[used].astype(float)
    y = COMPARISONS[op_text](y_mean[used], threshold)
    description = f"{label} {op_text} {threshold:g}"
    cases = int(y.sum())
    if cases == 0:
        lo, hi = np.min(y_mean[used]), np.max(y_mean[used])
        raise DiscoveryError(sweep.path, f"no design point has {description} (its point means "
                             f"range from {lo:.4g} to {hi:.4g}): nothing to discover")
    if cases == y.size:
        notes.append(f"every design point has {description}: the whole parameter space is the "
                     "box, no parameter restricts it")
    for j, p in enumerate(parameters):
        if np.all(x[:, j] == x[0, j]):
            notes.append(f"parameter '{p.name}' has one value at every point: it cannot be "
                         "restricted")
    prim = Prim(x, y, [p.kind for p in parameters], alpha, mass_min, objective, paste_alpha)
    trajectory = prim.peel()
    if box is not None:
        if not 0 <= box < len(trajectory):
            raise ValueError(f"--box {box}: the peeling trajectory has boxes 0 to "
                             f"{len(trajectory) - 1}")
        chosen, choice = box, f"box {box} of the trajectory (--box)"
    else:
        eligible = [b for b in trajectory if b.coverage >= min_coverage - 1e-12]
        best = max(eligible, key=lambda b: (b.density, b.coverage))
        chosen = best.index
        choice = (f"the densest box with coverage >= {min_coverage:g}"
                  " (ties: the larger coverage)")
    if paste:
        added = prim.paste(trajectory[chosen], len(trajectory))
        if added:
            trajectory.extend(added)
            chosen = added[-1].index
            choice += f", then pasted ({len(added)} step{'s' if len(added) > 1 else ''})"
        else:
            choice += "; pasting widened nothing"
    return Discovery(
        path=sweep.path, sweep_name=str(sweep.attrs.get("name", sweep.path.stem)),
        design=sweep.design, outcome=outcome, where=description, operator=op_text,
        threshold=threshold, parameters=parameters,
        points_used=int(used.sum()), points_left_out=left_out, cases=cases,
        trajectory=trajectory, chosen=chosen, choice=choice,
        quasi_p=prim.quasi_p(trajectory[chosen]),
        settings={"alpha": alpha, "mass_min": mass_min, "min_coverage": min_coverage,
                  "objective": objective, "paste": paste,
                  "paste_alpha": prim.paste_alpha if paste else None,
                  "replicates": int(sweep.attrs.get("replicates", 1)),
                  "ok_runs": int((sweep.status == STATUS_OK).sum())},
        notes=notes, x=x, y=y, against=None if against is None else Path(against),
    )


def _paired_base(sweep: Sweep, path, outcome: str) -> Sweep:
    """The base sweep of a paired difference, checked to have the same design and seeds."""
    base = open_sweep(path)
    if outcome not in base.outcomes:
        raise DiscoveryError(base.path, f"no outcome '{outcome}'")
    same = (base.design == sweep.design and base.unit.shape == sweep.unit.shape
            and np.array_equal(base.unit, sweep.unit))
    if not same:
        raise DiscoveryError(base.path, f"not the same design as {sweep.path} (design kind, "
                             "points and unit coordinates must be equal: same parameters count, "
                             "[design] table and design seed)")
    with h5py.File(sweep.path, "r") as f, h5py.File(base.path, "r") as g:
        seeds = [h["runs/seed"][()] if "runs/seed" in h else None for h in (f, g)]
    if seeds[0] is None or seeds[1] is None or not np.array_equal(seeds[0], seeds[1]):
        raise DiscoveryError(base.path, f"its runs do not have the seeds of {sweep.path}'s "
                             "(same seed, replicates and common_seeds needed for pairs)")
    return base


# ---- presenting ---------------------------------------------------------------------------


def limits(d: Discovery, entry: TrajectoryBox) -> list[dict]:
    """Per parameter: its range and the box's limits, as shown and written to JSON."""
    out = []
    restricted = set(entry.restricted)
    for j, p in enumerate(d.parameters):
        row = {"name": p.name, "key": p.key, "kind": p.kind, "restricted": j in restricted}
        if p.kind == CATEGORICAL:
            row["levels"] = p.labels
            row["box_levels"] = [_label(p, v) for v in sorted(entry.box.levels[j])]
        else:
            lower = entry.box.lower[j] if entry.box.lower[j] > _initial(d, j, 0) else p.low
            upper = entry.box.upper[j] if entry.box.upper[j] < _initial(d, j, 1) else p.high
            if p.kind == INTEGER:
                lower, upper = math.ceil(lower - 1e-9), math.floor(upper + 1e-9)
            row["range"] = [_number(p.low), _number(p.high)]
            row["box"] = [_number(lower), _number(upper)]
            row["lower_restricted"] = bool(entry.box.lower[j] > _initial(d, j, 0))
            row["upper_restricted"] = bool(entry.box.upper[j] < _initial(d, j, 1))
        out.append(row)
    return out


def _initial(d: Discovery, j: int, side: int) -> float:
    first = d.trajectory[0].box
    return float((first.lower if side == 0 else first.upper)[j])


def to_json(d: Discovery) -> str:
    chosen = d.trajectory[d.chosen]
    rows = limits(d, chosen)
    for j, row in enumerate(rows):
        qp = d.quasi_p.get(j)
        row["quasi_p"] = None if qp is None else (
            {"levels": _number(qp[0])} if row["kind"] == CATEGORICAL
            else {"lower": _number(qp[0]), "upper": _number(qp[1])})
    doc = {
        "sweep": str(d.path), "name": d.sweep_name, "design": d.design,
        "outcome": d.outcome, "against": None if d.against is None else str(d.against),
        "where": d.where, "operator": d.operator, "threshold": d.threshold,
        "points": d.points_used, "points_left_out": d.points_left_out, "cases": d.cases,
        "settings": d.settings,
        "trajectory": [_box_json(d, b) for b in d.trajectory],
        "chosen": {**_box_json(d, chosen), "choice": d.choice, "parameters": rows},
        "notes": d.notes,
    }
    return json.dumps(doc, indent=2, allow_nan=False)


def _box_json(d: Discovery, b: TrajectoryBox) -> dict:
    return {"box": b.index, "phase": b.phase, "coverage": _number(b.coverage),
            "density": _number(b.density), "mass": _number(b.mass), "points": b.points,
            "restricted": len(b.restricted),
            "restricted_parameters": [d.parameters[j].name for j in b.restricted]}


def format_text(d: Discovery) -> str:
    """The trajectory and the chosen box as plain-text tables."""
    lines = [
        f"{d.path}: {d.sweep_name} | {d.design} design | {d.points_used} points"
        + (f" ({d.points_left_out} left out)" if d.points_left_out else "")
        + f" x {d.settings['replicates']} replicate"
        + ("s" if d.settings["replicates"] != 1 else ""),
        *([f"outcome: {d.outcome} in this sweep minus the same in {d.against}, point by "
           "point (paired seeds)"] if d.against else []),
        f"cases: {d.where} at {d.cases} of {d.points_used} points "
        f"({d.cases / d.points_used:.1%}; outcome = mean over a point's replicates)",
        f"PRIM: peel alpha {d.settings['alpha']:g}, minimum mass {d.settings['mass_min']:g}, "
        f"objective {d.settings['objective']}"
        + (f", pasting alpha {d.settings['paste_alpha']:g}" if d.settings["paste"] else ""),
        "",
        "peeling trajectory",
        f"  {'box':>4} {'coverage':>9} {'density':>8} {'mass':>6} {'points':>7} {'dims':>5}"
        "  restricted",
    ]
    for b in d.trajectory:
        mark = "*" if b.index == d.chosen else " "
        names = ", ".join(d.parameters[j].name for j in b.restricted) or "-"
        lines.append(
            f"{mark} {b.index:>4} {b.coverage:>9.3f} {b.density:>8.3f} {b.mass:>6.3f} "
            f"{b.points:>7} {len(b.restricted):>5}  {names}"
            + ("  (pasted)" if b.phase == "paste" else "")
        )
    chosen = d.trajectory[d.chosen]
    lines += [
        "",
        f"chosen box {chosen.index}: {d.choice}",
        f"  coverage {chosen.coverage:.3f} (cases inside / all cases), density "
        f"{chosen.density:.3f} (cases / points inside), mass {chosen.mass:.3f} "
        f"({chosen.points} points), {len(chosen.restricted)} restricted dimensions",
    ]
    rows = limits(d, chosen)
    table = []
    for j in sorted(range(len(rows)), key=lambda j: (not rows[j]["restricted"], j)):
        row = rows[j]
        qp = d.quasi_p.get(j)
        if row["kind"] == CATEGORICAL:
            shown_range = "{" + ", ".join(row["levels"]) + "}"
            shown_box = "{" + ", ".join(row["box_levels"]) + "}" if row["restricted"] \
                else "not restricted"
            shown_qp = _p(qp[0]) if qp else ""
        else:
            shown_range = f"[{_fmt(row['range'][0])}, {_fmt(row['range'][1])}]"
            if row["lower_restricted"] and row["upper_restricted"]:
                shown_box = f"[{_fmt(row['box'][0])}, {_fmt(row['box'][1])}]"
            elif row["lower_restricted"]:
                shown_box = f">= {_fmt(row['box'][0])}"
            elif row["upper_restricted"]:
                shown_box = f"<= {_fmt(row['box'][1])}"
            else:
                shown_box = "not restricted"
            shown_qp = ", ".join(f"{side} {_p(v)}" for side, v in
                                 zip(("lower", "upper"), qp or ()) if v is not None)
        table.append((row["name"], shown_range, shown_box, shown_qp))
    widths = [max(len(head), *(len(t[i]) for t in table))
              for i, head in enumerate(("parameter", "range", "box"))]
    lines.append(f"  {'parameter':<{widths[0]}}   {'range':>{widths[1]}}   "
                 f"{'box':>{widths[2]}}   quasi-p")
    for name, shown_range, shown_box, shown_qp in table:
        lines.append(f"  {name:<{widths[0]}}   {shown_range:>{widths[1]}}   "
                     f"{shown_box:>{widths[2]}}   {shown_qp}")
    lines.append("  (quasi-p: binomial test of the box against the box without that limit; "
                 "large = the limit adds little)")
    lines += [f"note: {n}" for n in d.notes]
    return "\n".join(line.rstrip() for line in lines)


# ---- helpers ------------------------------------------------------------------------------


def _parse_levels(text: str, path, name):
    if not text:
        return []
    try:
        return tomllib.loads(f"levels = {text}")["levels"]
    except (tomllib.TOMLDecodeError, KeyError) as err:
        raise DiscoveryError(path, f"parameter '{name}': levels {text!r} are not a TOML "
                             f"array: {err}") from None


def _level_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_level_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _label(p: Parameter, value: float) -> str:
    i = int(value)
    return p.labels[i] if 0 <= i < len(p.labels) and i == value else _fmt(value)


def _number(v):
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() and abs(v) < 2**53 else float(f"{v:.6g}")


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _p(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2g}" if v >= 1e-4 else "<1e-4"


# ---- command line -------------------------------------------------------------------------


def add_parser(commands) -> None:
    """The `discover` subcommand."""
    p = commands.add_parser(
        "discover",
        help="scenario discovery (PRIM): the boxes of a sweep's parameter space where an "
        "outcome holds",
        description="PRIM (Friedman and Fisher 1999, as the EMA workbench does it) on a sweep "
        "file: the peeling trajectory (coverage against density) and the chosen box's limits "
        "per parameter with quasi-p-values. A design point is a case when the mean of METRIC "
        "over its successful replicates satisfies --where.",
    )
    p.add_argument("sweep", type=Path, metavar="SWEEP.h5", help="file written by `csei sweep`")
    p.add_argument("--outcome", required=True, metavar="METRIC",
                   help="an outcome of the sweep file, e.g. community_energy.final_share")
    p.add_argument("--against", type=Path, metavar="BASE.h5",
                   help="a sweep with the same design and seeds (e.g. with the policy off): "
                   "the outcome becomes this sweep's point means minus BASE's")
    p.add_argument("--where", required=True, metavar="COMPARISON",
                   help="when the outcome holds: an operator (<, <=, >, >=, ==, !=) and a "
                   "number, e.g. '>= 0.5'")
    p.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                   help=f"share of the box's points one peel removes (default {DEFAULT_ALPHA})")
    p.add_argument("--mass-min", type=float, default=DEFAULT_MASS_MIN,
                   help="smallest share of all points a box may hold (default "
                   f"{DEFAULT_MASS_MIN})")
    p.add_argument("--min-coverage", type=float, default=DEFAULT_MIN_COVERAGE,
                   help="the chosen box is the densest with at least this coverage (default "
                   f"{DEFAULT_MIN_COVERAGE})")
    p.add_argument("--box", type=int, metavar="K", help="choose box K of the trajectory instead")
    p.add_argument("--paste", action="store_true", help="widen the chosen box by pasting")
    p.add_argument("--paste-alpha", type=float,
                   help="share of the strip outside a side one paste adds (default: --alpha)")
    p.add_argument("--objective", choices=OBJECTIVES, default="lenient1",
                   help="peeling criterion: lenient1 (the EMA workbench's default: density "
                   "gained per point removed) or original (Friedman and Fisher: the new box's "
                   "density)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the tables")
    p.add_argument("--plot", type=Path, metavar="DIR",
                   help="write the trajectory and box figures (PNG) into DIR")
    p.set_defaults(handler=run_command)


def run_command(args) -> int:
    import sys

    try:
        d = discover(args.sweep, args.outcome, args.where, alpha=args.alpha,
                     mass_min=args.mass_min, min_coverage=args.min_coverage, box=args.box,
                     paste=args.paste, paste_alpha=args.paste_alpha, objective=args.objective,
                     against=args.against)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    paths = []
    if args.plot:
        from .discover_plots import plot_discovery

        paths = plot_discovery(d, args.plot)
    if args.json:
        doc = json.loads(to_json(d))
        doc["plots"] = [str(p) for p in paths]
        print(json.dumps(doc, indent=2))
    else:
        print(format_text(d))
        for path in paths:
            print(path)
    return 0
