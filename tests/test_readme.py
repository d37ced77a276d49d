"""README.md opens with the two set-up commands and holds the current docs/readme sections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_holds_the_current_sections() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/build_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```console\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["./scripts/demo", "./scripts/test"]
    ci = (ROOT / ".ci/run").read_text()
    assert "exec scripts/test" in ci
