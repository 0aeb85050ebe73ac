#!/usr/bin/env python3
"""csei in the EMA workbench's model interface style, without the workbench (it is not packaged
in Debian): a model is a function of named uncertainties returning named outcomes, and
experiments are sampled over the uncertainties. With the workbench installed, the same
function goes into `ema_workbench.Model("csei", function=...)` unchanged, with
`RealParameter` and `ScalarOutcome` from the workbench instead of the stand-ins below.

    PYTHONPATH=analysis /usr/bin/python3 analysis/examples/ema_style.py [EXPERIMENTS]
"""
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import csei

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RealParameter:  # the workbench's RealParameter(name, lower, upper, variable_name=...)
    name: str
    lower_bound: float
    upper_bound: float
    variable_name: str = ""


@dataclass
class ScalarOutcome:  # the workbench's ScalarOutcome(name, variable_name=...)
    name: str
    variable_name: str = ""


@dataclass
class Model:  # the workbench's Model(name, function=...)
    name: str
    function: object
    uncertainties: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)


def perform_experiments(model: Model, n: int, seed: int = 1):
    """Uniform random sampling of the uncertainties; returns (experiments, outcomes) frames like
    the workbench's."""
    rng = np.random.default_rng(seed)
    rows = [{u.name: rng.uniform(u.lower_bound, u.upper_bound) for u in model.uncertainties}
            for _ in range(n)]
    results = []
    for row in rows:
        out = model.function(**row)
        results.append({o.name: out[o.variable_name or o.name] for o in model.outcomes})
    return pd.DataFrame(rows), pd.DataFrame(results)


# The csei model: the uncertainties are scenario keys under names the workbench accepts.
keys = {"word_of_mouth": "innovations[0].q", "media": "innovations[0].p"}
f = csei.model(REPO / "scenarios/teaching/word_of_mouth.toml",
               ["shared_van.final_share", "shared_van.steps_to_50"], set={"time.steps": 48})


def csei_model(**uncertainties):
    return f({keys[name]: value for name, value in uncertainties.items()})


model = Model("word_of_mouth", function=csei_model)
model.uncertainties = [RealParameter("word_of_mouth", 0.2, 1.5), RealParameter("media", 0.005, 0.05)]
model.outcomes = [ScalarOutcome("final_share", "shared_van.final_share"),
                  ScalarOutcome("steps_to_50", "shared_van.steps_to_50")]

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
experiments, outcomes = perform_experiments(model, n)
table = pd.concat([experiments, outcomes], axis=1)
print(table.round(3).to_string(index=False))
print(f"\nshare of experiments reaching 50 % within 4 years: "
      f"{outcomes['steps_to_50'].notna().mean():.0%}")
