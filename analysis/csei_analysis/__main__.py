"""Entry point for `python -m csei_analysis`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
