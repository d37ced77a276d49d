"""The README section "Using the client" (``docs/readme/using-the-client.md``): every python
block runs, in order and in one namespace, against the loopback server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import TOKEN, ScriptedServer

SECTION = Path(__file__).parent.parent / "docs" / "readme" / "using-the-client.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    """The python code blocks of a markdown text, in order."""
    return _BLOCK.findall(text)


def test_section_has_examples() -> None:
    assert len(python_blocks(SECTION.read_text())) >= 5


def test_readme_examples_run(
    scripted_server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    no_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ONA_API_KEY", TOKEN)
    monkeypatch.setenv("ONA_BASE_URL", scripted_server.url)
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(python_blocks(SECTION.read_text()), 1):
        code = compile(block, f"{SECTION.name}[python block {number}]", "exec")
        exec(code, namespace)  # noqa: S102 - the documented examples are the test
    out = capsys.readouterr().out
    assert "no such token: not_found 404" in out
    assert "rejected before sending: personal_access_token_id" in out
    assert "POST /gitpod.v1.UserService/ListPersonalAccessTokens" in out
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in scripted_server.requests)
