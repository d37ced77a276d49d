"""``python -m bench``: run every client against every server and print the tables."""

from __future__ import annotations

import sys

from ._harness import main

if __name__ == "__main__":
    sys.exit(main())
