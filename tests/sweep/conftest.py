"""Set-up for the sweep tests: the analysis package on the path (the csei binary and repository
fixtures come from tests/conftest.py).

These tests launch mpirun, so they live outside tests/cli (which CI also runs against the
AddressSanitizer build)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "analysis"))
