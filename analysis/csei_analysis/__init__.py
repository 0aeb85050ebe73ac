"""Analysis of csei simulation runs: reading run files and plotting adoption."""

from .io import Run, RunFileError, open_run
from .shares import adoption_share_by_territory, adoption_share_total

__all__ = [
    "Run",
    "RunFileError",
    "open_run",
    "adoption_share_total",
    "adoption_share_by_territory",
]
