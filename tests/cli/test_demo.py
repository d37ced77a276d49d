"""The demo, the README's first command: it exits 0 and prints every step it promises."""

from __future__ import annotations

import os
from pathlib import Path

from . import _run

ROOT = Path(__file__).resolve().parents[2]


def test_demo_exits_0_and_prints_every_step() -> None:
    result = _run.run("demo", env=_run.environment(None, None), timeout=120)
    assert result.code == 0, result.err
    out = result.out
    steps = [
        "Starting the embedded UserService server on a fresh SQLite file",
        "listening on http://127.0.0.1:",
        "1. Create tokens for two users",
        "2. List both users' tokens page by page over binary protobuf (application/proto)",
        "page 1 (3 tokens, next token",
        "3. The same listing over JSON (application/json)",
        "Same tokens, same order, with either codec.",
        "4. Get one token",
        "5. A read-only token is refused a delete",
        "refused (permission_denied",
        "6. Delete a token",
        "getting it again: not_found",
        "Stopped cleanly",
    ]
    positions = [out.index(step) for step in steps]  # each present, in this order
    assert positions == sorted(positions)
    assert "alice" in out
    assert "bob" in out
    assert result.err == ""


def test_scripts_demo_is_the_readme_command() -> None:
    script = ROOT / "scripts" / "demo"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert 'ONA_PATS_INSTALL=server source "$(dirname "$0")/_venv.sh"' in text
    assert "python -m ona_pats demo" in text


def test_demo_talks_to_loopback_even_with_a_proxy_configured() -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    proxies = {"HTTP_PROXY": dead, "http_proxy": dead, "HTTPS_PROXY": dead}
    env = _run.environment(None, None, NO_PROXY="", no_proxy="", **proxies)
    result = _run.run("demo", env=env, timeout=120)
    assert result.code == 0, result.err
    assert "Done." in result.out
