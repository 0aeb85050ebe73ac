"""Command line of csei_analysis: `python -m csei_analysis plot RUN.h5 [-o OUTDIR]`,
`python -m csei_analysis sensitivity SWEEP.h5 [...]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .io import RunFileError, open_run

EXIT_RUN_FILE_ERROR = 2


def main(argv=None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m csei_analysis", description="Analyse csei simulation runs."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    plot = commands.add_parser("plot", help="write adoption figures of a run as PNG files")
    plot.add_argument("run", type=Path, metavar="RUN.h5", help="run file written by `csei run`")
    plot.add_argument(
        "-o",
        "--outdir",
        type=Path,
        help="output directory (default: <run directory>/<run stem>_plots)",
    )
    plot.set_defaults(handler=_plot)
    _add_sensitivity_parser(commands)
    return parser


def _plot(args) -> int:
    from .plots import plot_run  # matplotlib is slow to import; only this command needs it

    outdir = args.outdir or args.run.parent / f"{args.run.stem}_plots"
    try:
        with open_run(args.run) as run:
            paths = plot_run(run, outdir)
    except RunFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_RUN_FILE_ERROR
    except OSError as err:
        # Run file read errors arrive as RunFileError, so this is the output side.
        print(f"error: {err.filename or outdir}: {err.strerror or err}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


# ---- sensitivity: indices of a sweep file (csei sweep) ------------------------------------


def _add_sensitivity_parser(commands) -> None:
    sens = commands.add_parser(
        "sensitivity",
        help="Morris or Sobol' indices (or rank correlations) of a sweep file, as a table and PNGs",
    )
    sens.add_argument("sweep", type=Path, metavar="SWEEP.h5", help="file written by `csei sweep`")
    sens.add_argument(
        "--outcome",
        action="append",
        metavar="PATTERN",
        help="outcome name or glob pattern (repeatable; default: every outcome)",
    )
    sens.add_argument(
        "-o", "--outdir", type=Path, help="figures go here (default: <sweep directory>/<stem>_sensitivity)"
    )
    sens.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    sens.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    sens.add_argument("--seed", type=int, default=0, help="bootstrap random seed (default 0)")
    sens.add_argument("--no-plots", action="store_true", help="print the table only")
    sens.set_defaults(handler=_sensitivity)


def _sensitivity(args) -> int:
    from .sensitivity import SweepFileError, analyse, format_table, open_sweep

    try:
        sweep = open_sweep(args.sweep)
        results = analyse(sweep, args.outcome, args.bootstrap, args.confidence, args.seed)
    except SweepFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_RUN_FILE_ERROR
    failed = int((sweep.status == 2).sum())
    print(f"{args.sweep}: {sweep.attrs.get('name')} | {sweep.design} design | {sweep.points} points"
          f" x {sweep.attrs.get('replicates')} replicates"
          + (f" | {failed} failed runs left out" if failed else "") + "\n")
    print(format_table(results, args.confidence))
    if args.no_plots:
        return 0
    from .sensitivity_plots import plot_analyses

    outdir = args.outdir or args.sweep.parent / f"{args.sweep.stem}_sensitivity"
    try:
        for path in plot_analyses(sweep, results, outdir):
            print(path)
    except OSError as err:
        print(f"error: {err.filename or outdir}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0

