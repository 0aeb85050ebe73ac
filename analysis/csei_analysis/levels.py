"""Runs seen at the parent level of their territories (NUTS-2 regions -> countries).

`at_level(run, "country")` returns a view of the run that looks like a run whose territories
are the parents: every dataset with a territory axis is summed over the territories of each
parent (organisations, adopters, members, jobs, ...), lat/lon are the population-weighted
mean of the territories' points, and cluster homes map to their parent. Shares computed from
the view are therefore adopters / organisations of the whole country, as the plots and tables
compute them for territories. Anything else (years, innovations, attributes) is the run's own.
"""

from __future__ import annotations

import numpy as np

from .io import Run, RunFileError

LEVELS = ("territory", "country")
# Summary metrics that count territories: recomputed at the parent level, not read.
_TERRITORY_SUMMARIES = ("summary/territories_reached",)


def at_level(run: Run, level: str):
    """The run itself for "territory", its parent-level view for "country"."""
    if level in (None, "territory"):
        return run
    if level != "country":
        raise ValueError(f"unknown level {level!r} (one of {', '.join(LEVELS)})")
    return ParentView(run)


class ParentView:
    """A run aggregated to the parents of its territories (see the module docstring)."""

    territory_level = "country"

    def __init__(self, run: Run):
        parents = run.territory_parents
        missing = [c for c, p in zip(run.territory_codes, parents) if not p]
        if len(missing) == len(parents):
            raise RunFileError(run.path, "--level country: the run's territories have no parent "
                               "(its territory table has no 'parent' or 'country' column)")
        if missing:
            raise RunFileError(run.path, f"--level country: {len(missing)} territories have no "
                               f"parent (e.g. {', '.join(missing[:3])})")
        names = run.parent_names
        codes = list(names) if names else []
        for p in parents:
            if p not in codes:
                if names:
                    raise RunFileError(run.path, f"territory parent '{p}' is not in /parents/code")
                codes.append(p)
        index = {code: k for k, code in enumerate(codes)}
        self._run = run
        self._cache: dict[str, np.ndarray] = {}
        self.group = np.array([index[p] for p in parents], dtype=np.int64)
        self.territory_codes = codes
        self.territory_names = [names.get(code, code) for code in codes]
        self.territory_parents = [""] * len(codes)
        self.parent_names: dict[str, str] = {}
        self.n_territories = len(codes)
        self.members = {code: [t for t, g in zip(run.territory_codes, self.group) if g == k]
                        for k, code in enumerate(codes)}

    def __getattr__(self, name):
        return getattr(self._run, name)

    @property
    def organisations(self) -> np.ndarray:
        return self.read("territories/organisations")

    @property
    def adopters(self) -> np.ndarray:
        return self.read("series/adopters")

    @property
    def new_adopters(self) -> np.ndarray:
        return self.read("series/new_adopters")

    def has(self, *names: str) -> bool:
        return all(name not in _TERRITORY_SUMMARIES and not name.startswith("parents/")
                   and self._run.has(name) for name in names)

    def get(self, name: str):
        return self.read(name) if self.has(name) else None

    def read(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self._aggregate(name)
        return self._cache[name]

    def _sum(self, values: np.ndarray, axis: int) -> np.ndarray:
        values = np.moveaxis(np.asarray(values), axis, 0)
        out = np.zeros((self.n_territories,) + values.shape[1:], dtype=values.dtype)
        np.add.at(out, self.group, values)
        return np.moveaxis(out, 0, axis)

    def _aggregate(self, name: str) -> np.ndarray:
        run = self._run
        if name == "territories/code":
            return np.array(self.territory_codes, dtype=object)
        if name == "territories/name":
            return np.array(self.territory_names, dtype=object)
        if name == "territories/parent":
            return np.array(self.territory_parents, dtype=object)
        if name in ("territories/organisations", "territories/population"):
            return self._sum(run.read(name), 0)
        if name in ("territories/lat", "territories/lon"):
            weight = run.read("territories/population").astype(float)
            if not (weight > 0).any():
                weight = run.organisations.astype(float)
            weight = np.where(weight > 0, weight, 1e-9)
            total = self._sum(weight, 0)
            return self._sum(run.read(name) * weight, 0) / total
        if name == "clusters/territory":
            return self.group[run.read(name).astype(np.int64)]
        if name in run.series_names and "territory" in run.series_dims(name):
            return self._sum(run.read(name), run.series_dims(name).index("territory"))
        return run.read(name)
