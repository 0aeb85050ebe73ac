"""Fixtures for the sweep tests: the csei binary, the repository root, the analysis package.

These tests launch mpirun, so they live outside tests/cli (which CI also runs against the
AddressSanitizer build)."""
import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "analysis"))


@pytest.fixture(scope="session")
def csei():
    path = pathlib.Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))
    if not path.exists():
        pytest.fail(f"csei binary not found at {path}: build it first (scripts/build.sh)")
    return str(path)


@pytest.fixture(scope="session")
def repo():
    return REPO
