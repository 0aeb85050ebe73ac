"""Sliders as data: the `[workshop]` table of a teaching scenario declares its sliders; a trainer
adds a slider by editing the file (no rebuild), and `csei validate` checks the table like the
rest of the scenario (file:line: key, exit 2)."""
import json
import pathlib
import subprocess

import pytest

from workshop_server import REPO, csei_binary

TEACHING = REPO / "scenarios" / "teaching"
EXTRA = """
[[workshop.sliders]]
name = "partners"
key = "network.partners"
label = "Partners each"
help = "How many partners each organisation has."
min = 1
max = 12
step = 1
integer = true
"""


def test_a_slider_added_to_the_file_is_offered_and_runs(tmp_path, make_server):
    (tmp_path / "word_of_mouth.toml").write_text(
        (TEACHING / "word_of_mouth.toml").read_text() + EXTRA)
    s = make_server("--scenarios", str(tmp_path))
    _, _, body = s.request("GET", "/api/scenarios")
    scenarios = json.loads(body)["scenarios"]
    assert [sc["id"] for sc in scenarios] == ["word_of_mouth"], "only the folder's scenarios"
    sliders = {x["name"]: x for x in scenarios[0]["sliders"]}
    assert list(sliders) == ["word_of_mouth", "media", "pioneers", "partners"]
    assert sliders["partners"] == {"name": "partners", "label": "Partners each",
                                   "help": "How many partners each organisation has.",
                                   "min": 1.0, "max": 12.0, "step": 1.0, "integer": True,
                                   "value": 6.0}
    finals = {}
    for n in (1, 12):
        status, _, run = s.run({"scenario": "word_of_mouth", "params": {"partners": n},
                                "steps": 36})
        assert status == 200, run
        assert run["params"]["partners"] == n
        finals[n] = run["innovations"][0]["summary"]["final_share"]
    assert finals[12] > finals[1], "more partners, more word of mouth"
    status, _, err = s.run({"scenario": "word_of_mouth", "params": {"partners": 13}})
    assert status == 400 and "[1, 12]" in err["error"]
    status, _, err = s.run({"scenario": "word_of_mouth", "params": {"partners": 2.5}})
    assert status == 400 and "whole number" in err["error"]


def test_the_shipped_sliders_come_from_the_files():
    text = (TEACHING / "clusters_matter.toml").read_text()
    assert "[workshop]" in text and 'name = "peer_weight"' in text
    source = (REPO / "sim" / "workshop" / "request.cpp").read_text()
    assert "cluster_rules.peer_weight.weight" not in source, "no catalogue in the C++"


def validate(path):
    return subprocess.run([csei_binary(), "validate", str(path)], capture_output=True,
                          text=True, timeout=60)


SLIDER = """
[[workshop.sliders]]
name = "media"
key = "innovations[0].p"
label = "Media"
min = 0.0
max = 0.5
step = 0.01
"""


@pytest.mark.parametrize("change,line_of,message", [
    (("[workshop]\ntitle = \"T\"\ncolour = \"red\"\n", ""), "colour", "workshop.colour: unknown key"),
    (("", "min = 0.0\n", "minimum = 0.0\n"), "minimum", "workshop.sliders[0].minimum: unknown key"),
    (("", "max = 0.5\n", "max = 0.0\n"), "max = 0.0", "workshop.sliders[0].max: must be greater than min"),
    (("", "step = 0.01\n", "step = 0.0\n"), "step = 0.0", "workshop.sliders[0].step: step must be in (0"),
    (("", "step = 0.01\n", "step = 2.0\n"), "step = 2.0", "workshop.sliders[0].step: step must be in (0"),
    (("", "max = 0.5\n", "max = 0.5\ninteger = true\n"), "max = 0.5", "must be a whole number"),
    (("", "key = \"innovations[0].p\"\n", "key = \"innovations[0].nothing\"\n"), "innovations[0].nothing",
     "workshop.sliders[0].key: 'innovations[0].nothing' is not set in this scenario"),
    (("", "key = \"innovations[0].p\"\n", "key = \"innovations[0\"\n"), "innovations[0\"", "malformed"),
    (("", "key = \"innovations[0].p\"\n", "key = \"innovations[0].rule\"\n"), "innovations[0].rule",
     "is a string in this scenario, not a number"),
    (("", "max = 0.5\n", "max = 0.01\n"), "key = ", "the scenario's value 0.03 is outside [0, 0.01]"),
    (("", "name = \"media\"\n", "name = \"Media!\"\n"), "Media!", "workshop.sliders[0].name: must be 1 to 40"),
    (("", "label = \"Media\"\n", ""), "[[workshop.sliders]]", "workshop.sliders[0].label: missing required key"),
])
def test_bad_workshop_tables_are_input_errors_with_file_line_and_key(tmp_path, change, line_of,
                                                                      message):
    base = (TEACHING / "word_of_mouth.toml").read_text()
    head, _, _ = base.partition("\n# Workshop mode")
    table = "[workshop]\ntitle = \"T\"\n" + SLIDER
    if change[0]:
        table = change[0]
    elif len(change) == 3:
        assert change[1] in table
        table = table.replace(change[1], change[2], 1)
    text = head + "\n" + table
    path = tmp_path / "bad.toml"
    path.write_text(text)
    proc = validate(path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = next(i for i, l in enumerate(text.splitlines(), 1) if line_of in l)
    assert f"{path}:{line}:" in proc.stderr, proc.stderr
    assert message in proc.stderr, proc.stderr


def test_a_duplicate_slider_name_is_an_input_error(tmp_path):
    base = (TEACHING / "word_of_mouth.toml").read_text().partition("\n# Workshop mode")[0]
    path = tmp_path / "dup.toml"
    path.write_text(base + "\n[workshop]\ntitle = \"T\"\n" + SLIDER + SLIDER)
    proc = validate(path)
    assert proc.returncode == 2
    assert "a second slider named 'media'" in proc.stderr


def test_the_shipped_teaching_scenarios_validate():
    for path in sorted(TEACHING.glob("*.toml")):
        proc = validate(path)
        assert proc.returncode == 0, proc.stderr
