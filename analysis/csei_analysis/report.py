"""A single self-contained HTML report of one or more runs.

Runs whose scenarios differ only in seed are replicates of one scenario (a replicate file,
`csei run --replicates`, counts as its replicates); the first scenario is the base and the others are compared with it. Each scenario gets its description in plain
words, provenance, summary table and figures (of its first replicate). Figures are embedded
as base64 PNGs, styles are inline, and nothing is fetched: the file opens anywhere.
"""

from __future__ import annotations

import base64
import html
import io
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .compare import (Group, compare_metrics, format_comparison, make_groups, pairing,
                      plot_compare)
from .describe import describe, scenario_diff, scenario_key
from .io import RunFileError, open_runs
from .levels import at_level
from .metrics import format_table, real_figures, represents, summary_table
from .returns import ILLUSTRATIVE, format_returns, plot_returns, returns_table, spending
from .plots import iter_figures
from . import provenance

MAX_GIF_BYTES = 4_000_000

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #446; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.left td, .left th { text-align: left; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #eef; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; } .note { color: #666; font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def write_report(paths, output, step=None, level="territory", calibrations=()) -> list[str]:
    """Write the report of the runs at paths to output; return notes on what was left out.
    `calibrations`: calibration files (csei calibrate) to give a section each; a run whose
    scenario has values tagged [calibrated: FILE] gets that calibration's section too when its
    result file is found (output/<calibration name>.h5)."""
    page, notes = build_report(paths, step, level, calibrations)
    Path(output).write_text(page, encoding="utf-8")
    return notes


def build_report(paths, step=None, level="territory",
                 calibrations=()) -> tuple[str, list[str]]:
    """The report page as a string, and notes on what was left out."""
    with ExitStack() as stack:
        runs = [stack.enter_context(run) for path in paths for run in open_runs(path)]
        by_scenario: dict[str, list] = {}
        for run in runs:
            by_scenario.setdefault(scenario_key(run), []).append(run)
        notes: list[str] = []
        try:
            groups = make_groups(list(by_scenario.values()))
        except RunFileError as err:
            if len(by_scenario) == 1:
                raise
            notes.append(f"scenarios not compared: {err}")
            groups = [Group(group[0].scenario_name, group) for group in by_scenario.values()]
        compared = len(groups) > 1 and not notes
        tags = [scenario_tags(g.runs[0]) for g in groups]
        body = [_header(groups, compared, tags)]
        if compared:
            body.append(_comparison(groups))
        for k, group in enumerate(groups):
            body.append(_scenario(group, k, step, notes, level, tags[k]))
        body.append(_calibrations(list(calibrations), tags, notes))
    title = html.escape("csei report: " + ", ".join(g.label for g in groups))
    page = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="icon" href="data:,">\n<title>{title}</title>\n<style>{STYLE}</style>\n'
        f"</head>\n<body>\n{''.join(body)}</body>\n</html>\n"
    )
    return page, notes


def scenario_tags(run) -> list:
    """(entry, file) provenance tags of a run's scenario (provenance.summary), read from the
    scenario files embedded in /inputs (the scenario, then its extends chain); [] for files
    without /inputs."""
    if not run.has("inputs/role", "inputs/path", "inputs/content"):
        return []
    files = [(str(path), str(text)) for role, path, text in
             zip(run.read("inputs/role"), run.read("inputs/path"), run.read("inputs/content"))
             if role in ("scenario", "extends")]
    return provenance.summary(files)


def _calibration_sources(tags) -> list[str]:
    return sorted({e.source.split()[0] for e, _ in tags if e.kind == "calibrated" and e.source})


def _provenance_table(tags) -> str:
    """One row per (provenance, source): how many values and which keys."""
    if not tags:
        return ('<p class="note">The run file does not embed its scenario files (/inputs), so '
                "the values' provenance cannot be listed.</p>")
    groups: dict[tuple, list] = {}
    order = {k: i for i, k in enumerate(("calibrated", "literature", "assumed", None))}
    for e, _ in tags:
        groups.setdefault((e.kind, e.source), []).append(e.key)
    rows = []
    for (kind, source), keys in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        shown = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
        rows.append({"provenance": kind or "untagged", "source": source or "-",
                     "values": len(keys), "keys": shown})
    counts = provenance.counts(tags)
    intro = (f"<p>Every value the scenario sets, by where it comes from (provenance tags in the "
             f"scenario files, docs/scenario-format.md): {counts['calibrated']} calibrated, "
             f"{counts['literature']} from the literature or data, {counts['assumed']} "
             f"assumed" + (f", {counts['untagged']} untagged" if counts["untagged"] else "") +
             ".</p>")
    return intro + pd.DataFrame(rows).to_html(index=False, border=0, escape=True,
                                              classes="left")


def _calibrations(paths: list, tags: list, notes: list[str]) -> str:
    """A section per calibration: the files given, and those the scenarios' tags name whose
    result file is found (output/<name>.h5 of the calibration file)."""
    from .calibration import CalibrationFileError, open_calibration

    wanted = [Path(p) for p in paths]
    for t in tags:
        for src in _calibration_sources(t):
            found = _calibration_result(Path(src))
            if found is None:
                notes.append(f"calibration {src}: its result file was not found (run csei "
                             "calibrate, or give it with --calibration)")
            elif found not in wanted:
                wanted.append(found)
    parts = []
    for path in wanted:
        try:
            cal = open_calibration(path)
        except CalibrationFileError as err:
            notes.append(str(err))
            continue
        parts.append(_calibration_section(cal, len(parts)))
    return "\n".join(parts) + ("\n" if parts else "")


def _calibration_result(src: Path):
    """The result file of a calibration file: output/<its name>.h5, relative to the current
    directory or to the repository the calibration file is in."""
    import tomllib

    if not src.is_file():
        return None
    try:
        name = tomllib.loads(src.read_text(encoding="utf-8")).get("name") or src.stem
    except (OSError, tomllib.TOMLDecodeError):
        return None
    for root in [Path.cwd(), *src.resolve().parents]:
        cand = root / "output" / f"{name}.h5"
        if cand.is_file():
            return cand
    return None


def _calibration_section(cal, k: int) -> str:
    import tempfile

    from .calibration import format_table, plot_fit, plot_posterior

    a = cal.attrs
    desc = str(a.get("description", "")).strip()
    if desc and desc[-1] not in ".!?":
        desc += "."
    parts = [f'<h2 id="calibration-{k}">Calibration: {_e(a.get("name"))}</h2>',
             f"<p>{_e(desc)} ABC-SMC (csei calibrate) of "
             f"{_e(a.get('calibration_file'))} on {_e(a.get('scenario_file'))}: "
             f"{a.get('particles')} particles, {len(cal.tolerance)} generations "
             f"({_e(a.get('stop_reason'))}), {a.get('evaluations')} runs.</p>"]
    rows = [{"parameter": key, "name": name, "median": f"{m:.4g}",
             "90 % credible interval": f"[{lo:.4g}, {hi:.4g}]"}
            for key, name, m, lo, hi in zip(cal.keys, cal.names, cal.post_median, cal.post_q05,
                                            cal.post_q95)]
    parts.append(_table(pd.DataFrame(rows), index=False))
    rows = []
    for t in cal.targets:
        years = t.year.tolist()
        mid, lo, hi = (dict(zip(years, q.tolist())) for q in (t.median, t.q05, t.q95))
        nan = float("nan")
        for y, v in zip(t.observed_year.tolist(), t.observed_value.tolist()):
            rows.append({"target": t.name, "weight": t.attrs.get("weight", ""), "year": int(y),
                         "observed": f"{v:g}", "model median": f"{mid.get(y, nan):.4g}",
                         "5-95 %": f"[{lo.get(y, nan):.4g}, {hi.get(y, nan):.4g}]"})
    parts.append("<h3>Fit: observed against the posterior predictive runs</h3>")
    parts.append(_table(pd.DataFrame(rows), index=False))
    with tempfile.TemporaryDirectory() as tmp:
        for plot, caption in ((plot_fit, "Observed points (black) against the posterior "
                               "predictive median and 5-95 % band."),
                              (plot_posterior, "Posterior marginals (last generation, weighted) "
                               "and pair plots; median and 90 % interval.")):
            data = Path(plot(cal, Path(tmp) / "f.png")).read_bytes()
            parts.append(f'<figure><img src="data:image/png;base64,'
                         f'{base64.b64encode(data).decode("ascii")}" alt="{_e(caption)}">'
                         f"<figcaption>{_e(caption)}</figcaption></figure>")
    parts.append(f"<details><summary>Generations</summary><pre>{_e(format_table(cal))}</pre>"
                 "</details>")
    return "\n".join(parts)


def _header(groups: list[Group], compared: bool, tags=None) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    items = "".join(
        f'<li><a href="#scenario-{k}">{_e(g.label)}</a> ({len(g.runs)} run'
        f"{'s' if len(g.runs) > 1 else ''})</li>"
        for k, g in enumerate(groups)
    )
    link = '<li><a href="#comparison">Comparison</a></li>' if compared else ""
    return (
        f"<h1>csei report</h1>\n<p>Simulation of innovation diffusion among social-economy "
        f"organisations. Report generated {now} by csei_analysis.</p>\n"
        f'<p class="note"><b>Results are {_illustrative(tags)}.</b> {_calibration_note(tags)}'
        "</p>\n"
        f"<ul>{link}{items}</ul>\n"
    )


def _illustrative(tags) -> str:
    calibrated = any(_calibration_sources(t) for t in (tags or []))
    return "illustrative" if calibrated else ILLUSTRATIVE


def _calibration_note(tags) -> str:
    tags = tags or []
    sources = sorted({src for t in tags for src in _calibration_sources(t)})
    if not sources:
        return ("No parameter of these runs was calibrated against observed data: the values are "
                "assumptions or taken from the literature (see each scenario's provenance), so "
                "the figures show mechanisms and orders of magnitude, not forecasts.")
    return (f"Some values were calibrated against observed data ({_e(', '.join(sources))}; "
            "see each scenario's provenance and the calibration sections); the others are "
            "assumptions or taken from the literature, so the figures show mechanisms and orders "
            "of magnitude, not forecasts.")


def _comparison(groups: list[Group]) -> str:
    base = groups[0]
    parts = [f'<h2 id="comparison">Comparison with {_e(base.label)}</h2>']
    for group in groups[1:]:
        diff = scenario_diff(base.runs[0], group.runs[0]) or ["no setting differs (seeds only)"]
        parts.append(f"<p><b>{_e(group.label)}</b> differs from the base in: "
                     f"{_e('; '.join(diff))}.</p>")
    parts.append(_figure(plot_compare(groups), "Adoption share of each scenario (top) and "
                         "difference from the base (bottom); bands are 95 % confidence "
                         "intervals of the mean over replicates."))
    returns = returns_table(groups, pairing)
    spent = not returns.empty and returns.extra_spending_eur.abs().max() > 0
    if spent:
        parts.append("<h3>Returns per million euros of extra policy spending</h3>")
        parts.append(f'<p class="note">Real figures (model x represents; euros from '
                     f"/policy), all innovations and territories, 95 % intervals over paired "
                     f"replicates; a negative spending is a saving, and its figures are what each "
                     f"million saved loses. {ILLUSTRATIVE.capitalize()}.</p>")
        parts.append(_table(format_returns(returns), index=False))
        parts.append(_figure(plot_returns(returns, title_note=ILLUSTRATIVE),
                             "Levers ranked by additional adopters per million euros."))
    shown = format_comparison(compare_metrics(groups))
    for label, rows in shown.groupby("variant", sort=False):
        parts.append(f"<h3>Summary metrics: {_e(label)} vs {_e(base.label)}</h3>")
        parts.append(_table(rows.drop(columns="variant"), index=False))
    return "\n".join(parts) + "\n"


def _scenario(group: Group, k: int, step, notes: list[str], level="territory",
              tags=()) -> str:
    run = group.runs[0]
    parts = [f'<h2 id="scenario-{k}">Scenario: {_e(group.label)}</h2>', "<h3>In plain words</h3>"]
    parts += [f"<p>{_e(sentence)}</p>" for sentence in describe(run)]

    parts.append("<h3>Provenance</h3>")
    rows = []
    for r in group.runs:
        a = r.attrs
        rows.append({"file": r.label, "seed": a.get("seed", ""),
                     "csei version": a.get("version", ""), "created": a.get("created", ""),
                     "schema": r.schema_version, "threads": a.get("threads", "")})
    parts.append(_table(pd.DataFrame(rows), index=False))
    parts.append("<h3>Where the values come from</h3>")
    parts.append(_provenance_table(list(tags)))

    tables = [summary_table(r) for r in group.runs]
    if len(tables) == 1:
        parts.append("<h3>Summary</h3>")
        summary = tables[0]
    else:
        parts.append(f"<h3>Summary (mean of {len(tables)} replicates)</h3>")
        summary = pd.concat(tables).groupby(level=0, sort=False).mean()
    parts.append(_table(format_table(summary).T))
    scale = represents(run)
    if scale != 1.0:
        real = real_figures(summary, scale)
        parts.append(f"<h3>Real-world figures</h3><p>One model organisation stands for "
                     f"{scale:g} real entities: model figures above, real ones (x {scale:g}) "
                     f"here ({ILLUSTRATIVE}).</p>")
        parts.append(_table(real.applymap(lambda v: f"{v:,.0f}").T))
    cost = sum(float(spending(r).sum()) for r in group.runs) / len(group.runs)
    if run.has("policy/spending"):
        parts.append(f"<p>Policy spending: {cost / 1e6:,.2f} million euros (real, "
                     f"[policy_costs]; {ILLUSTRATIVE}).</p>")

    events = _events(run)
    if events is not None:
        parts += ["<h3>Policy events</h3>", _table(events, index=False)]

    seed = run.attrs.get("seed", "?")
    which = f" (replicate with seed {seed})" if len(group.runs) > 1 else ""
    parts.append(f"<h3>Figures{_e(which)}</h3>")
    view = at_level(run, level)
    if level != "territory":
        parts.append(f'<p class="note">Figures by {_e(level)}: the territories of the run '
                     "summed over each parent.</p>")
    for spec, fig, note in iter_figures(view, step):
        if fig is None:
            parts.append(f'<p class="note">{_e(note)}</p>')
            notes.append(f"{run.path}: {note}")
        else:
            parts.append(_figure(fig, spec.caption))
    parts.append(_animation(view))

    parts.append(
        "<details><summary>Scenario file (resolved; running it again reproduces the run)"
        f"</summary><pre>{_e(run.attrs.get('scenario', '(not recorded)'))}</pre></details>"
    )
    return "\n".join(parts) + "\n"


def _animation(run) -> str:
    """The animated map as an embedded GIF (left out, with a note, above MAX_GIF_BYTES)."""
    import tempfile

    from .plots import animate_adoption

    with tempfile.TemporaryDirectory() as tmp:
        path = animate_adoption(run, Path(tmp) / "map.gif")
        data = path.read_bytes()
    caption = "Adoption share by territory over the run (animated)"
    if len(data) > MAX_GIF_BYTES:
        return (f'<p class="note">{_e(caption)}: left out ({len(data) / 1e6:.1f} MB); '
                "`csei-analysis plot` writes it as adoption_map.gif.</p>")
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/gif;base64,{encoded}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _events(run):
    if not run.has("events/step", "events/kind", "events/target", "events/affected"):
        return None
    return pd.DataFrame({
        "step": run.read("events/step"), "kind": run.read("events/kind"),
        "target": run.read("events/target"), "organisations affected": run.read("events/affected"),
    })


def _figure(fig, caption: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, border=0, escape=True, na_rep="-")


def _e(text) -> str:
    return html.escape(str(text))
