"""Command line of csei_analysis: `python -m csei_analysis plot RUN.h5 [-o OUTDIR]`."""

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
