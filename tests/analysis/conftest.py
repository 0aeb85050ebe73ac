"""Makes the csei_analysis package in <repo>/analysis importable for these tests."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "analysis"))
