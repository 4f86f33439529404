"""``python -m quantumclusters``: see :mod:`quantumclusters.cli`."""

from quantumclusters.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
