import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import csei_binary  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _need_binary():
    if not csei_binary().is_file():
        pytest.skip(f"csei binary not built at {csei_binary()} (build it or set CSEI_BIN)")
