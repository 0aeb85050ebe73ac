"""Provenance tags (docs/scenario-format.md, "Provenance tags"): every value every shipped
scenario sets is tagged calibrated (with its calibration file), literature (with the reference)
or assumed; the parser finds untagged keys with their line; calibrated tags name calibration
files that exist and calibrate those keys."""
import pathlib
import tomllib

import pytest

from csei_analysis import provenance

REPO = pathlib.Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (REPO / "scenarios").rglob("*.toml"))


def kind(path, text):
    """scenario, sweep or calibration (sweeps and calibrations: only their `set` values)."""
    doc = tomllib.loads(text)
    if "design" in doc:
        return "sweep"
    if "targets" in doc or "method" in doc:
        return "calibration"
    return "scenario"


def test_shipped_files_found():
    assert len(SHIPPED) >= 25
    assert REPO / "scenarios" / "calibrated" / "fr_ptce_base.toml" in SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_value_is_tagged(path):
    text = path.read_text(encoding="utf-8")
    where = str(path.relative_to(REPO))
    k = kind(path, text)
    problems = provenance.problems(text, where)
    if k != "scenario":  # a sweep's or calibration's own keys are not scenario values
        problems = [p for p in problems if p.split(": ")[1] == "set"]
    assert not problems, "\n".join(problems)
    if k == "scenario":
        assert provenance.parse(text), f"{where}: no value found"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_calibrated_tags_name_their_calibration(path):
    text = path.read_text(encoding="utf-8")
    for e in provenance.parse(text):
        if e.kind != "calibrated":
            continue
        cal = REPO / e.source.split()[0]
        assert cal.is_file(), f"{path.name}:{e.line}: {e.key}: {e.source} does not exist"
        doc = tomllib.loads(cal.read_text())
        keys = {p["key"] for p in doc["parameters"]}
        if path.parent == cal.parent:  # the case's own scenarios: exactly its parameters
            assert e.key in keys, f"{path.name}:{e.line}: {e.key} is not calibrated by {cal.name}"
        else:  # a value transferred to another scenario: some parameter of that name
            assert e.key.split(".")[-1] in {k.split(".")[-1] for k in keys}, (path.name, e.key)


@pytest.mark.parametrize("base", sorted((REPO / "scenarios" / "calibrated").glob("*_base.toml")),
                         ids=lambda p: p.name)
def test_a_case_tags_every_calibrated_key(base):
    cal = base.with_name(base.name.replace("_base.toml", ".calibration.toml"))
    keys = {p["key"] for p in tomllib.loads(cal.read_text())["parameters"]}
    tagged = {e.key for e in provenance.parse(base.read_text()) if e.kind == "calibrated"}
    assert keys == tagged


TEXT = '''# a scenario
name = "x"
seed = 3

[time]                 # [assumed]
steps = 10
steps_per_year = 4     # [literature: Bass 1969]

[organisations]
per_territory = 10     # note with a # [calibrated: c.toml]
represents = 2.0
legal_forms = { association = 1.0 } # [calibrated]
list = [               # [assumed: a multi-line value]
  { code = "A", name = "a # not a comment" },
  { code = "B" },
]

[[events]]
step = 1               # [assumed]
action = "seed_adopters"

[workshop]
title = "free"
'''


def test_parser_finds_untagged_keys_with_their_line():
    entries = {e.key: e for e in provenance.parse(TEXT)}
    assert set(entries) == {"time.steps", "time.steps_per_year", "organisations.per_territory",
                            "organisations.represents", "organisations.legal_forms",
                            "organisations.list", "events[0].step", "events[0].action"}
    assert entries["time.steps"].kind == "assumed"  # from its table header
    assert entries["time.steps_per_year"].source == "Bass 1969"
    assert entries["organisations.per_territory"].kind == "calibrated"
    assert entries["organisations.per_territory"].source == "c.toml"
    assert entries["organisations.list"].source == "a multi-line value"
    problems = provenance.problems(TEXT, "x.toml")
    assert problems == [
        "x.toml:11: organisations.represents: no provenance tag ([calibrated: FILE], "
        "[literature: REF] or [assumed])",
        "x.toml:12: organisations.legal_forms: [calibrated] needs its source ([calibrated: ...])",
        "x.toml:20: events[0].action: no provenance tag ([calibrated: FILE], [literature: REF] "
        "or [assumed])",
    ]


def test_extends_chain_keeps_the_setting_files_tag():
    base = "[organisations]\nrepresents = 1.0  # [assumed]\nper_territory = 5  # [assumed]\n" \
           "[[innovations]]\nq = 0.4  # [assumed]\n[[events]]\nstep = 0  # [assumed]\n"
    child = 'extends = "b.toml"\norganisations.represents = 3.0  # [calibrated: c.toml]\n' \
            'innovations = [{q = 0.5}]  # [calibrated: c.toml]\n[[events]]\nstep = 2  # [assumed]\n'
    got = {(e.key, f): e.kind for e, f in provenance.summary([("c", child), ("b", base)])}
    assert got == {("organisations.represents", "c"): "calibrated",
                   ("innovations", "c"): "calibrated",
                   ("events[0].step", "c"): "assumed",
                   ("organisations.per_territory", "b"): "assumed",
                   ("events[0].step", "b"): "assumed"}
