"""Calibration files (`csei calibrate`, output/SCHEMA.md "Calibration files"): a summary table,
figures (observed points against the posterior predictive bands, posterior marginals and pair
plots, the tolerance schedule) and the calibrated scenario (the posterior median as a scenario
that `extends` the base).

    csei-analysis calibration CAL.h5 [-o OUTDIR] [--scenario CALIBRATED.toml] [--no-plots]
"""

from __future__ import annotations

import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from . import provenance

EXIT_BAD_FILE = 2


class CalibrationFileError(Exception):
    """The file is not a complete calibration file."""


@dataclass
class Target:
    name: str
    attrs: dict
    observed_year: np.ndarray
    observed_value: np.ndarray
    observed_note: list
    year: np.ndarray
    q05: np.ndarray
    median: np.ndarray
    q95: np.ndarray


@dataclass
class Calibration:
    path: Path
    attrs: dict
    keys: list
    names: list
    prior: list
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    tolerance: np.ndarray
    acceptance_rate: np.ndarray
    proposals: np.ndarray
    particles: np.ndarray  # [G, N, P]
    weights: np.ndarray  # [G, N]
    distances: np.ndarray  # [G, N]
    post_median: np.ndarray
    post_q05: np.ndarray
    post_q95: np.ndarray
    targets: list = field(default_factory=list)


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def open_calibration(path) -> Calibration:
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CalibrationFileError(f"{path}: not an HDF5 file or unreadable ({err})") from None
    with f:
        attrs = {k: (_text(v) if isinstance(v, (bytes, str)) else v) for k, v in f.attrs.items()}
        if attrs.get("kind") != "calibration":
            raise CalibrationFileError(f"{path}: not a calibration file (kind = "
                                       f"{attrs.get('kind', 'none')!r}); write one with csei calibrate")
        if int(attrs.get("complete", 0)) != 1:
            raise CalibrationFileError(f"{path}: incomplete calibration file")
        try:
            strs = lambda ds: [_text(x) for x in ds[:]]  # noqa: E731
            g = f["generations"]
            cal = Calibration(
                path=path, attrs=attrs,
                keys=strs(f["parameters/key"]), names=strs(f["parameters/name"]),
                prior=strs(f["parameters/prior"]),
                low=f["parameters/low"][:], high=f["parameters/high"][:],
                mean=f["parameters/mean"][:], sd=f["parameters/sd"][:],
                tolerance=g["tolerance"][:], acceptance_rate=g["acceptance_rate"][:],
                proposals=g["proposals"][:], particles=g["particles"][:],
                weights=g["weights"][:], distances=g["distances"][:],
                post_median=f["posterior/median"][:], post_q05=f["posterior/q05"][:],
                post_q95=f["posterior/q95"][:],
            )
            for k in sorted(f["targets"], key=int):
                t = f["targets"][k]
                ta = {a: (_text(v) if isinstance(v, (bytes, str)) else v) for a, v in t.attrs.items()}
                cal.targets.append(Target(
                    name=ta.get("name", k), attrs=ta,
                    observed_year=t["observed_year"][:], observed_value=t["observed_value"][:],
                    observed_note=strs(t["observed_note"]), year=t["year"][:],
                    q05=t["predictive_q05"][:], median=t["predictive_median"][:],
                    q95=t["predictive_q95"][:]))
        except KeyError as err:
            raise CalibrationFileError(f"{path}: missing {err} (not a calibration file of "
                                       "schema 1?)") from None
    return cal


def format_table(cal: Calibration) -> str:
    a = cal.attrs
    lines = [f"{cal.path}: calibration {a.get('name')} | ABC-SMC | {a.get('particles')} particles "
             f"x {a.get('replicates')} replicates | {len(cal.tolerance)} generations "
             f"({a.get('stop_reason')})", "",
             f"{'generation':<10} {'tolerance':>12} {'proposals':>10} {'accepted':>9}"]
    for g, (t, n, r) in enumerate(zip(cal.tolerance, cal.proposals, cal.acceptance_rate)):
        lines.append(f"{g:<10} {t:>12.5g} {n:>10} {100 * r:>8.1f}%")
    lines += ["", f"{'parameter':<32} {'prior':<28} {'median':>11} {'90% interval':>25}"]
    for j, key in enumerate(cal.keys):
        lines.append(f"{key:<32} {_prior_text(cal, j):<28} {cal.post_median[j]:>11.5g} "
                     f"  [{cal.post_q05[j]:.5g}, {cal.post_q95[j]:.5g}]")
    return "\n".join(lines)


def _prior_text(cal, j):
    p = cal.prior[j]
    if p == "normal":
        return f"normal({cal.mean[j]:g}, {cal.sd[j]:g})"
    if p == "truncated_normal":
        return f"normal({cal.mean[j]:g}, {cal.sd[j]:g}) on [{cal.low[j]:g}, {cal.high[j]:g}]"
    return f"{p} [{cal.low[j]:g}, {cal.high[j]:g}]"


# ---- figures -------------------------------------------------------------------------------


def _figure(size):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=110, layout="constrained")


def _save(fig, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.savefig(path)
    return path


def plot_fit(cal: Calibration, path):
    K = len(cal.targets)
    fig = _figure((7.5, 3.6 * K))
    axes = fig.subplots(K, 1, squeeze=False)[:, 0]
    for ax, t in zip(axes, cal.targets):
        ok = np.isfinite(t.median)
        ax.fill_between(t.year[ok], t.q05[ok], t.q95[ok], color="tab:blue", alpha=0.25,
                        label="posterior predictive 5-95 %")
        ax.plot(t.year[ok], t.median[ok], color="tab:blue", label="posterior predictive median")
        ax.plot(t.observed_year, t.observed_value, "o", color="black", label="observed")
        ax.set_title(f"{t.name}: {t.attrs.get('series')} {t.attrs.get('geo', '')} vs model "
                     f"{t.attrs.get('output')}", fontsize="medium")
        ax.set_xlabel("year")
        ax.set_ylabel("real entities")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return _save(fig, path)


def plot_posterior(cal: Calibration, path):
    """Marginals on the diagonal (weighted histograms of the last population over the prior's
    range), pair plots below it."""
    P = len(cal.keys)
    x, w = cal.particles[-1], cal.weights[-1]
    fig = _figure((2.8 * P + 1, 2.6 * P + 0.6))
    axes = fig.subplots(P, P, squeeze=False)
    for i in range(P):
        for j in range(P):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                lo, hi = cal.low[i], cal.high[i]
                if not (np.isfinite(lo) and np.isfinite(hi)):
                    lo, hi = np.min(x[:, i]), np.max(x[:, i])
                bins = np.geomspace(lo, hi, 40) if cal.prior[i] == "log_uniform" else \
                    np.linspace(lo, hi, 40)
                ax.hist(x[:, i], bins=bins, weights=w, color="tab:blue", alpha=0.7)
                if cal.prior[i] == "log_uniform":
                    ax.set_xscale("log")
                ax.axvline(cal.post_median[i], color="black", linewidth=1)
                for q in (cal.post_q05[i], cal.post_q95[i]):
                    ax.axvline(q, color="black", linewidth=0.8, linestyle="--")
                ax.set_yticks([])
            else:
                ax.scatter(x[:, j], x[:, i], s=6 + 400 * w, alpha=0.5, color="tab:blue")
                if cal.prior[j] == "log_uniform":
                    ax.set_xscale("log")
                if cal.prior[i] == "log_uniform":
                    ax.set_yscale("log")
            if i == P - 1:
                ax.set_xlabel(cal.names[j], fontsize="small")
            if j == 0 and i > 0:
                ax.set_ylabel(cal.names[i], fontsize="small")
    fig.suptitle(f"posterior of {cal.attrs.get('name')} (generation {len(cal.tolerance) - 1}; "
                 "median and 90 % interval)", fontsize="medium")
    return _save(fig, path)


def plot_tolerance(cal: Calibration, path):
    fig = _figure((6.5, 3.6))
    ax = fig.subplots()
    g = np.arange(len(cal.tolerance))
    ok = np.isfinite(cal.tolerance)
    ax.plot(g[ok], cal.tolerance[ok], "o-", color="tab:blue", label="tolerance")
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("tolerance (distance)", color="tab:blue")
    ax.grid(True, alpha=0.3)
    twin = ax.twinx()
    twin.plot(g, 100 * cal.acceptance_rate, "s--", color="tab:orange", label="acceptance rate")
    twin.set_ylabel("acceptance rate (%)", color="tab:orange")
    twin.set_ylim(0, 105)
    ax.set_title("tolerance schedule", fontsize="medium")
    return _save(fig, path)


def plot_all(cal: Calibration, outdir) -> list:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return [plot_fit(cal, outdir / "fit.png"), plot_posterior(cal, outdir / "posterior.png"),
            plot_tolerance(cal, outdir / "tolerance.png")]


# ---- the calibrated scenario ----------------------------------------------------------------

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def _split_key(key):
    """'innovations[0].q' -> [('innovations', 0), ('q', None)]."""
    parts = []
    for piece in key.split("."):
        m = _PART.fullmatch(piece)
        if not m:
            raise ValueError(f"cannot write key {key!r} into a scenario")
        parts.append((m.group(1), None if m.group(2) is None else int(m.group(2))))
    return parts


def _resolved(path: Path, depth=0) -> dict:
    """A scenario file's table with its `extends` chain merged as the simulator merges it
    (tables key by key, [[events]] appended, anything else replaced)."""
    root = tomllib.loads(path.read_text())
    ext = root.pop("extends", None)
    if ext is None or depth >= 8:
        return root
    base = _resolved(path.parent / ext, depth + 1)
    _merge(base, root, top=True)
    return base


def _merge(base, over, top=False):
    for k, v in over.items():
        if isinstance(base.get(k), dict) and isinstance(v, dict):
            _merge(base[k], v)
        elif top and k == "events" and isinstance(base.get(k), list):
            base[k] = base[k] + v
        else:
            base[k] = v


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        r = repr(v)
        return r if any(c in r for c in ".en") else r + ".0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ValueError(f"cannot write {v!r} as TOML")


def _toml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def calibrated_scenario(cal: Calibration, out: Path, values=None, what=None, seed=None) -> str:
    """The text of a scenario that extends the calibration's base scenario with `values` (default:
    the posterior medians) for the calibrated keys. A key into an array of tables
    (innovations[0].q) rewrites that whole array from the resolved base, as tables whose values
    keep the base's provenance tags (docs/scenario-format.md, "Provenance tags"); the
    calibrated values are tagged [calibrated: <calibration file>]."""
    values = cal.post_median if values is None else values
    what = what or "the posterior median"
    base_path = Path(cal.attrs.get("scenario_path") or cal.attrs["scenario_file"])
    if not base_path.is_absolute():
        base_path = Path(os.path.abspath(base_path))
    rel = os.path.relpath(base_path, Path(os.path.abspath(out)).parent)
    dotted, arrays = [], {}
    resolved = None
    for key, v in zip(cal.keys, values):
        parts = _split_key(key)
        if all(i is None for _, i in parts):
            dotted.append((".".join(_toml_key(n) for n, _ in parts), float(v)))
            continue
        if parts[0][0] == "events":
            raise ValueError(f"{key}: a calibrated event value cannot be written with extends "
                             "(events are appended)")
        if resolved is None:
            resolved = _resolved(base_path)
            for s in cal.attrs.get("set", "").splitlines():
                if s.strip():
                    k, _, val = s.partition("=")
                    _assign(resolved, _split_key(k.strip()), tomllib.loads(f"v = {val}")["v"])
        top = parts[0][0]
        if top not in arrays:
            arrays[top] = None
        _assign(resolved, parts, float(v))
        arrays[top] = resolved[top]
    a = cal.attrs
    calfile = a.get("calibration_file")
    try:
        base_tags = provenance.effective(provenance.chain(base_path))
    except (OSError, tomllib.TOMLDecodeError):
        base_tags = {}
    lines = [f"# Calibrated: {a.get('name')} ({calfile}), {what} of",
             f"# csei calibrate (ABC-SMC, {a.get('particles')} particles, "
             f"{len(cal.tolerance)} generations; {a.get('stop_reason')}).",
             "# Calibrated values (median, 90 % credible interval):"]
    for j, key in enumerate(cal.keys):
        lines.append(f"#   {key} = {values[j]:.6g}  [{cal.post_q05[j]:.6g}, {cal.post_q95[j]:.6g}]"
                     f"  (calibrated: {a.get('calibration_file')})")
    lines.append("# Everything else comes from the base scenario (see its own tags).")
    lines.append(f"extends = {_toml_value(rel)}")
    try:
        base_name = tomllib.loads(a.get("scenario", "")).get("name") or a.get("name")
    except tomllib.TOMLDecodeError:
        base_name = a.get("name")
    lines.append(f"name = {_toml_value(str(base_name) + '_calibrated')}")
    if seed is not None:
        lines.append(f"seed = {int(seed)}  # this draw's replicate seed")
    fixed = [s for s in a.get("set", "").splitlines() if s.strip()]
    for s in fixed:  # the calibration's `set` values held while calibrating
        k, _, val = s.partition("=")
        if not any(k.strip().startswith(t) for t in arrays):
            parts = _split_key(k.strip())
            if all(i is None for _, i in parts):
                lines.append(f"{k.strip()} = {val.strip()}  # [assumed: held fixed while "
                             "calibrating (the calibration's set)]")
    for k, v in dotted:
        lines.append(f"{k} = {_toml_value(v)}  # [calibrated: {calfile}]")
    for top, arr in arrays.items():
        for i, e in enumerate(arr):
            if not isinstance(e, dict):
                raise ValueError(f"{top}[{i}]: only arrays of tables can be rewritten")
            lines += ["", f"[[{_toml_key(top)}]]"]
            for k, v in e.items():
                key = f"{top}[{i}].{k}"
                tag = (f"[calibrated: {calfile}]" if key in cal.keys else
                       provenance.tag_text(base_tags.get(key) or base_tags.get(top)))
                lines.append(f"{_toml_key(k)} = {_toml_value(v)}  # {tag}")
    return "\n".join(lines) + "\n"


def _assign(table, parts, value):
    node = table
    for n, (name, idx) in enumerate(parts):
        last = n == len(parts) - 1
        if idx is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            lst = node[name]
            if last:
                lst[idx] = value
            else:
                node = lst[idx]


# ---- the command ---------------------------------------------------------------------------


def add_parser(commands) -> None:
    p = commands.add_parser(
        "calibration",
        help="a calibration file (csei calibrate): table, figures, the calibrated scenario",
        description="Summarises a calibration file: the tolerance schedule and the posterior "
        "(median and 90 % credible interval per parameter); writes fit.png (observed points "
        "against the posterior predictive bands), posterior.png (marginals and pair plots) and "
        "tolerance.png; with --scenario, a scenario that extends the base with the posterior "
        "medians.",
    )
    p.add_argument("calibration", type=Path, metavar="CAL.h5", help="file written by csei calibrate")
    p.add_argument("-o", "--outdir", type=Path,
                   help="figures go here (default: <file directory>/<stem>_calibration)")
    p.add_argument("--scenario", type=Path, metavar="OUT.toml",
                   help="write the calibrated scenario (posterior median) here")
    p.add_argument("--draws", type=int, metavar="K",
                   help="with --scenario, also write K posterior draws (particles of the last "
                   "generation drawn by weight), one scenario each with its own seed, to "
                   "<OUT stem>_draws/draw_01.toml ...: run them as replicates over the posterior")
    p.add_argument("--draws-seed", type=int, metavar="S",
                   help="seed of the draws (default: the calibration's seed)")
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.set_defaults(handler=run)


def posterior_draws(cal: Calibration, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k particles of the last generation drawn with replacement by weight (numpy's PCG64 seeded
    with `seed`): (indices [k], values [k, P])."""
    w = np.asarray(cal.weights[-1], dtype=float)
    w = w / w.sum()
    idx = np.random.default_rng(seed).choice(len(w), size=k, replace=True, p=w)
    return idx, cal.particles[-1][idx]


def write_draws(cal: Calibration, out: Path, k: int, seed: int) -> list[Path]:
    """Scenario files of k posterior draws in <out stem>_draws/: each extends the base with one
    draw's values and has its own seed (derived from `seed` and the draw), so the k files are
    replicates over the posterior; each file's header gives the same values as --set arguments,
    for a policy variant that extends the base."""
    idx, vals = posterior_draws(cal, k, seed)
    folder = out.parent / f"{out.stem}_draws"
    folder.mkdir(parents=True, exist_ok=True)
    seeds = np.random.default_rng([seed, 1]).integers(0, 2**62, size=k)
    paths = []
    for d in range(k):
        path = folder / f"draw_{d + 1:02d}.toml"
        text = calibrated_scenario(
            cal, path, values=vals[d],
            what=f"posterior draw {d + 1} of {k} (particle {int(idx[d])} of the last generation, "
                 f"drawn by weight with seed {seed})", seed=int(seeds[d]))
        sets = " ".join(f"--set {key}={float(v)!r}" for key, v in zip(cal.keys, vals[d]))
        text = (f"# The same values on a scenario that extends the base (a policy variant):\n"
                f"#   csei run VARIANT.toml {sets} --seed {int(seeds[d])}\n") + text
        path.write_text(text)
        paths.append(path)
    return paths


def run(args) -> int:
    try:
        cal = open_calibration(args.calibration)
    except CalibrationFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_FILE
    if args.draws is not None and (args.draws < 1 or not args.scenario):
        print("error: --draws K needs K >= 1 and --scenario OUT.toml", file=sys.stderr)
        return EXIT_BAD_FILE
    print(format_table(cal))
    if args.scenario:
        try:
            text = calibrated_scenario(cal, args.scenario)
            args.scenario.parent.mkdir(parents=True, exist_ok=True)
            args.scenario.write_text(text)
        except (ValueError, KeyError, IndexError, OSError, tomllib.TOMLDecodeError) as err:
            print(f"error: {args.scenario}: cannot write the calibrated scenario: {err}",
                  file=sys.stderr)
            return 1
        print(f"calibrated scenario: {args.scenario}")
        if args.draws:
            seed = args.draws_seed if args.draws_seed is not None else int(cal.attrs.get("seed", 1))
            try:
                paths = write_draws(cal, args.scenario, args.draws, seed)
            except (ValueError, KeyError, IndexError, OSError) as err:
                print(f"error: {args.scenario}: cannot write the posterior draws: {err}",
                      file=sys.stderr)
                return 1
            print(f"posterior draws: {len(paths)} scenarios in {paths[0].parent}")
    if args.no_plots:
        return 0
    outdir = args.outdir or args.calibration.parent / f"{args.calibration.stem}_calibration"
    try:
        for path in plot_all(cal, outdir):
            print(path)
    except OSError as err:
        print(f"error: {err.filename or outdir}: {err.strerror or err}", file=sys.stderr)
        return 1
    return 0
