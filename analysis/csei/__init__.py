"""csei for Python: load and run scenarios, and read runs as xarray Datasets and pandas tables.

    import csei
    s = csei.load_scenario("scenarios/teaching/word_of_mouth.toml", set={"time.steps": 60})
    r = csei.run(s, seed=3, threads=2)      # the GIL is released while it runs
    ds = r.to_xarray()                      # named dimensions, coordinates, units
    r.summary()                             # a DataFrame: one row per innovation
    csei.open("output/baseline_eu27.h5")    # the same Dataset from a run file

Runs are bit-identical to `csei run` with the same scenario and seed. The compiled part is
csei._core (sim/python/module.cpp), built by scripts/build.sh into build/python/csei/; an
installed package (`cmake --install`) holds it beside this file. The analysis tools
(figures, comparisons, reports) are the sibling package csei_analysis (`csei.analysis`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = [
    "Scenario",
    "Result",
    "Replicates",
    "ScenarioError",
    "OutputError",
    "load_scenario",
    "run",
    "open",
    "summary",
    "export",
    "model",
    "replicate_seeds",
]


def _import_core():
    try:
        from . import _core  # installed: beside this file
        return _core
    except ImportError:
        pass
    here = Path(__file__).resolve().parent
    builds = [Path(os.environ["CSEI_BUILD_DIR"])] if os.environ.get("CSEI_BUILD_DIR") else []
    builds.append(here.parent.parent / "build")
    for build in builds:
        folder = build / "python" / "csei"
        if any(folder.glob("_core*.so")):
            __path__.append(str(folder))
            from . import _core
            return _core
    raise ImportError(
        "csei: the compiled module csei._core is not built; run `bash scripts/build.sh` "
        "(it needs pybind11-dev and python3-dev, which scripts/setup.sh installs), or set "
        "CSEI_BUILD_DIR to the build folder")


_core = _import_core()
__version__ = _core.version

#: Bad input (a scenario, an override, a data file, a run file): ValueError whose message names
#: the file, line, column and key, like the CLI's; `.problems` lists each as a dict.
ScenarioError = _core.InputError
#: A run file that cannot be written (OSError).
OutputError = _core.OutputError


def _toml(value) -> str:
    """A Python value as a TOML value for an override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if hasattr(value, "item"):  # NumPy scalars
        return _toml(value.item())
    raise TypeError(f"cannot give {type(value).__name__} {value!r} as a scenario value")


def _overrides(values) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, dict):
        raise TypeError("set= takes a dict of key paths to values, e.g. {'time.steps': 60}")
    return [f"{key}={_toml(v)}" for key, v in values.items()]


class Scenario:
    """A validated scenario (immutable). `info` has its name, seed, steps, territories and
    innovations; `text` is the resolved scenario as TOML."""

    def __init__(self, core):
        self._core = core
        self.info = core.info

    name = property(lambda self: self.info["name"])
    seed = property(lambda self: self.info["seed"])
    steps = property(lambda self: self.info["steps"])
    steps_per_year = property(lambda self: self.info["steps_per_year"])
    innovations = property(lambda self: list(self.info["innovation"]))
    territories = property(lambda self: list(self.info["territory"]))
    organisations = property(lambda self: self.info["organisations"])
    represents = property(lambda self: self.info["represents"])
    text = property(lambda self: self.info["source"])
    path = property(lambda self: self._core.path)

    def with_values(self, values: dict) -> "Scenario":
        """The same scenario file with more overrides (checked like `--set`)."""
        if not self._core.path:
            raise ValueError("with_values needs a scenario loaded from a file")
        extra = _overrides(values)
        return Scenario(_core.load_scenario(self._core.path, list(self._core.overrides) + extra))

    def __repr__(self) -> str:
        return (f"<csei.Scenario {self.name!r}: {self.organisations:,} organisations, "
                f"{len(self.territories)} territories, {len(self.innovations)} innovations, "
                f"{self.steps} steps, seed {self.seed}>")


def load_scenario(path, set: dict | None = None) -> Scenario:
    """Reads and validates a scenario file, with `set` as `--set` overrides
    ({"innovations[0].q": 0.5, "network.kind": "complete"}). Raises ScenarioError with the
    CLI's messages (file, line, column, key)."""
    path = os.fspath(path)
    return Scenario(_core.load_scenario(path, _overrides(set)))


def _scenario(scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise TypeError("scenario: give a csei.Scenario or the path of a scenario file")


class Result:
    """One run: `series` (name -> read-only NumPy array over the run's memory, [step, ...]),
    `metrics` ("<innovation>.<metric>" -> value), `summary()`, `to_xarray()`."""

    def __init__(self, core, scenario: Scenario):
        self._core = core
        self.scenario = scenario
        self._series = core.series
        self.series = {name: s["data"] for name, s in self._series.items()}
        self.organisations = core.organisations
        self.links = core.links  # -1: a complete network
        self.threads = core.threads
        self.policy_spending = core.policy_spending
        info = core.scenario
        self.seed = info["seed"]
        self._info = info
        self._summary = core.summary

    @property
    def metrics(self) -> dict:
        """Every summary metric of every innovation, named "<innovation>.<metric>" as sweeps
        and `csei run --format json` name them; steps never reached are NaN."""
        out = {}
        for metric, d in self._summary.items():
            for name, v in zip(self._info["innovation"], d["values"]):
                out[f"{name}.{metric}"] = math.nan if d["step"] and v < 0 else v
        out["policy_spending_eur"] = self.policy_spending
        return out

    def summary(self, real: bool = False):
        """The summary metrics as a DataFrame (rows: innovations; columns: metrics; units in
        `.attrs["units"]`); `real=True` multiplies the figures that stand for real entities by
        the organisations each model organisation represents."""
        values = {m: d["values"] for m, d in self._summary.items()}
        meta = {m: (d["units"], d["step"], d["real"]) for m, d in self._summary.items()}
        return _summary_frame(self._info["innovation"], values, meta,
                              self._info["represents"] if real else 1.0)

    def to_xarray(self):
        """The series as an xarray.Dataset with dimensions step, innovation, territory,
        cluster, legal_form and event, their coordinates (year, territory names) and each
        series' units and description; identical to csei.open() of the run's file."""
        info = self._info
        arrays = {name: (tuple(s["dims"]), s["data"], s["units"], s["description"])
                  for name, s in self._series.items()}
        coords = dict(steps=info["steps"], steps_per_year=info["steps_per_year"],
                      innovation=list(info["innovation"]), territory=list(info["territory"]),
                      territory_name=list(info["territory_name"]), cluster=self._core.clusters,
                      legal_form=list(_LEGAL_FORMS), event=list(info["event"]))
        attrs = dict(scenario_name=info["name"], seed=info["seed"], steps=info["steps"],
                     steps_per_year=info["steps_per_year"], represents=info["represents"],
                     organisations=self.organisations, links=self.links)
        return _dataset(arrays, coords, attrs)

    def __repr__(self) -> str:
        return (f"<csei.Result {self.scenario.name!r} seed {self.seed}: "
                f"{self.organisations:,} organisations, {self.scenario.steps} steps>")


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """The seeds of `csei run --replicates R --seed S`: S itself for one replicate, else a
    sweep's common seeds (SplitMix64 hashes of S and r; output/SCHEMA.md, "Replicate files")."""
    if replicates < 1:
        raise ValueError(f"replicates: must be at least 1, not {replicates!r}")
    if replicates == 1:
        return [seed]
    return [_core.replicate_seed(seed, r) for r in range(replicates)]


def run(scenario, seed: int | None = None, threads: int = 0, output=None,
        replicates: int | None = None):
    """Runs a scenario (a Scenario or a path) with `seed` (default: the scenario's) on `threads`
    worker threads (0: every core), releasing the GIL; with `output`, also writes the run file
    that `csei run -o` would. Ctrl-C stops the run (KeyboardInterrupt).

    With `replicates=R`, runs the R replicates of `csei run --replicates R` (the same seeds,
    each bit-identical to its single run) one after the other and returns a Replicates."""
    s = _scenario(scenario)
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed: must be a non-negative integer, not {seed!r}")
    if replicates is not None:
        if output:
            raise ValueError("output= writes one run; for a replicate file use "
                             "`csei run --replicates`")
        base = s.seed if seed is None else seed
        seeds = replicate_seeds(base, int(replicates))
        return Replicates([run(s, seed=x, threads=threads) for x in seeds], base)
    if seed is not None and seed != s.seed:
        # Reloaded with the seed as an override, exactly as `csei run --seed` does.
        core = _core.load_scenario(s._core.path, list(s._core.overrides) + [f"seed={seed}"])
        s = Scenario(core)
    result = _core.run(s._core, None, int(threads), os.fspath(output) if output else "")
    return Result(result, s)


class Replicates:
    """Replicates of one scenario (`run(..., replicates=R)`): `results` (a Result each), `seeds`,
    `to_xarray()` (a leading `replicate` dimension, as csei.open of `csei run --replicates`'
    file), `summary()` (index: replicate seed, innovation) and `metrics` (means)."""

    def __init__(self, results: list, base_seed: int):
        self.results = results
        self.base_seed = base_seed
        self.seeds = [r.seed for r in results]

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i) -> Result:
        return self.results[i]

    @property
    def metrics(self) -> dict:
        """Each metric's mean over the replicates (NaN where any replicate never got there)."""
        import numpy as np

        names = self.results[0].metrics.keys()
        return {n: float(np.mean([r.metrics[n] for r in self.results])) for n in names}

    def summary(self, real: bool = False):
        return _concat_summaries([r.summary(real) for r in self.results], self.seeds)

    def to_xarray(self):
        import numpy as np

        each = [r.to_xarray() for r in self.results]
        first = each[0]
        C = max(ds.sizes["cluster"] for ds in each)
        arrays = {}
        for name, var in first.data_vars.items():
            parts = []
            for ds in each:
                a = ds[name].values
                if "cluster" in var.dims:
                    axis = var.dims.index("cluster")
                    pad = [(0, 0)] * a.ndim
                    pad[axis] = (0, C - a.shape[axis])
                    a = np.pad(a, pad)
                parts.append(a)
            arrays[name] = (("replicate",) + var.dims, np.stack(parts), var.attrs["units"],
                            var.attrs["description"])
        names = []
        for ds in each:
            own = list(ds["cluster"].values)
            names += own + [f"slot-{c}" for c in range(len(own), C)]
        info = self.results[0]._info
        coords = dict(steps=info["steps"], steps_per_year=info["steps_per_year"],
                      innovation=list(info["innovation"]), territory=list(info["territory"]),
                      territory_name=list(info["territory_name"]),
                      cluster=[f"slot-{c}" for c in range(C)], legal_form=list(_LEGAL_FORMS),
                      event=list(info["event"]), replicate=self.seeds, cluster_name=names)
        attrs = dict(scenario_name=info["name"], seed=self.base_seed, steps=info["steps"],
                     steps_per_year=info["steps_per_year"], represents=info["represents"],
                     organisations=self.results[0].organisations, replicates=len(self.results))
        return _dataset(arrays, coords, attrs)

    def __repr__(self) -> str:
        return f"<csei.Replicates {len(self.results)} of {self.results[0].scenario.name!r}>"


# -- reading run files -------------------------------------------------------------------------

_LEGAL_FORMS = tuple(_core.legal_forms)


def _dataset(arrays: dict, coords: dict, attrs: dict):
    """One Dataset layout for runs in memory and run files. A replicate file (or several
    replicates in memory) adds `replicate` (the seeds) and `cluster_name` [replicate, cluster]
    to the coordinates."""
    import numpy as np
    import xarray as xr

    steps = np.arange(coords["steps"] + 1, dtype=np.int64)
    c = {
        "step": ("step", steps),
        "year": ("step", steps / coords["steps_per_year"]),
        "innovation": ("innovation", np.array(coords["innovation"], dtype=object)),
        "territory": ("territory", np.array(coords["territory"], dtype=object)),
        "territory_name": ("territory", np.array(coords["territory_name"], dtype=object)),
        "cluster": ("cluster", np.array(coords["cluster"], dtype=object)),
        "legal_form": ("legal_form", np.array(coords["legal_form"], dtype=object)),
        "event": ("event", np.array(coords["event"], dtype=object)),
    }
    if "replicate" in coords:
        c["replicate"] = ("replicate", np.asarray(coords["replicate"], dtype=np.int64))
        names = np.array(coords["cluster_name"], dtype=object).reshape(
            len(coords["replicate"]), len(coords["cluster"]))
        c["cluster_name"] = (("replicate", "cluster"), names)
    data_vars = {}
    for name, (dims, data, unit, description) in arrays.items():
        data_vars[name] = xr.Variable(dims, data, {"units": unit, "description": description})
    ds = xr.Dataset(data_vars, coords=c, attrs=attrs)
    ds["step"].attrs["units"] = "step"
    ds["year"].attrs["units"] = "year"
    return ds


def _summary_frame(innovations, values: dict, meta: dict, scale: float):
    import numpy as np
    import pandas as pd

    columns = {}
    for metric, v in values.items():
        unit, is_step, real = meta[metric]
        a = np.asarray(v, dtype=float)
        if is_step:
            a = np.where(a < 0, np.nan, a)
        elif real:
            a = a * scale
        columns[metric] = a
    frame = pd.DataFrame(columns, index=pd.Index(list(innovations), name="innovation"))
    frame.attrs["units"] = {m: meta[m][0] for m in values}
    frame.attrs["represents"] = scale
    return frame


def _read(path):
    from csei_analysis.io import RunFileError, open_run

    try:
        return open_run(path)
    except RunFileError as err:
        raise ScenarioError(str(err)) from err


def open(path):
    """A run file as an xarray.Dataset: the same layout as Result.to_xarray() (schema 3 and
    later, whose series have named dimensions); a replicate file (`csei run --replicates`) as
    Replicates.to_xarray(), with the leading dimension `replicate` whose coordinate is the
    seeds."""
    import h5py
    import numpy as np

    from csei_analysis.io import RunFileError, open_runs

    try:  # validated as the analysis package validates run files, each replicate
        runs = open_runs(path)
    except RunFileError as err:
        raise ScenarioError(str(err)) from err
    for r in runs:
        r.close()
    replicated = len(runs) > 1
    with h5py.File(path, "r") as f:
        schema = int(f.attrs.get("schema_version", 0))
        if schema < 3:
            raise ScenarioError(f"{path}: schema {schema} has no named dimensions; rerun it with "
                                f"`csei run --from {path}`")
        arrays = {}
        for group in ("series", "policy"):
            if group not in f:
                continue
            for name, ds in f[group].items():
                dims = tuple(d[0].name.rsplit("/", 1)[-1] if len(d) else "" for d in ds.dims)
                step_axis = 1 if replicated else 0
                if len(dims) <= step_axis or dims[step_axis] != "step" or name in ("step", "year"):
                    continue  # a coordinate, not a series
                arrays[name] = (dims, np.asarray(ds[()]), _decode(ds.attrs.get("units", "")),
                                _decode(ds.attrs.get("description", "")))

        def strings(name):
            return [_decode(v) for v in np.ravel(f[name][()])] if name in f else []

        a = {k: (_decode(v) if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        coords = dict(steps=int(a["steps"]), steps_per_year=float(a["steps_per_year"]),
                      innovation=strings("innovations/name"),
                      territory=strings("territories/code"),
                      territory_name=strings("territories/name"),
                      cluster=strings("series/cluster"),
                      legal_form=strings("series/legal_form") or list(_LEGAL_FORMS),
                      event=strings("policy/event"))
        attrs = dict(scenario_name=_decode(a["scenario_name"]), seed=int(a["seed"]),
                     steps=int(a["steps"]), steps_per_year=float(a["steps_per_year"]),
                     represents=float(a.get("represents", 1.0)),
                     organisations=int(a["organisations"]))
        if replicated:
            coords["replicate"] = [int(v) for v in f["series/replicate"][()]]
            coords["cluster_name"] = strings("series/cluster_name")
            attrs["replicates"] = len(coords["replicate"])
        else:
            attrs["links"] = int(a["links"])
    return _dataset(arrays, coords, attrs)


def _decode(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def summary(path, real: bool = False):
    """A run file's summary metrics as a DataFrame (as Result.summary()); a replicate file's with
    the index (replicate, innovation), the replicate being its seed (as Replicates.summary())."""
    from csei_analysis.io import RunFileError, open_runs

    frames, seeds = [], []
    try:
        runs = open_runs(path)
    except RunFileError as err:
        raise ScenarioError(str(err)) from err
    for run in runs:
        with run as r:
            values, meta = {}, {}
            for m in _core.summary_metrics():
                if r.has(f"summary/{m['name']}"):
                    values[m["name"]] = list(r.read(f"summary/{m['name']}"))
                    meta[m["name"]] = (m["units"], m["step"], m["real"])
            frames.append(_summary_frame(r.innovation_names, values, meta,
                                         float(r.attrs.get("represents", 1.0)) if real else 1.0))
            seeds.append(int(r.attrs["seed"]))
    if len(frames) == 1:
        return frames[0]
    return _concat_summaries(frames, seeds)


def _concat_summaries(frames, seeds):
    import pandas as pd

    out = pd.concat(frames, keys=seeds, names=["replicate", "innovation"])
    out.attrs = dict(frames[0].attrs)
    return out


def export(path, out_dir=None, format: str = "csv") -> list[Path]:
    """As `csei export RUN.h5 --format csv [-o DIR]`: writes <run>_series.csv (one row per
    value: step, year, innovation, territory, group, variable, value, units) and
    <run>_summary.csv into out_dir (default: the run file's folder); returns their paths."""
    if format != "csv":
        raise ValueError(f"format: only 'csv' is supported, not {format!r}")
    path = Path(path)
    folder = Path(out_dir) if out_dir is not None else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(p) for p in _core.export_csv(os.fspath(path), os.fspath(folder))]


# -- a model function for samplers -------------------------------------------------------------

def model(base, outputs, *, seed: int = 1, replicates: int = 1, threads: int = 0,
          set: dict | None = None):
    """A callable from a dict of parameter values (any `--set` key) to a dict of outcomes, for
    external samplers and exploratory modelling (SALib, scipy.stats.qmc, an EMA-workbench-style
    model). `outputs` are metric names ("community_energy.final_share", from Result.metrics);
    each outcome is the mean over the `replicates` runs of `csei run --replicates R --seed seed`
    (the same seeds: replicate_seeds(seed, R); for R = 1 the seed itself).

        f = csei.model("scenarios/teaching/word_of_mouth.toml", ["word_of_mouth.final_share"])
        f({"innovations[0].q": 0.4})   # -> {"word_of_mouth.final_share": 0.87}
    """
    base = os.fspath(base)
    outputs = [outputs] if isinstance(outputs, str) else list(outputs)
    if replicates < 1:
        raise ValueError("replicates: must be at least 1")
    fixed = dict(set or {})
    seeds = replicate_seeds(seed, replicates)
    known = load_scenario(base, fixed)
    names = set_of_metrics(known)
    unknown = [o for o in outputs if o not in names]
    if unknown:
        raise ValueError(f"unknown outcome(s) {unknown}; this scenario's are: "
                         f"{', '.join(sorted(names))}")

    def evaluate(params: dict | None = None) -> dict:
        scenario = load_scenario(base, {**fixed, **(params or {})})
        totals = {o: 0.0 for o in outputs}
        for x in seeds:
            m = run(scenario, seed=x, threads=threads).metrics
            for o in outputs:
                totals[o] += m[o]
        return {o: v / replicates for o, v in totals.items()}

    evaluate.outputs = outputs
    evaluate.base = base
    return evaluate


def set_of_metrics(scenario: Scenario) -> set:
    """The outcome names a run of `scenario` has ("<innovation>.<metric>", and
    policy_spending_eur)."""
    names = {f"{i}.{m['name']}" for i in scenario.innovations for m in _core.summary_metrics()}
    names.add("policy_spending_eur")
    return names


def __getattr__(name):
    if name == "analysis":
        import csei_analysis
        return csei_analysis
    raise AttributeError(f"module 'csei' has no attribute {name!r}")
