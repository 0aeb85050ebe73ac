"""Adoption shares behind the figures, kept apart from drawing so they can be tested."""

from __future__ import annotations

import numpy as np

from .io import Run


def adoption_share_total(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Return (years[S+1], shares[I, S+1]): adopters in all territories / all organisations."""
    adopters = run.adopters.sum(axis=2).T
    return run.years, _share(adopters, run.organisations.sum())


def adoption_share_by_territory(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Return (years[S+1], shares[I, T, S+1]): adopters / organisations per territory."""
    adopters = run.adopters.transpose(1, 2, 0)
    return run.years, _share(adopters, run.organisations[np.newaxis, :, np.newaxis])


def _share(adopters: np.ndarray, organisations) -> np.ndarray:
    # A territory without organisations has no share; NaN leaves a gap in the
    # figure rather than a misleading zero or a division warning.
    adopters = adopters.astype(float)
    organisations = np.broadcast_to(np.asarray(organisations, dtype=float), adopters.shape)
    out = np.full(adopters.shape, np.nan)
    return np.divide(adopters, organisations, out=out, where=organisations > 0)
