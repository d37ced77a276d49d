"""``python -m ona_pats``: the same as the ``ona-pats`` command."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
