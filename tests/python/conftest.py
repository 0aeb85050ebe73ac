"""Makes the Python package csei importable: from CSEI_PYTHONPATH when set (an installed
package, `scripts/test-install.sh`), else from <repo>/analysis with the module built in
<repo>/build (or CSEI_BUILD_DIR)."""
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
installed = os.environ.get("CSEI_PYTHONPATH")
sys.path.insert(0, installed if installed else str(REPO / "analysis"))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def csei_bin():
    path = Path(os.environ.get("CSEI_BIN", REPO / "build" / "csei"))
    if not path.exists():
        pytest.fail(f"csei binary not found at {path}: build it first (scripts/build.sh)")
    return str(path)
