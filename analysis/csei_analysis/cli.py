"""Command line of csei_analysis: `python -m csei_analysis COMMAND ...` (plot, compare, report,
sensitivity).

Each subcommand is one function decorated with @command that adds its parser and returns
its handler; unreadable run files anywhere end in `error: <file>: <what>` and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from .io import RunFileError, open_run, open_runs, replicate_count

EXIT_RUN_FILE_ERROR = 2
COMMANDS = []


def command(add):
    """Register a subcommand: add(subparsers) adds its parser and sets `handler`."""
    COMMANDS.append(add)
    return add


def main(argv=None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except RunFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_RUN_FILE_ERROR
    except BrokenPipeError:  # e.g. `... | head`: stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:
        # Run file read errors arrive as RunFileError, so this is the output side.
        print(f"error: {err.filename or '-'}: {err.strerror or err}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csei-analysis", description="Analyse csei simulation runs (HDF5 run files)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def _run_argument(parser, nargs=None) -> None:
    parser.add_argument("runs" if nargs else "run", type=Path, nargs=nargs, metavar="RUN.h5",
                        help="run file written by `csei run`")


def _step_argument(parser) -> None:
    parser.add_argument("--step", type=int, help="step shown on the map and the legal-form "
                        "breakdown (default: the last; negative counts from the end)")


def _level_argument(parser) -> None:
    parser.add_argument("--level", choices=("territory", "country"), default="territory",
                        help="territory level of the figures and tables: the run's own "
                        "(default) or the parents of its territories (NUTS-2 regions -> "
                        "countries)")


def _replicate_argument(parser) -> None:
    parser.add_argument("--replicate", type=int, metavar="R",
                        help="for a replicate file (csei run --replicates): the replicate to "
                        "show, 0 .. replicates - 1 (default 0)")


def _open_one(path, replicate):
    """The run at `path`, or one replicate of a replicate file (default the first, with a note
    saying so)."""
    count = replicate_count(path)
    if count == 1:
        if replicate not in (None, 0):
            raise RunFileError(path, f"--replicate {replicate}: not a replicate file")
        return open_run(path)
    if replicate is None:
        replicate = 0
        run = open_run(path, 0)
        _notes([f"{path} holds {count} replicates: showing replicate 0 (seed "
                f"{run.attrs['seed']}); --replicate R for another"])
        return run
    if not 0 <= replicate < count:
        raise RunFileError(path, f"--replicate {replicate}: the file holds replicates 0 to "
                           f"{count - 1}")
    return open_run(path, replicate)


def _enter_runs(stack, paths) -> list:
    """Every run of the files at `paths`, a replicate file as the list of its replicates, each
    closed when `stack` closes."""
    runs = []
    for path in paths:
        runs += [stack.enter_context(run) for run in open_runs(path)]
    return runs


def _notes(notes) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


# -- plot ---------------------------------------------------------------------


@command
def _add_plot(commands) -> None:
    plot = commands.add_parser("plot", help="write the figures of a run as PNG files")
    _run_argument(plot)
    plot.add_argument("-o", "--outdir", type=Path,
                      help="output directory (default: <run directory>/<run stem>_plots)")
    _step_argument(plot)
    _level_argument(plot)
    plot.add_argument("--no-gif", action="store_true", help="skip the animated map (GIF)")
    _replicate_argument(plot)
    plot.set_defaults(handler=_plot)


def _plot(args) -> int:
    from .levels import at_level
    from .plots import plot_run  # matplotlib is slow to import; only some commands need it

    outdir = args.outdir or args.run.parent / f"{args.run.stem}_plots"
    with _open_one(args.run, args.replicate) as run:
        paths, notes = plot_run(at_level(run, args.level), outdir, args.step,
                                gif=not args.no_gif)
    for path in paths:
        print(path)
    _notes(notes)
    return 0


# -- compare --------------------------------------------------------------------


@command
def _add_compare(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare a base scenario with variants (optionally with replicates)",
        description="Either BASE.h5 VARIANT.h5 [VARIANT.h5 ...] (one file each), or replicate "
        "sets: --base B1.h5 B2.h5 ... --variant V1.h5 V2.h5 ... [--variant W1.h5 ...]. A "
        "replicate file (csei run --replicates) counts as its replicates: compare B.h5 V.h5 "
        "with two replicate files pairs their replicates by seed.",
    )
    compare.add_argument("runs", type=Path, nargs="*", metavar="RUN.h5",
                         help="base run, then one run per variant")
    compare.add_argument("--base", type=Path, nargs="+", metavar="RUN.h5",
                         help="replicates of the base scenario")
    compare.add_argument("--variant", type=Path, nargs="+", action="append", metavar="RUN.h5",
                         help="replicates of one variant (repeat for more variants)")
    compare.add_argument("-o", "--outdir", type=Path,
                         help="output directory (default: <base directory>/<base stem>_compare)")
    _level_argument(compare)
    compare.set_defaults(handler=_compare, parser=compare)


def _compare(args) -> int:
    if args.runs and (args.base or args.variant):
        args.parser.error("give either runs or --base/--variant, not both")
    if args.runs:
        if len(args.runs) < 2:
            args.parser.error("need a base run and at least one variant run")
        sets = [[path] for path in args.runs]
    elif args.base and args.variant:
        sets = [args.base, *args.variant]
    else:
        args.parser.error("need BASE.h5 VARIANT.h5, or --base ... --variant ...")

    from contextlib import ExitStack

    from .compare import (
        COMPARE_CSV,
        COMPARE_PNG,
        compare_metrics,
        format_comparison,
        make_groups,
        pairing,
        plot_compare,
    )
    from .returns import (
        ILLUSTRATIVE,
        RETURNS_CSV,
        RETURNS_PNG,
        format_returns,
        plot_returns,
        returns_table,
    )

    outdir = args.outdir or sets[0][0].parent / f"{sets[0][0].stem}_compare"
    with ExitStack() as stack:
        groups = make_groups([_enter_runs(stack, s) for s in sets])
        table = compare_metrics(groups)
        outdir.mkdir(parents=True, exist_ok=True)
        plot_compare(groups, outdir / COMPARE_PNG)
        if args.level != "territory":
            from .regional import compare_by_territory

            by_level = outdir / f"compare_by_{args.level}.csv"
            compare_by_territory(groups, args.level).to_csv(by_level, index=False)
        returns = returns_table(groups, pairing)
        if not returns.empty and not (returns.extra_spending_eur.abs() > 0).any():
            returns = returns.iloc[0:0]  # no policy spending on either side: nothing to return
        if not returns.empty:
            plot_returns(returns, outdir / RETURNS_PNG, ILLUSTRATIVE)
    table.to_csv(outdir / COMPARE_CSV, index=False)
    shown = format_comparison(table)
    for label, rows in shown.groupby("variant", sort=False):
        print(f"{label} vs {groups[0].label}:")
        print(rows.drop(columns="variant").to_string(index=False))
        print()
    if not returns.empty:
        returns.to_csv(outdir / RETURNS_CSV, index=False)
        print(f"Returns per million euros of extra policy spending (real figures; "
              f"95 % intervals over paired replicates; {ILLUSTRATIVE}):")
        print(format_returns(returns).to_string(index=False))
        print()
    print(outdir / COMPARE_PNG)
    print(outdir / COMPARE_CSV)
    if args.level != "territory":
        print(outdir / f"compare_by_{args.level}.csv")
    if not returns.empty:
        print(outdir / RETURNS_PNG)
        print(outdir / RETURNS_CSV)
    return 0


# -- territories ------------------------------------------------------------------


@command
def _add_territories(commands) -> None:
    terr = commands.add_parser(
        "territories",
        help="metrics per territory (or per country): years to 10 % and 50 %, shares at chosen "
        "years; --within compares the regions of one country",
    )
    _run_argument(terr)
    _level_argument(terr)
    terr.add_argument("--years", type=float, nargs="+", metavar="YEAR",
                      help="years of the shares (default: a quarter, half, three quarters and "
                      "all of the run)")
    terr.add_argument("--within", metavar="CODE",
                      help="only the regions of this parent (country) code, with a figure of "
                      "their adoption curves and the country's")
    terr.add_argument("-o", "--outdir", type=Path,
                      help="output directory (default: <run directory>/<run stem>_territories)")
    _replicate_argument(terr)
    terr.set_defaults(handler=_territories, parser=terr)


def _territories(args) -> int:
    from .levels import at_level
    from .regional import plot_within, territory_metrics, within

    if args.within and args.level != "territory":
        args.parser.error("--within compares the regions of a country: use it without --level")
    outdir = args.outdir or args.run.parent / f"{args.run.stem}_territories"
    with _open_one(args.run, args.replicate) as run:
        view = at_level(run, args.level)
        table = territory_metrics(view, args.years)
        figure = None
        if args.within:
            codes = [view.territory_codes[t] for t in within(run, args.within)]
            table = table[table.code.isin(codes)]
            outdir.mkdir(parents=True, exist_ok=True)
            figure = outdir / f"territories_{args.within}.png"
            plot_within(run, args.within, figure)
    outdir.mkdir(parents=True, exist_ok=True)
    table.to_csv(outdir / "territories.csv", index=False)
    shown = table.copy()
    for column in shown.columns:
        if column.startswith("share_"):
            shown[column] = [f"{100 * v:.1f} %" if np.isfinite(v) else "-" for v in shown[column]]
        elif column.startswith("years_to_"):
            shown[column] = [f"{v:.2f}" if np.isfinite(v) else "never" for v in shown[column]]
    print(shown.to_string(index=False))
    print(outdir / "territories.csv")
    if figure:
        print(figure)
    return 0


# -- report ---------------------------------------------------------------------


@command
def _add_report(commands) -> None:
    report = commands.add_parser(
        "report",
        help="write one self-contained HTML report of one or more runs",
        description="Runs whose scenarios differ only in seed are replicates; the first "
        "scenario is the base and the others are compared with it.",
    )
    _run_argument(report, nargs="+")
    report.add_argument("-o", "--output", type=Path,
                        help="HTML file (default: <first run directory>/<run stem>_report.html)")
    _step_argument(report)
    _level_argument(report)
    report.add_argument("--calibration", type=Path, action="append", default=[],
                        metavar="CAL.h5",
                        help="add a section for this calibration file (csei calibrate); "
                        "repeatable. A scenario with calibrated values gets its calibration's "
                        "section anyway when output/<calibration name>.h5 is found")
    report.set_defaults(handler=_report)


def _report(args) -> int:
    from .report import write_report

    output = args.output or args.runs[0].parent / f"{args.runs[0].stem}_report.html"
    notes = write_report(args.runs, output, args.step, args.level, args.calibration)
    print(output)
    _notes(notes)
    return 0


# ---- sensitivity: indices of a sweep file (csei sweep) ------------------------------------


@command
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



# ---- discover: scenario discovery (PRIM) on a sweep file ---------------------------------


@command
def _add_discover_parser(commands) -> None:
    from .discover import add_parser

    add_parser(commands)


# ---- calibration: a calibration file (csei calibrate) ------------------------------------


@command
def _add_calibration_parser(commands) -> None:
    from .calibration import add_parser

    add_parser(commands)
