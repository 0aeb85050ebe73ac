"""Opening and validating csei run files (HDF5, schema versions 1 to 4).

Validation looks only at attributes, dataset presence and shapes, so opening
a large run is cheap; a dataset is read on first access, then cached, and the
names of the datasets read are kept in `Run.datasets_read`. Schema 2 is a
superset of 1: its extra datasets are optional here (`Run.has`, `Run.get`),
checked for shape when present, and callers skip what they lack.

Schema 3 has the datasets of schema 2 and describes its own series: each
`/series` dataset has dimension scales attached (`step`, `innovation`,
`territory`, `cluster`, `legal_form`, datasets in `/series` holding the
coordinates) and `units` and `description` attributes. Its series and their
dimensions are taken from the file (`Run.series_names`, `Run.series_dims`,
`Run.units`); for schema 1 and 2 files the same come from the table below.

Schema 5 is a replicate file (`csei run --replicates R`): the datasets of schema 4 with a
leading `replicate` axis (series, summaries, legal-form counts) or, for `/clusters` and
`/events`, one table over the replicates with a `replicate` column. Such a file is read as the
list of its replicate runs (`open_runs`): each is a `Run` of the file and one replicate index,
whose datasets are that replicate's slice and whose `seed`, `links` and `policy_spending` are
that replicate's, so it reads exactly like the single run `csei run --seed <seed>` writes.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3, 4, 5)

REQUIRED_ATTRS = ("steps", "steps_per_year")
TERRITORY_DATASETS = (
    "territories/code",
    "territories/name",
    "territories/organisations",
    "territories/population",
    "territories/lat",
    "territories/lon",
)
INNOVATION_DATASETS = ("innovations/name", "innovations/rule")
SERIES_DATASETS = ("series/adopters", "series/new_adopters")
REQUIRED_DATASETS = TERRITORY_DATASETS + INNOVATION_DATASETS + SERIES_DATASETS

ROGERS_CATEGORIES = (
    "innovators",
    "early_adopters",
    "early_majority",
    "late_majority",
    "laggards",
)
SUMMARY_METRICS = (
    "steps_to_10",
    "steps_to_50",
    "steps_to_90",
    "peak_step",
    "territories_reached",
    "final_share",
    "cluster_advantage",
) + tuple(f"rogers_{c}" for c in ROGERS_CATEGORIES)

# Schema 2 datasets: name -> shape in the letters S1 (steps + 1), I (innovations),
# T (territories), F (legal forms), C (clusters at the end), K (cluster slots of the series:
# K >= C, as slots for clusters that emergence or events could found may stay unused), E (events
# as applied), P (the scenario's [[events]] entries, schema 4's /policy).
# N (the input files in /inputs).
OPTIONAL_SHAPES = {
    "series/aware": "S1 I T",
    "series/abandoned": "S1 I T",
    "series/member_adopters": "S1 I T",
    "series/members": "S1 T",
    "series/adopters_by_form": "S1 I F",
    "series/jobs": "S1 I T",
    "series/impact": "S1 I T",
    "series/transfers": "S1 I T",
    "series/bridge_transfers": "S1 I T",
    "series/distant_transfers": "S1 I T",
    "series/suited_members": "S1 I T",
    "series/cluster_members": "S1 K",
    "series/cluster_adopters": "S1 I K",
    "legal_forms/name": "F",
    "legal_forms/organisations": "F",
    "clusters/name": "C",
    "clusters/territory": "C",
    "clusters/founded": "C",
    "clusters/sector_diversity": "C",
    "innovations/kind": "I",
    "innovations/launch_step": "I",
    "events/step": "E",
    "events/kind": "E",
    "events/target": "E",
    "events/affected": "E",
    "territories/parent": "T",
    "parents/code": "P",
    "parents/name": "P",
    "policy/event": "Q",
    "policy/action": "Q",
    "policy/spending": "S1 Q T",
    "inputs/role": "N",  # the files the scenario was read from (provenance)
    "inputs/path": "N",
    "inputs/content": "N",
    **{f"summary/{name}": "I" for name in SUMMARY_METRICS},
}
# Datasets whose length defines a dimension when present.
DIMENSION_SOURCES = {"F": "legal_forms/name", "C": "clusters/name", "E": "events/step",
                     "P": "parents/code", "Q": "policy/event", "N": "inputs/role"}
# The dimension names of the shape letters of series (schema 3 names them in the file).
DIMENSION_NAMES = {"S1": "step", "I": "innovation", "T": "territory", "F": "legal_form",
                   "K": "cluster"}


class RunFileError(Exception):
    """A run file that cannot be used; the message names the file and the problem."""

    def __init__(self, path, what: str):
        self.path = Path(path)
        self.what = what
        super().__init__(f"{path}: {what}")


def refuse_foreign_data(f: h5py.File, error) -> None:
    """Raises error(what) if the file holds an external link, a virtual dataset or a dataset
    stored in external files: run files are read only from themselves (as csei's C++ readers
    do, h5::refuse_foreign_data). Soft links are not followed."""
    seen = set()

    def walk(group, where):
        for name in group:
            path = f"{where}/{name}"
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise error(f"{path} is an external link to {link.filename}: refused")
            if isinstance(link, h5py.SoftLink):
                continue
            obj = group.get(name)
            if isinstance(obj, h5py.Dataset):
                if obj.is_virtual:
                    raise error(f"{path} is a virtual dataset: refused")
                if obj.external:
                    raise error(f"{path} is stored in external files: refused")
            elif isinstance(obj, h5py.Group) and obj.id.__hash__() not in seen:
                seen.add(obj.id.__hash__())
                walk(obj, path)

    walk(f, "")


def open_run(path, replicate: int | None = None) -> Run:
    """Open and validate a run file; use as a context manager to close it. A replicate file
    needs `replicate` (its index, 0 .. replicates - 1); see `open_runs`."""
    return Run(path, replicate)


def replicate_count(path) -> int:
    """The replicates a run file holds: its `replicates` attribute, 1 for a single run."""
    path = Path(path)
    if not path.is_file() or not h5py.is_hdf5(path):
        return 1  # Run() gives the reason
    try:
        with h5py.File(path, "r") as f:
            raw = _decode(f.attrs.get("replicates", 1))
    except OSError as err:
        raise RunFileError(path, f"cannot open HDF5 file: {err}") from err
    try:
        count = int(raw)
    except (TypeError, ValueError):
        raise RunFileError(path, f"replicates is not an integer: {raw!r}") from None
    if count < 1:
        raise RunFileError(path, f"invalid replicates {count}")
    return count


def open_runs(path) -> list[Run]:
    """The runs of a run file: [the run] for a single run, one per replicate for a replicate
    file (in replicate order). Close each (or enter each in an ExitStack)."""
    count = replicate_count(path)
    if count == 1:
        return [Run(path)]
    runs: list[Run] = []
    try:
        for r in range(count):
            runs.append(Run(path, r))
    except BaseException:
        for run in runs:
            run.close()
        raise
    return runs


class Run:
    """A validated, open run file; datasets are read lazily and cached."""

    def __init__(self, path, replicate: int | None = None):
        self.path = Path(path)
        self.replicate = replicate
        self.replicates = 1
        self.datasets_read: list[str] = []
        self._cache: dict[str, np.ndarray] = {}
        if not self.path.exists():
            raise RunFileError(self.path, "no such file")
        if not self.path.is_file():
            raise RunFileError(self.path, "not a regular file")
        if not h5py.is_hdf5(self.path):
            raise RunFileError(self.path, "not an HDF5 file")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise RunFileError(self.path, f"cannot open HDF5 file: {err}") from err
        try:
            refuse_foreign_data(self._file, self._error)
            self._validate()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    # -- metadata -----------------------------------------------------------

    @cached_property
    def attrs(self) -> dict:
        """All root attributes, with strings decoded; for a replicate, its own `seed`, `links`
        and `policy_spending`, and `replicate` (its index)."""
        attrs = {key: _decode(value) for key, value in self._file.attrs.items()}
        if self.replicated:
            r = self.replicate
            attrs["base_seed"] = attrs.get("seed")
            attrs["seed"] = int(self._file["series/replicate"][r])
            attrs["replicate"] = r
            for name in ("links", "policy_spending"):
                if f"replicates/{name}" in self._file:
                    attrs[name] = self._file[f"replicates/{name}"][r].item()
        return attrs

    @property
    def replicated(self) -> bool:
        """Whether this run is one replicate of a replicate file."""
        return self.replicates > 1

    @property
    def label(self) -> str:
        """The file name, with the replicate for one replicate of a replicate file."""
        if self.replicated:
            return f"{self.path.name} [replicate {self.replicate}]"
        return self.path.name

    @property
    def scenario_name(self) -> str:
        return str(self.attrs.get("scenario_name") or self.path.stem)

    @property
    def years(self) -> np.ndarray:
        """Time of each series row in years; row 0 is the initial state."""
        return np.arange(self.steps + 1) / self.steps_per_year

    @cached_property
    def territory_codes(self) -> list[str]:
        return self._strings("territories/code")

    @cached_property
    def territory_names(self) -> list[str]:
        return self._strings("territories/name")

    @cached_property
    def territory_parents(self) -> list[str]:
        """The parent code of each territory ("" where none; all "" in files without parents)."""
        if not self.has("territories/parent"):
            return [""] * self.n_territories
        return self._strings("territories/parent")

    @cached_property
    def parent_names(self) -> dict[str, str]:
        """Parent code -> name, for the parents in /parents (empty without)."""
        if not self.has("parents/code", "parents/name"):
            return {}
        return dict(zip(self._strings("parents/code"), self._strings("parents/name")))

    @property
    def territory_level(self) -> str:
        """"territory" (the run's own level); a parent-level view says "country"."""
        return "territory"

    @cached_property
    def innovation_names(self) -> list[str]:
        return self._strings("innovations/name")

    @cached_property
    def innovation_rules(self) -> list[str]:
        return self._strings("innovations/rule")

    # -- numeric data -------------------------------------------------------

    @property
    def organisations(self) -> np.ndarray:
        """Organisations per territory, shape [T]."""
        return self.read("territories/organisations")

    @property
    def adopters(self) -> np.ndarray:
        """Adopters at the end of each step, shape [S+1, I, T] (schema 2: current adopters)."""
        return self.read("series/adopters")

    @property
    def new_adopters(self) -> np.ndarray:
        """Adoptions during each step, shape [S+1, I, T]; row 0 holds the pioneers."""
        return self.read("series/new_adopters")

    # -- any dataset ---------------------------------------------------------

    def has(self, *names: str) -> bool:
        """Whether every named dataset is in the file (and was validated)."""
        return all(name in self._datasets for name in names)

    def read(self, name: str) -> np.ndarray:
        """The whole dataset `name` (e.g. "series/jobs"), strings decoded; cached."""
        if name not in self._cache:
            if name not in self._datasets:
                raise self._error(f"missing dataset '/{name}'")
            try:
                value = self._load(name)
            except OSError as err:
                raise self._error(f"cannot read dataset '/{name}': {err}") from err
            if value.dtype.kind in "OS":
                value = np.array([_decode(v) for v in np.ravel(value)],
                                 dtype=object).reshape(value.shape)
            self._cache[name] = value
            self.datasets_read.append(name)
        return self._cache[name]

    def get(self, name: str):
        """The dataset `name` if the file has it, else None."""
        return self.read(name) if name in self._datasets else None

    # -- internals ----------------------------------------------------------

    def _error(self, what: str) -> RunFileError:
        where = (f"replicate {self.replicate}: "
                 if self.replicates > 1 and self.replicate is not None else "")
        return RunFileError(self.path, where + what)

    # -- replicate files: this replicate's part of each dataset ----------------

    def _rows(self, name: str):
        """For /clusters and /events of a replicate file: this replicate's rows, else None."""
        if not self.replicated or not name.startswith(("clusters/", "events/")):
            return None
        group = name.split("/")[0]
        if group not in self._row_cache:
            column = self._file.get(f"{group}/replicate")
            if not isinstance(column, h5py.Dataset) or column.ndim != 1:
                raise self._error(f"missing dataset '/{group}/replicate'")
            self._row_cache[group] = np.flatnonzero(column[()] == self.replicate)
        return self._row_cache[group]

    def _per_replicate(self, name: str, dataset: h5py.Dataset) -> bool:
        """Whether `name` has a leading replicate axis (in a replicate file)."""
        if not self.replicated:
            return False
        if name.startswith("summary/") or name == "legal_forms/organisations":
            return True
        if name.startswith(("series/", "policy/")) and dataset.ndim >= 1:
            dim = dataset.dims[0]
            return len(dim) > 0 and dim[0].name == "/series/replicate"
        return False

    @cached_property
    def _own_slots(self):
        """A replicate's own cluster slots (`/replicates/cluster_slots`), or None."""
        if not self.replicated or "replicates/cluster_slots" not in self._file:
            return None
        return int(self._file["replicates/cluster_slots"][self.replicate])

    def _cluster_last(self, name: str, dataset: h5py.Dataset) -> bool:
        """Whether the last axis of a replicated series is the cluster axis."""
        dim = dataset.dims[dataset.ndim - 1] if dataset.ndim else ()
        return len(dim) > 0 and dim[0].name == "/series/cluster"

    def _shape(self, dataset: h5py.Dataset) -> tuple:
        """The shape of this run's part of a dataset."""
        name = dataset.name.lstrip("/")
        rows = self._rows(name)
        if rows is not None:
            return (len(rows),) + dataset.shape[1:]
        slots = self._own_slots
        if name == "series/cluster" and slots is not None:
            return (slots,)
        if self._per_replicate(name, dataset):
            if dataset.shape[0] != self.replicates:
                raise self._error(f"dataset '/{name}' has {dataset.shape[0]} replicates, "
                                  f"expected {self.replicates}")
            shape = dataset.shape[1:]
            if slots is not None and self._cluster_last(name, dataset):
                if slots > shape[-1]:
                    raise self._error(f"replicate has {slots} cluster slots, '/{name}' "
                                      f"{shape[-1]}")
                shape = shape[:-1] + (slots,)
            return shape
        return dataset.shape

    def _load(self, name: str) -> np.ndarray:
        dataset = self._datasets[name]
        rows = self._rows(name)
        if rows is not None:
            return dataset[()][rows]
        slots = self._own_slots
        if name == "series/cluster" and slots is not None:
            # The replicate's cluster names, as its single run's scale holds them.
            return self._file["series/cluster_name"][self.replicate][:slots]
        if self._per_replicate(name, dataset):
            value = dataset[self.replicate]
            if slots is not None and self._cluster_last(name, dataset):
                value = value[..., :slots]
            return value
        return dataset[()]

    def _validate(self) -> None:
        attrs = self._file.attrs
        if "schema_version" not in attrs:
            raise self._error("missing root attribute 'schema_version'")
        raw_version = _decode(attrs["schema_version"])
        try:
            self.schema_version = int(raw_version)
        except (TypeError, ValueError):
            raise self._error(f"schema_version is not an integer: {raw_version!r}") from None
        if self.schema_version not in SUPPORTED_SCHEMA_VERSIONS:
            supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
            raise self._error(
                f"unsupported schema_version {self.schema_version} (supported: {supported})"
            )
        for name in REQUIRED_ATTRS:
            if name not in attrs:
                raise self._error(f"missing root attribute '{name}'")
        try:
            self.steps = int(_decode(attrs["steps"]))
            self.steps_per_year = float(_decode(attrs["steps_per_year"]))
        except (TypeError, ValueError, OverflowError):
            raise self._error(
                f"steps and steps_per_year must be numbers, got {_decode(attrs['steps'])!r} "
                f"and {_decode(attrs['steps_per_year'])!r}") from None
        if self.steps < 0:
            raise self._error(f"invalid steps {self.steps}")
        self._row_cache: dict[str, np.ndarray] = {}
        raw = _decode(attrs.get("replicates", 1))
        try:
            self.replicates = int(raw)
        except (TypeError, ValueError):
            raise self._error(f"replicates is not an integer: {raw!r}") from None
        if self.replicates < 1 or (self.replicates > 1 and self.schema_version < 5):
            raise self._error(f"invalid replicates {self.replicates} for schema "
                              f"{self.schema_version}")
        if self.replicates > 1:
            if self.replicate is None:
                raise self._error(f"holds {self.replicates} replicates: open one of them "
                                  "(open_run(path, replicate)) or all (open_runs(path))")
            if not 0 <= self.replicate < self.replicates:
                raise self._error(f"no replicate {self.replicate} (it holds "
                                  f"{self.replicates})")
            seeds = self._file.get("series/replicate")
            if not isinstance(seeds, h5py.Dataset) or seeds.shape != (self.replicates,):
                raise self._error("dataset '/series/replicate' is missing or not "
                                  f"[{self.replicates}]")
        elif self.replicate not in (None, 0):
            raise self._error(f"no replicate {self.replicate}: a single run")
        if not np.isfinite(self.steps_per_year) or self.steps_per_year <= 0:
            raise self._error(f"invalid steps_per_year {self.steps_per_year}")

        datasets = {name: self._dataset(name) for name in REQUIRED_DATASETS}
        self.n_territories = self._length(datasets["territories/code"])
        self.n_innovations = self._length(datasets["innovations/name"])
        if self.n_territories == 0:
            raise self._error("no territories")
        if self.n_innovations == 0:
            raise self._error("no innovations")
        expected = {name: (self.n_territories,) for name in TERRITORY_DATASETS}
        expected.update({name: (self.n_innovations,) for name in INNOVATION_DATASETS})
        series_shape = (self.steps + 1, self.n_innovations, self.n_territories)
        expected.update({name: series_shape for name in SERIES_DATASETS})

        # Dimensions after step of each series (schema 1 and 2: from the tables here).
        self._series_dims = {name: ("step", "innovation", "territory") for name in SERIES_DATASETS}
        if self.schema_version >= 2:
            sizes = {"S1": self.steps + 1, "I": self.n_innovations, "T": self.n_territories}
            for letter, source in DIMENSION_SOURCES.items():
                if source in self._file:
                    sizes[letter] = self._length(self._dataset(source))
            if "series/cluster_members" in self._file:
                shape = self._shape(self._dataset("series/cluster_members"))
                sizes["K"] = shape[-1] if len(shape) == 2 else -1
                if "C" in sizes and sizes["K"] < sizes["C"]:
                    raise self._error(
                        f"dataset '/series/cluster_members' has {sizes['K']} cluster columns "
                        f"for {sizes['C']} clusters")
            if self.schema_version >= 3:
                self._validate_scales(sizes, datasets, expected)
            for name, letters in OPTIONAL_SHAPES.items():
                if name not in self._file or name in self._series_dims:
                    continue
                needed = [x for x in letters.split() if x not in sizes]
                if needed:
                    source = DIMENSION_SOURCES.get(needed[0], "series/cluster_members")
                    raise self._error(f"dataset '/{name}' needs '/{source}', which is missing")
                datasets[name] = self._dataset(name)
                expected[name] = tuple(sizes[x] for x in letters.split())
                if name.startswith("series/"):
                    self._series_dims[name] = tuple(DIMENSION_NAMES[x] for x in letters.split())

        for name, shape in expected.items():
            if self._shape(datasets[name]) != shape:
                raise self._error(
                    f"dataset '/{name}' has shape {self._shape(datasets[name])}, expected "
                    f"{shape}")
        for name in SERIES_DATASETS + ("territories/organisations",):
            if datasets[name].dtype.kind not in "iu":
                raise self._error(
                    f"dataset '/{name}' has type {datasets[name].dtype}, expected integers"
                )
        counts = datasets["territories/organisations"][...]
        if counts.size and counts.min() < 0:
            raise self._error(
                f"dataset '/territories/organisations' has a negative count ({counts.min()})")
        self._datasets = datasets
        self._cache["territories/organisations"] = counts  # read once, here
        self.datasets_read.append("territories/organisations")

    def _validate_scales(self, sizes: dict, datasets: dict, expected: dict) -> None:
        """Schema 3: every /summary dataset is [I]; every dataset in /series that is neither a dimension scale nor a coordinate
        named by a `coordinates` attribute is a series; its dimensions are its attached scales,
        and its shape must be theirs. The scales' lengths must match the file's tables."""
        group = self._file["series"]
        members = {name: obj for name, obj in group.items() if isinstance(obj, h5py.Dataset)}
        scales = {name: obj for name, obj in members.items() if _is_scale(obj)}
        scales.pop("replicate", None)  # a replicate file's: this run is one replicate
        for letter, dim in DIMENSION_NAMES.items():
            if dim not in scales:
                raise self._error(f"missing dimension scale '/series/{dim}'")
            length = self._length(scales[dim])
            if letter == "K" and "C" in sizes and length < sizes["C"]:
                raise self._error(
                    f"dimension scale '/series/cluster' has {length} cluster slots "
                    f"for {sizes['C']} clusters")
            if letter in sizes and letter != "K" and sizes[letter] != length:
                raise self._error(
                    f"dimension scale '/series/{dim}' has length {length}, expected "
                    f"{sizes[letter]}")
            sizes[letter] = length
        coordinates = set()
        for obj in members.values():
            coordinates.update(str(_decode(obj.attrs.get("coordinates", ""))).split())
        for name, obj in members.items():
            if name in scales or (self.replicated and name in ("replicate", "cluster_name")):
                continue
            dims = []
            for axis, dim in enumerate(obj.dims):
                if len(dim) == 0:
                    raise self._error(
                        f"dataset '/series/{name}' has no dimension scale on axis {axis}")
                dims.append(dim[0].name.rsplit("/", 1)[-1])
            if self.replicated and dims and dims[0] == "replicate":
                dims = dims[1:]  # this replicate's part: the leading replicate axis is taken
            elif self.replicated and name not in coordinates:
                raise self._error(f"dataset '/series/{name}' has no replicate axis")
            full = f"series/{name}"
            datasets[full] = obj
            expected[full] = tuple(self._length(scales[d]) if d in scales else -1 for d in dims)
            if name not in coordinates:
                self._series_dims[full] = tuple(dims)
        if "summary" in self._file:
            for name, obj in self._file["summary"].items():
                if isinstance(obj, h5py.Dataset):
                    datasets[f"summary/{name}"] = obj
                    # Schema 4: per-territory summaries are [I, T].
                    per_territory = self.schema_version >= 4 and name.startswith("territory_")
                    expected[f"summary/{name}"] = (
                        (self.n_innovations, self.n_territories) if per_territory
                        else (self.n_innovations,))
        for name in SERIES_DATASETS:
            if self._series_dims.get(name) != ("step", "innovation", "territory"):
                raise self._error(f"dataset '/{name}' has dimensions "
                                  f"{self._series_dims.get(name)}, expected "
                                  "('step', 'innovation', 'territory')")

    # -- self-description (schema 3 from the file, else the tables here) ------

    @property
    def series_names(self) -> list[str]:
        """The series in the file, as "series/<name>" (schema 3: every one the file declares)."""
        return list(self._series_dims)

    def series_dims(self, name: str) -> tuple:
        """The dimension names of a series, e.g. ("step", "innovation", "territory")."""
        if name not in self._series_dims:
            raise self._error(f"no series '/{name}'")
        return self._series_dims[name]

    def units(self, name: str):
        """The `units` attribute of a dataset (schema 3), or None."""
        if name not in self._datasets:
            return None
        value = self._datasets[name].attrs.get("units")
        return None if value is None else str(_decode(value))

    def description(self, name: str):
        """The `description` attribute of a dataset (schema 3), or None."""
        if name not in self._datasets:
            return None
        value = self._datasets[name].attrs.get("description")
        return None if value is None else str(_decode(value))

    def _dataset(self, name: str) -> h5py.Dataset:
        try:
            obj = self._file[name]
        except (KeyError, TypeError):
            raise self._error(f"missing dataset '/{name}'") from None
        if not isinstance(obj, h5py.Dataset):
            raise self._error(f"'/{name}' is not a dataset")
        return obj

    def _length(self, dataset: h5py.Dataset) -> int:
        shape = self._shape(dataset)
        if len(shape) != 1:
            raise self._error(f"dataset '{dataset.name}' has shape {shape}, expected 1-D")
        return shape[0]

    def _strings(self, name: str) -> list[str]:
        return [str(v) for v in self.read(name)]


def _is_scale(dataset: h5py.Dataset) -> bool:
    return _decode(dataset.attrs.get("CLASS", b"")) == "DIMENSION_SCALE"


def _decode(value):
    # h5py returns variable-length strings as bytes in datasets, str in attributes.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value
