"""Counts the hand-written lines of the client core: src/ona_pats without server/, the CLI
(_cli/), the generated stubs (_gen/) and the generated sync half (_sync/).

Prints physical lines and code lines (neither blank, nor a comment, nor a docstring).

Usage: python scripts/core_lines.py [SRC_DIR]   (default: src/ona_pats)
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

SKIP = ("server", "_cli", "_gen", "_sync")


def count(path: Path) -> tuple[int, int]:
    """(physical lines, code lines) of one module."""
    text = path.read_text()
    lines = text.splitlines()
    other = {n + 1 for n, line in enumerate(lines) if not line.strip()}
    for node in ast.walk(ast.parse(text)):
        value = getattr(node, "value", None) if isinstance(node, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            other.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and not lines[token.start[0] - 1].split("#")[0].strip():
            other.add(token.start[0])
    return len(lines), len(lines) - len(other)


def main(root: Path) -> None:
    """Print the totals for ``root``."""
    files = [
        p for p in sorted(root.rglob("*.py")) if not set(SKIP) & set(p.relative_to(root).parts)
    ]
    physical = code = 0
    for path in files:
        p, c = count(path)
        physical, code = physical + p, code + c
    print(f"{len(files)} modules: {physical} lines, {code} lines of code")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "src/ona_pats"))
