"""Set-up for the calibration tests: the analysis package on the path (the csei binary and
repository fixtures come from tests/conftest.py)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "analysis"))
