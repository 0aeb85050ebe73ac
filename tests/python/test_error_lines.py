"""Every refusal of a value in a shipped file names the line it is on. The audit mutates each
value token (scalars, elements of arrays and inline tables) of every shipped scenario into bad
values and loads the file with the CLI's loader (csei.load_scenario: the same checks and
locations as `csei validate`); sweep and calibration files go through `csei validate` itself.
Every problem reported against the mutated file must carry a line, and a refusal is always an
input error (ScenarioError, exit 2), never a crash or another exception."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import csei

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
# A value token outside comments: a number, a basic string, a boolean.
TOKEN = re.compile(r'(?<![\w."])(-?\d+(?:\.\d+)?(?:e-?\d+)?|"[^"\n]*"|true|false)')
BAD_VALUES = ["-1", "1e300", '"zz"', "0", "[1]"]
# `csei validate` error lines: "error: FILE[:LINE[:COLUMN]][: KEY]: MESSAGE".
ERROR = re.compile(r"^error: (.+?\.toml)(:\d+)?(?::\d+)?(?:: |$)")


def shipped(kind):
    out = []
    for path in sorted(SCENARIOS.rglob("*.toml")):
        rel = path.relative_to(SCENARIOS)
        special = rel.parts[0] == "sweeps" or path.name.endswith(".calibration.toml")
        if special == (kind != "scenario"):
            out.append(rel)
    return out


def mutations(text, values, per_line=None):
    """(line number, mutated text) for each value token of `text` replaced by each of `values`."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        code = line.split("#")[0].rstrip("\n")
        if re.match(r"^\s*extends\s*=", code):
            continue
        for m in list(TOKEN.finditer(code))[:per_line]:
            for bad in values:
                if bad == m.group(1):
                    continue
                new = code[:m.start()] + bad + code[m.end():] + "\n"
                yield i + 1, "".join(lines[:i] + [new] + lines[i + 1:])


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit") / "scenarios"
    shutil.copytree(SCENARIOS, root)
    return root


@pytest.mark.parametrize("rel", shipped("scenario"), ids=str)
def test_every_refused_scenario_value_names_its_line(tree, rel):
    path = tree / rel
    original = path.read_text()
    csei.load_scenario(str(path))  # the shipped file itself is valid
    missing, refused, tried = [], 0, 0
    try:
        for line, text in mutations(original, BAD_VALUES):
            path.write_text(text)
            tried += 1
            try:
                csei.load_scenario(str(path))
            except csei.ScenarioError as err:
                refused += 1
                missing += [f"line {line}: {p['text']}" for p in err.problems
                            if p["line"] == 0 and Path(p["file"]).resolve() == path.resolve()]
    finally:
        path.write_text(original)
    assert tried > 0 and refused > 0
    assert not missing, "\n".join(missing[:20])


@pytest.mark.parametrize("rel", shipped("sweep"), ids=str)
def test_every_refused_sweep_or_calibration_value_names_its_line(csei_bin, tree, rel):
    path = tree / rel
    original = path.read_text()
    missing, refused = [], 0
    try:
        for line, text in mutations(original, ["-1", '"zz"'], per_line=2):
            path.write_text(text)
            r = subprocess.run([csei_bin, "validate", str(path)], capture_output=True, text=True,
                               timeout=60)
            assert r.returncode in (0, 2), f"line {line}: exit {r.returncode}\n{r.stderr}"
            refused += r.returncode == 2
            for err in r.stderr.splitlines():
                m = ERROR.match(err)
                if m and not m.group(2) and Path(m.group(1)).resolve() == path.resolve():
                    missing.append(f"line {line}: {err}")
    finally:
        path.write_text(original)
    assert refused > 0
    assert not missing, "\n".join(missing[:20])
