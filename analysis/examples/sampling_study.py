#!/usr/bin/env python3
"""A small sampling study in plain Python with csei.model: a Latin hypercube over two Bass
parameters of the word-of-mouth teaching scenario, each point run with 2 seeds, and what each
parameter does to the final share (standardised regression coefficients).

    PYTHONPATH=analysis /usr/bin/python3 analysis/examples/sampling_study.py [POINTS]
"""
import sys
from pathlib import Path

import numpy as np
from scipy.stats import qmc

import csei

REPO = Path(__file__).resolve().parents[2]
points = int(sys.argv[1]) if len(sys.argv) > 1 else 32

# Parameters (any `--set` key) and their ranges; the outcome is a metric name of Result.metrics.
ranges = {"innovations[0].p": (0.005, 0.05), "innovations[0].q": (0.2, 1.5)}
outcome = "shared_van.final_share"
f = csei.model(REPO / "scenarios/teaching/word_of_mouth.toml", [outcome], seed=1, replicates=2,
               set={"time.steps": 36})

lo, hi = np.array([r[0] for r in ranges.values()]), np.array([r[1] for r in ranges.values()])
design = qmc.scale(qmc.LatinHypercube(d=len(ranges), seed=7).random(points), lo, hi)
y = np.array([f(dict(zip(ranges, row)))[outcome] for row in design])

print(f"{points} points x 2 seeds of word_of_mouth (36 steps); outcome {outcome}")
print(f"  mean {y.mean():.3f}, min {y.min():.3f}, max {y.max():.3f}")
# Standardised regression coefficients: a first look at which parameter matters.
X = (design - design.mean(axis=0)) / design.std(axis=0)
beta, *_ = np.linalg.lstsq(np.c_[np.ones(points), X], (y - y.mean()) / y.std(), rcond=None)
for name, b in zip(ranges, beta[1:]):
    print(f"  SRC {name:<20} {b:+.2f}")
