"""The scenario of a run in plain words, and what differs between two runs' scenarios.

Reads the resolved scenario (TOML in the root attribute `scenario`) and the run's metadata;
anything missing is left out of the description rather than guessed.
"""

from __future__ import annotations

import tomllib

import numpy as np

from .io import Run

STEP_LENGTHS = {1: "one year", 2: "half a year", 4: "one quarter", 12: "one month",
                52: "one week", 365: "one day"}


def scenario_dict(run: Run) -> dict:
    """The resolved scenario as a dict; empty when absent or unreadable."""
    try:
        return tomllib.loads(str(run.attrs.get("scenario", "")))
    except tomllib.TOMLDecodeError:
        return {}


def flatten(value, prefix: str = "") -> dict:
    """Scenario keys as paths (`innovations[0].q`, as `--set` writes them) -> values."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for k, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{k}]"))
        return out
    return {prefix: value}


def scenario_key(run: Run) -> str:
    """What identifies a scenario apart from its seed: runs with equal keys are replicates."""
    settings = flatten(scenario_dict(run))
    settings.pop("seed", None)
    if not settings:  # no scenario text: only the file can identify it
        return str(run.path)
    return repr(sorted(settings.items(), key=lambda item: item[0]))


def scenario_diff(base: Run, other: Run) -> list[str]:
    """Settings of other's scenario that differ from base's (seed excluded), e.g.
    'innovations[0].q = 0.5 (base 1.5)'."""
    a, b = flatten(scenario_dict(base)), flatten(scenario_dict(other))
    out = []
    for key in sorted(set(a) | set(b)):
        if key == "seed" or a.get(key) == b.get(key):
            continue
        if key not in b:
            out.append(f"{key} unset (base {_toml(a[key])})")
        elif key not in a:
            out.append(f"{key} = {_toml(b[key])} (base: not set)")
        else:
            out.append(f"{key} = {_toml(b[key])} (base {_toml(a[key])})")
    return out


def describe(run: Run) -> list[str]:
    """The scenario of a run as a few plain sentences (one per paragraph)."""
    scenario = scenario_dict(run)
    attrs = run.attrs
    out = []
    if scenario.get("description"):
        out.append(f"{str(scenario['description']).rstrip('.')}.")

    codes = run.territory_codes
    where = f" ({', '.join(codes)})" if len(codes) <= 10 else ""
    organisations = int(attrs.get("organisations", run.organisations.sum()))
    sentence = f"{organisations:,} organisations in {len(codes)} territories{where}"
    network = scenario.get("network", {})
    links = int(attrs.get("links", 0))
    if links < 0 or network.get("kind") == "complete":
        sentence += ", each in contact with every other (a well-mixed population)"
    elif network.get("kind") == "partners" and "partners" in network:
        sentence += f", linked by {links:,} partnerships: each organisation chose "
        sentence += f"{network['partners']} partners"
        if "local_share" in network:
            local = 100 * float(network["local_share"])
            sentence += f", {local:.0f} % of them in its own territory"
    elif links:
        sentence += f", linked by {links:,} partnerships ({network.get('kind', 'network')})"
    out.append(sentence + ".")
    represents = float(attrs.get("represents", 1.0))
    if represents != 1.0:
        out.append(f"Each model organisation stands for {represents:g} real entities "
                   f"({organisations * represents:,.0f} in all): real-world adopters, jobs and "
                   f"impact are the model's times {represents:g}.")

    step = STEP_LENGTHS.get(run.steps_per_year, f"1/{run.steps_per_year:g} of a year")
    years = run.steps / run.steps_per_year
    out.append(f"The run covers {_n(run.steps, 'step')} of {step} each ({_n(years, 'year')}).")

    specs = scenario.get("innovations", [])
    kinds = run.get("innovations/kind")
    launches = run.get("innovations/launch_step")
    for i, (name, rule) in enumerate(zip(run.innovation_names, run.innovation_rules)):
        spec = specs[i] if i < len(specs) and isinstance(specs[i], dict) else {}
        kind = f" ({kinds[i]} innovation)" if kinds is not None else ""
        text = f"Innovation {name}{kind} {_rule(rule, spec)}"
        if "pioneers" in spec:
            place = spec.get("pioneer_territory")
            text += f", starting from {_n(spec['pioneers'], 'pioneer')} "
            text += f"in {place}" if place else "anywhere"
        if launches is not None and launches[i] > 0:
            text += f", launched at step {launches[i]}"
        out.append(text + ".")

    founded = run.get("clusters/founded")
    if founded is not None:
        out.append(f"{_n(int((founded >= 0).sum()), 'cluster')} existed during the run.")
    events = run.get("events/step")
    if events is not None and len(events):
        out.append(
            f"{_n(len(events), 'policy event')} applied, between steps {int(np.min(events))} "
            f"and {int(np.max(events))} (listed below)."
        )
    return out


def _n(count, noun: str) -> str:
    """'1 step', '3 steps', '2.5 years'."""
    return f"{count:g} {noun}" + ("" if count == 1 else "s")


def _rule(rule: str, spec: dict) -> str:
    if rule == "bass" and "p" in spec and "q" in spec:
        return (
            f"spreads by the Bass rule: an organisation adopts on its own at rate p = {spec['p']} "
            f"a year, and through its partners at rate q = {spec['q']} a year times the share of "
            "its partners that have adopted"
        )
    if rule == "threshold":
        threshold = spec.get("threshold")
        detail = f" (thresholds: {_distribution(threshold)})" if threshold is not None else ""
        return (
            "spreads by the threshold rule: an organisation adopts once the share of its "
            f"partners that have adopted reaches its own threshold{detail}"
        )
    return f"spreads by the {rule} rule"


def _distribution(spec) -> str:
    if not isinstance(spec, dict):
        return _toml(spec)
    kind = spec.get("kind", "")
    if kind == "uniform" and {"min", "max"} <= spec.keys():
        text = f"uniform between {_toml(spec['min'])} and {_toml(spec['max'])}"
    elif kind in ("normal", "lognormal") and {"mean", "sd"} <= spec.keys():
        text = f"{kind} with mean {_toml(spec['mean'])} and sd {_toml(spec['sd'])}"
    elif kind == "fixed" and "value" in spec:
        return f"all {_toml(spec['value'])}"
    elif kind == "values":
        return "one value per organisation, listed in the scenario"
    else:
        rest = ", ".join(f"{k} {_toml(v)}" for k, v in spec.items() if k != "kind")
        return f"{kind} with {rest}" if rest else str(kind)
    if "lower" in spec or "upper" in spec:
        low, high = _toml(spec.get("lower", "-inf")), _toml(spec.get("upper", "inf"))
        text += f", kept within [{low}, {high}]"
    return text


def _toml(value, limit: int = 60) -> str:
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
