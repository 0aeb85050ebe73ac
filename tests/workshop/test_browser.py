"""The page in Debian's headless Chromium, driven by playwright-core from npm
(tests/workshop/browser/workshop.test.mjs): load, move sliders with the keyboard, run, check the
chart's data against the API, keep and compare runs, the EU map, export, and a screenshot
(build/test-artifacts/workshop.png). Needs `npm ci` in tests/workshop/browser (scripts/test.sh
does it); skipped where Node or Chromium is missing, except in CI."""
import os
import shutil
import subprocess

import pytest

from workshop_server import ARTIFACTS, REPO

BROWSER_DIR = REPO / "tests" / "workshop" / "browser"


def browser_or_skip():
    node = shutil.which("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    missing = [what for what, ok in [
        ("node", node), ("chromium", os.path.exists(chromium)),
        ("playwright-core (npm ci in tests/workshop/browser)",
         (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()),
    ] if not ok]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("missing for the browser test: " + ", ".join(missing))
        pytest.skip("missing for the browser test: " + ", ".join(missing))
    return node, chromium


def test_page_in_headless_chromium(server):
    node, chromium = browser_or_skip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "workshop.png"
    shot.unlink(missing_ok=True)
    env = {**os.environ, "WORKSHOP_URL": server.url, "SCREENSHOT": str(shot), "CHROMIUM": chromium}
    proc = subprocess.run([node, "workshop.test.mjs"], cwd=BROWSER_DIR, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert shot.stat().st_size > 10_000


def test_a_room_with_two_participants_and_the_trainer(make_server):
    """tests/workshop/browser/room.test.mjs: two groups join and run, the trainer sees both
    groups' runs, a slider the trainer locks cannot be moved, reveal shows the class."""
    node, chromium = browser_or_skip()
    room = make_server("--lan")
    room.read_codes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "trainer.png"
    shot.unlink(missing_ok=True)
    env = {**os.environ, "WORKSHOP_URL": room.url, "JOIN_CODE": room.join_code,
           "TRAINER_CODE": room.trainer_code, "SCREENSHOT": str(shot), "CHROMIUM": chromium}
    proc = subprocess.run([node, "room.test.mjs"], cwd=BROWSER_DIR, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert shot.stat().st_size > 10_000
