"""Opening and validating csei run files (HDF5, schema versions 1 and 2).

Validation looks only at attributes, dataset presence and shapes, so opening
a large run is cheap; a dataset is read on first access, then cached, and the
names of the datasets read are kept in `Run.datasets_read`. Schema 2 is a
superset of 1: its extra datasets are optional here (`Run.has`, `Run.get`),
checked for shape when present, and callers skip what they lack.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

SUPPORTED_SCHEMA_VERSIONS = (1, 2)

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
# K >= C, as slots for clusters that emergence or events could found may stay unused), E (events).
OPTIONAL_SHAPES = {
    "series/aware": "S1 I T",
    "series/abandoned": "S1 I T",
    "series/member_adopters": "S1 I T",
    "series/members": "S1 T",
    "series/adopters_by_form": "S1 I F",
    "series/jobs": "S1 I T",
    "series/impact": "S1 I T",
    "series/transfers": "S1 I T",
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
    **{f"summary/{name}": "I" for name in SUMMARY_METRICS},
}
# Datasets whose length defines a dimension when present.
DIMENSION_SOURCES = {"F": "legal_forms/name", "C": "clusters/name", "E": "events/step"}


class RunFileError(Exception):
    """A run file that cannot be used; the message names the file and the problem."""

    def __init__(self, path, what: str):
        self.path = Path(path)
        self.what = what
        super().__init__(f"{path}: {what}")


def open_run(path) -> Run:
    """Open and validate a run file; use as a context manager to close it."""
    return Run(path)


class Run:
    """A validated, open run file; datasets are read lazily and cached."""

    def __init__(self, path):
        self.path = Path(path)
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
        """All root attributes, with strings decoded."""
        return {key: _decode(value) for key, value in self._file.attrs.items()}

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
                value = self._datasets[name][()]
            except OSError as err:
                raise self._error(f"cannot read dataset '/{name}': {err}") from err
            if value.dtype.kind in "OS":
                value = np.array([_decode(v) for v in value], dtype=object)
            self._cache[name] = value
            self.datasets_read.append(name)
        return self._cache[name]

    def get(self, name: str):
        """The dataset `name` if the file has it, else None."""
        return self.read(name) if name in self._datasets else None

    # -- internals ----------------------------------------------------------

    def _error(self, what: str) -> RunFileError:
        return RunFileError(self.path, what)

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
        self.steps = int(attrs["steps"])
        self.steps_per_year = float(attrs["steps_per_year"])
        if self.steps < 0:
            raise self._error(f"invalid steps {self.steps}")
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

        if self.schema_version >= 2:
            sizes = {"S1": self.steps + 1, "I": self.n_innovations, "T": self.n_territories}
            for letter, source in DIMENSION_SOURCES.items():
                if source in self._file:
                    sizes[letter] = self._length(self._dataset(source))
            if "series/cluster_members" in self._file:
                shape = self._dataset("series/cluster_members").shape
                sizes["K"] = shape[-1] if len(shape) == 2 else -1
                if "C" in sizes and sizes["K"] < sizes["C"]:
                    raise self._error(
                        f"dataset '/series/cluster_members' has {sizes['K']} cluster columns "
                        f"for {sizes['C']} clusters")
            for name, letters in OPTIONAL_SHAPES.items():
                if name not in self._file:
                    continue
                needed = [x for x in letters.split() if x not in sizes]
                if needed:
                    source = DIMENSION_SOURCES.get(needed[0], "series/cluster_members")
                    raise self._error(f"dataset '/{name}' needs '/{source}', which is missing")
                datasets[name] = self._dataset(name)
                expected[name] = tuple(sizes[x] for x in letters.split())

        for name, shape in expected.items():
            if datasets[name].shape != shape:
                raise self._error(
                    f"dataset '/{name}' has shape {datasets[name].shape}, expected {shape}"
                )
        for name in SERIES_DATASETS + ("territories/organisations",):
            if datasets[name].dtype.kind not in "iu":
                raise self._error(
                    f"dataset '/{name}' has type {datasets[name].dtype}, expected integers"
                )
        self._datasets = datasets

    def _dataset(self, name: str) -> h5py.Dataset:
        try:
            obj = self._file[name]
        except (KeyError, TypeError):
            raise self._error(f"missing dataset '/{name}'") from None
        if not isinstance(obj, h5py.Dataset):
            raise self._error(f"'/{name}' is not a dataset")
        return obj

    def _length(self, dataset: h5py.Dataset) -> int:
        if dataset.ndim != 1:
            raise self._error(f"dataset '{dataset.name}' has shape {dataset.shape}, expected 1-D")
        return dataset.shape[0]

    def _strings(self, name: str) -> list[str]:
        return [str(v) for v in self.read(name)]


def _decode(value):
    # h5py returns variable-length strings as bytes in datasets, str in attributes.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value
