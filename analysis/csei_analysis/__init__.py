"""Analysis of csei simulation runs: reading run files, summary metrics, figures, comparisons
of scenarios and self-contained HTML reports (`python -m csei_analysis --help`)."""

from .io import Run, RunFileError, open_run, open_runs
from .metrics import summary_table
from .shares import adoption_share_by_territory, adoption_share_total

__all__ = [
    "Run",
    "RunFileError",
    "open_run",
    "open_runs",
    "summary_table",
    "adoption_share_total",
    "adoption_share_by_territory",
]
