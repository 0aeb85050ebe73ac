"""Fixtures shared by every pytest suite: the csei binary and the repository root."""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def csei():
    path = pathlib.Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))
    if not path.exists():
        pytest.fail(f"csei binary not found at {path}: build it first (scripts/build.sh)")
    return str(path)


@pytest.fixture(scope="session")
def repo():
    return REPO
