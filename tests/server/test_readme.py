"""The README section "The embedded server" (``docs/readme/server.md``): every python block
runs, in order and in one namespace, and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

SECTION = Path(__file__).parents[2] / "docs" / "readme" / "server.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def test_server_section_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ONA_API_KEY", "GITPOD_API_KEY", "ONA_BASE_URL", "GITPOD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    blocks = _BLOCK.findall(SECTION.read_text())
    assert len(blocks) >= 4
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{SECTION.name}[python block {number}]", "exec")
        exec(code, namespace)  # noqa: S102 - the documented examples are the test
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "True",
        "['alice laptop', 'ci']",
        "2",
        "denied as expected",
        "[100, 100, 41]",
    ]


def test_the_plugin_example_passes_under_pytest(pytester: pytest.Pytester) -> None:
    """The section's test file, run by pytest with nothing but the installed plugin."""
    (example,) = [b for b in _BLOCK.findall(SECTION.read_text()) if "ona_pats_faults" in b]
    pytester.makepyfile(test_example=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
