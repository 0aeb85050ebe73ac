#!/usr/bin/python3
"""The table of policy levers on the baseline: cost, effect and return per million euros.

Runs the baseline and every shipped policy variant (scenarios/policy/*.toml) with the same
seeds (paired), then prints, per lever, its extra spending, the change of the metric its file
names (`# Metric:` line) and the additional adopters, jobs and t CO2e a year per million euros,
each with a 95 % interval over the paired replicates (analysis/csei_analysis/returns.py), as a
Markdown table; writes the runs, the returns CSV and the figure ranking levers by return into
the output directory. Every number is illustrative, not calibrated: the scenarios' parameters
and the cost defaults ([policy_costs]) are assumptions.

    scripts/policy_levers.py [--seeds 5] [--out output/levers] [--jobs 2]

It needs build/csei (or $CSEI_BIN). Progress goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "analysis"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from csei_analysis.compare import Group, pairing  # noqa: E402
from csei_analysis.io import open_run  # noqa: E402
from csei_analysis.returns import ILLUSTRATIVE, plot_returns, returns_table  # noqa: E402

METRIC_LINE = re.compile(r"^# Metric: ([\w.]+) \((higher|lower)\)", re.M)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="paired replicates (default 5)")
    parser.add_argument("--out", type=Path, default=REPO / "output" / "levers",
                        help="directory for the runs, CSV and figure (default output/levers)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 for an interval")
    binary = Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))
    if not binary.is_file():
        print(f"error: {binary}: csei is not built (scripts/build.sh) and CSEI_BIN is not set",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    base = REPO / "scenarios" / "baseline_eu27.toml"
    variants = sorted((REPO / "scenarios" / "policy").glob("*.toml"))
    seeds = list(range(1, args.seeds + 1))
    jobs = [(path, seed) for path in [base, *variants] for seed in seeds]
    terminal = sys.stderr.isatty()
    done = 0

    def run(job):
        nonlocal done
        path, seed = job
        out = args.out / f"{path.stem}_{seed}.h5"
        r = subprocess.run([str(binary), "run", str(path), "--seed", str(seed), "--threads", "1",
                            "-o", str(out), "--format", "json"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"error: {path.name} seed {seed}: {r.stderr.strip()}")
        done += 1
        if terminal:
            bar = "#" * (30 * done // len(jobs))
            print(f"\rruns [{bar:<30}] {done}/{len(jobs)}", end="", file=sys.stderr, flush=True)
        return out, json.loads(r.stdout)

    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run, jobs))
    if terminal:
        print(file=sys.stderr)
    by_file = {}
    for (path, _), result in zip(jobs, results):
        by_file.setdefault(path, []).append(result)

    with ExitStack() as stack:
        groups = [Group(path.stem, [stack.enter_context(open_run(out)) for out, _ in by_file[path]])
                  for path in [base, *variants]]
        table = returns_table(groups, pairing)
        plot_returns(table, args.out / "levers_returns.png", ILLUSTRATIVE)
    table.to_csv(args.out / "levers_returns.csv", index=False)

    def band(values, scale=1.0, digits=0):
        x = np.asarray(values, dtype=float) * scale
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        return f"{x.mean():+,.{digits}f} [{x.mean() - half:+,.{digits}f}, {x.mean() + half:+,.{digits}f}]"

    def cell(row, digits=1):
        if not np.isfinite(row.per_million_eur):
            return "-"
        return (f"{row.per_million_eur:+,.{digits}f} [{row.per_million_low:+,.{digits}f}, "
                f"{row.per_million_high:+,.{digits}f}]")

    print(f"Levers on baseline_eu27, {args.seeds} paired seeds, full size ({ILLUSTRATIVE}); "
          "95 % intervals over the paired replicates; euros and outcomes are real figures "
          "(model x represents).\n")
    print("| lever | extra spending, M EUR (10 years) | effect on its metric | "
          "adopters per M EUR | jobs per M EUR | t CO2e a year per M EUR |")
    print("|---|---|---|---|---|---|")
    summaries = {path: [result for _, result in runs] for path, runs in by_file.items()}
    base_results = summaries[base]
    for path in variants:
        found = METRIC_LINE.search(path.read_text(encoding="utf-8"))
        name, direction = found.groups() if found else ("?", "")
        innovation, key = name.split(".", 1)

        def value(result):
            for inn in result["innovations"]:
                if inn["name"] == innovation:
                    v = inn["metrics"][key]
                    return np.nan if v is None else v
            return np.nan

        diffs = [value(v) - value(b) for b, v in zip(base_results, summaries[path])]
        digits = 3 if "share" in key else 0
        effect = f"{name} {band(diffs, digits=digits)} ({direction} expected)"
        spend = [v["policy_spending_eur"] - b["policy_spending_eur"]
                 for b, v in zip(base_results, summaries[path])]
        rows = table[(table.variant == path.stem) & (table.innovation == "all")
                     & (table.territory == "total")].set_index("outcome")
        lever = path.stem + (" (a saving: the returns are what each million saved loses)"
                             if np.mean(spend) < 0 else "")
        print(f"| {lever} | {band(spend, 1e-6, 1)} | {effect} | {cell(rows.loc['adopters'])} | "
              f"{cell(rows.loc['jobs'])} | {cell(rows.loc['impact'])} |")
    print(f"\nFigure: {args.out / 'levers_returns.png'}; per territory: "
          f"{args.out / 'levers_returns.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
