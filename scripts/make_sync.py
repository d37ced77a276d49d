"""Generates the sync half of the client from its async source, as httpcore does.

``src/ona_pats/_async/*.py`` is the one definition of the client, its resources, the pager and
the reference-SDK surface; ``src/ona_pats/_sync/*.py`` is made from it by ``unasync`` (which
drops ``async``/``await`` and renames tokens by the table below), then ruff's safe fixes and
``ruff format``. The few
words in docstrings that differ are replaced as text (``DOC_WORDS``).

Usage: python scripts/make_sync.py [--check]   (--check: fail if _sync/ is not what this makes)
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "ona_pats" / "_async"
TARGET = ROOT / "src" / "ona_pats" / "_sync"

#: Names that differ beyond unasync's defaults (``AsyncX`` -> ``SyncX``, ``__aiter__``, ...).
TOKENS = {
    "AsyncClient": "Client",  # ours, and httpx's
    "AsyncUsers": "Users",
    "AsyncPats": "Pats",
    "AsyncPatsWithRawResponse": "PatsWithRawResponse",
    "AsyncPager": "Pager",
    "AsyncFetchPage": "FetchPage",
    "AsyncGitpod": "Gitpod",
    "AsyncUsersResource": "UsersResource",
    "AsyncPatsResource": "PatsResource",
    "HTTPXAsyncTransport": "HTTPXSyncTransport",
    "HTTPTransport": "SyncHTTPTransport",  # pyqwest
    "Transport": "SyncTransport",  # pyqwest
    "Interceptor": "InterceptorSync",  # connectrpc
    "adelete_all": "delete_all",
    "aclose": "close",
    "asend": "send",
    "anext": "next",
    "await_turn": "wait_turn",
    "asyncio": "time",  # asyncio.sleep -> time.sleep
    "_async": "_sync",  # imports of the other generated modules
    "execute": "execute_sync",  # pyqwest's transport protocols
    "Request": "SyncRequest",
    "Response": "SyncResponse",
    "aiter_bytes": "iter_bytes",  # httpx
    "_astream": "_stream",
}
#: Docstring and comment words of the async source, and what the sync half says instead.
DOC_WORDS = {
    "async for ": "for ",
    "async with ": "with ",
    "await ": "",
    "AsyncClient": "Client",
    "AsyncGitpod": "Gitpod",
    "AsyncPager": "Pager",
    "AsyncCall": "SyncCall",
    "asyncio.sleep": "time.sleep",
    "worker tasks": "a thread pool",
    "on the event loop": "on the pool's threads",
}
HEADER = "# Generated from src/ona_pats/_async/{name} by scripts/make_sync.py: edit that file.\n"


def generate(source: Path, target: Path) -> dict[str, str]:
    """The sync text of each module in ``source``, by file name."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "_sync"
        rule = unasync.Rule(str(source) + "/", str(out) + "/", additional_replacements=TOKENS)
        files = sorted(str(path) for path in source.glob("*.py"))
        unasync.unasync_files(files, [rule])
        result = {}
        for path in sorted(out.glob("*.py")):
            text = path.read_text()
            for old, new in DOC_WORDS.items():
                text = text.replace(old, new)
            result[path.name] = _format(HEADER.format(name=path.name) + text, target / path.name)
    return result


def _format(text: str, path: Path) -> str:
    """``text`` as ruff leaves it: its safe fixes (import order, after renames), then format."""
    ruff = str(Path(sys.executable).parent / "ruff")
    for command in (["check", "--fix", "--quiet", "--exit-zero"], ["format"]):
        text = subprocess.run(
            [ruff, *command, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def main(check: bool, target: Path = TARGET) -> int:
    """Write (or with ``check``, compare) ``target``, the ``_sync/`` package; the exit status."""
    wanted = generate(SOURCE, TARGET)
    existing = {path.name: path.read_text() for path in target.glob("*.py")}
    if check:
        stale = sorted(set(wanted) ^ set(existing)) + [
            name for name in wanted if name in existing and wanted[name] != existing[name]
        ]
        for name in stale:
            diff = difflib.unified_diff(
                existing.get(name, "").splitlines(),
                wanted.get(name, "").splitlines(),
                f"_sync/{name}",
                f"unasync(_async/{name})",
                lineterm="",
            )
            print("\n".join(list(diff)[:40]), file=sys.stderr)
        if stale:
            print("unasync: src/ona_pats/_sync is stale: run scripts/make_sync.py", file=sys.stderr)
            return 1
        print("unasync: _sync/ matches _async/")
        return 0
    target.mkdir(exist_ok=True)
    for name in set(existing) - set(wanted):
        (target / name).unlink()
    for name, text in wanted.items():
        (target / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
