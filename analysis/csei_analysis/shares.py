"""Adoption shares behind the figures, kept apart from drawing so they can be tested."""

from __future__ import annotations

import numpy as np

from .io import Run

MEMBER_DATASETS = ("series/member_adopters", "series/members")
FORM_DATASETS = ("series/adopters_by_form", "legal_forms/name", "legal_forms/organisations")


def adoption_share_total(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Return (years[S+1], shares[I, S+1]): adopters in all territories / all organisations."""
    adopters = run.adopters.sum(axis=2).T
    return run.years, _share(adopters, run.organisations.sum())


def adoption_share_by_territory(run: Run) -> tuple[np.ndarray, np.ndarray]:
    """Return (years[S+1], shares[I, T, S+1]): adopters / organisations per territory."""
    adopters = run.adopters.transpose(1, 2, 0)
    return run.years, _share(adopters, run.organisations[np.newaxis, :, np.newaxis])


def adoption_share_members(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (years, members[I, S+1], non_members[I, S+1]) adoption shares (schema 2).

    Members are cluster members in all territories; non-members the other organisations.
    """
    member_adopters = run.read("series/member_adopters").sum(axis=2).T
    members = run.read("series/members").sum(axis=1)
    others = run.organisations.sum() - members
    return (
        run.years,
        _share(member_adopters, members[np.newaxis, :]),
        _share(run.adopters.sum(axis=2).T - member_adopters, others[np.newaxis, :]),
    )


def adoption_share_by_form(run: Run, step: int) -> tuple[list[str], np.ndarray]:
    """Return (legal form names[F], shares[I, F]): adopters / organisations of each form at step."""
    adopters = run.read("series/adopters_by_form")[step]
    return list(run.read("legal_forms/name")), _share(
        adopters, run.read("legal_forms/organisations")[np.newaxis, :]
    )


def series_total(run: Run, name: str) -> np.ndarray:
    """A [S+1, I, T] series summed over territories, as [I, S+1] floats."""
    return run.read(name).sum(axis=2).T.astype(float)


def _share(adopters: np.ndarray, organisations) -> np.ndarray:
    # A territory without organisations has no share; NaN leaves a gap in the
    # figure rather than a misleading zero or a division warning.
    adopters = adopters.astype(float)
    organisations = np.broadcast_to(np.asarray(organisations, dtype=float), adopters.shape)
    out = np.full(adopters.shape, np.nan)
    return np.divide(adopters, organisations, out=out, where=organisations > 0)
