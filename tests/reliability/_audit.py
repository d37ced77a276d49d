"""The secret audit: every bearer token seen must never appear in what the library shows.

One process-wide :data:`AUDIT` collects the secrets (every token a fixture issues, every
``Authorization: Bearer`` the fault proxy forwards, every secret ``create`` returns) and the
texts a user or operator could see: every log record at DEBUG (message, arguments, formatted
traceback), the ``str``, ``repr`` and formatted traceback of every exception the scenarios
catch (with their ``__cause__``/``__context__`` chains), CLI output, and, through the pytest
plugin below, the report sections (captured stdout, stderr, log) and failure texts of every
test of the session. ``test_secrets.py`` asserts over it; the plugin re-checks at session end.

To audit the whole suite and not only ``tests/reliability``, ``tests/conftest.py`` adds
``pytest_plugins = ["tests.reliability._audit"]``; ``tests/reliability/conftest.py`` also
registers it, so it is active whenever a reliability test is collected.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable

import pytest

# A Connect secret from the embedded server is "onapat_" + 59 characters; anything shorter
# than this is not a bearer token and would only cause false alarms (e.g. "x" in a text).
_MIN_SECRET_LEN = 16
_NEEDLE_LEN = 24
_B64TOKEN_RUN = re.compile(rf"[A-Za-z0-9\-._~+/=]{{{_MIN_SECRET_LEN},}}")


class SecretAudit(logging.Handler):
    """Collects secrets and visible texts; finds secrets in texts."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._guard = threading.Lock()
        self.secrets: set[str] = set()
        # A dict used as an ordered set: repeated texts (one log line per request) count once.
        self.texts: dict[tuple[str, str], None] = {}
        self.records = 0
        self.exceptions = 0

    # -- collecting ------------------------------------------------------------------------

    def secret(self, value: str | None) -> None:
        """Remember a bearer secret (``"Bearer x"`` or ``x``)."""
        if value:
            value = value.removeprefix("Bearer ").removeprefix("bearer ").strip()
        if value and len(value) >= _MIN_SECRET_LEN:
            with self._guard:
                self.secrets.add(value)

    def text(self, origin: str, text: str | bytes | None) -> None:
        """Remember something a user or operator could see."""
        if text:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            with self._guard:
                self.texts[origin, text] = None

    def exception(self, exc: BaseException, origin: str = "exception") -> None:
        """Remember ``str``, ``repr`` and the formatted traceback of ``exc`` and its chain."""
        self.exceptions += 1
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            name = type(current).__name__
            self.text(f"{origin}: str({name})", str(current))
            self.text(f"{origin}: repr({name})", repr(current))
            self.text(f"{origin}: args({name})", repr(current.args))
            current = current.__cause__ or current.__context__
        self.text(f"{origin}: traceback", "".join(traceback.format_exception(exc)))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is still worth auditing raw
            message = f"{record.msg!r} % {record.args!r}"
        parts = [message, repr(record.args)]
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            parts.append(record.stack_info)
        self.text(f"log {record.name}:{record.levelname}", "\n".join(parts))

    # -- checking --------------------------------------------------------------------------

    def leaks(self) -> list[str]:
        """Where a known secret (or its last 24 characters) shows up, one line per text."""
        with self._guard:
            needles = {s[-_NEEDLE_LEN:]: s for s in self.secrets}
            texts = list(self.texts)
        lengths = sorted({len(n) for n in needles})
        found: list[str] = []
        for origin, text in texts:
            secret = _find(text, needles, lengths)
            if secret is not None:
                excerpt = text.replace(secret, "<SECRET>").replace(
                    secret[-_NEEDLE_LEN:], "<SECRET>"
                )
                found.append(f"{origin}: contains secret {secret[:10]}...: {excerpt[:300]!r}")
        return found


def _find(text: str, needles: dict[str, str], lengths: list[int]) -> str | None:
    """The secret whose needle occurs in ``text``, if any.

    A bearer token is a b64token (RFC 6750 section 2.1), so any needle lies inside one maximal
    run of b64token characters; checking each window of each run against a set keeps the
    audit linear in the size of the text, however many secrets there are.
    """
    for run in _B64TOKEN_RUN.findall(text):
        for length in lengths:
            for i in range(len(run) - length + 1):
                secret = needles.get(run[i : i + length])
                if secret is not None:
                    return secret
    return None


AUDIT = SecretAudit()


def install() -> None:
    """Capture every log record of the process at DEBUG (idempotent)."""
    root = logging.getLogger()
    if AUDIT not in root.handlers:
        root.addHandler(AUDIT)
    # Loggers left at NOTSET (ona_pats, connectrpc, pyqwest, httpx...) inherit DEBUG from
    # the root; a level a library or a test set explicitly is left alone.
    if root.level > logging.DEBUG or root.level == logging.NOTSET:
        root.setLevel(logging.DEBUG)


def harvest_secrets() -> None:
    """Learn every secret of the session where it is born, not only the ones tests hand over:
    each one an embedded server mints (``_tokens.new_secret``) and each one a client is given
    (``BearerToken``). Idempotent; the wrappers only record and return what they wrap."""
    from ona_pats import _auth
    from ona_pats.server import _tokens

    minted = _tokens.new_secret
    if not getattr(minted, "_audited", False):

        def new_secret() -> _tokens.Secret:
            secret = minted()
            AUDIT.secret(secret.text)
            return secret

        new_secret._audited = True  # type: ignore[attr-defined]
        _tokens.new_secret = new_secret

    given = _auth.BearerToken.__init__
    if not getattr(given, "_audited", False):

        def init(self: _auth.BearerToken, secret: str) -> None:
            AUDIT.secret(secret)
            given(self, secret)

        init._audited = True  # type: ignore[attr-defined]
        _auth.BearerToken.__init__ = init  # type: ignore[method-assign]


def _report_texts(report: pytest.TestReport) -> Iterable[tuple[str, str]]:
    for name, content in report.sections:
        yield f"{report.nodeid} {name}", content
    # Only the exception's own text: the rest of a failure report is pytest showing the test's
    # arguments and source, where a fixture holding a token is the test's business.
    crash = getattr(report.longrepr, "reprcrash", None)
    if report.failed and crash is not None:
        yield f"{report.nodeid} failure", str(crash.message)


class _Plugin:
    """pytest hooks: audit every test's report, and fail the session on a leak."""

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for origin, text in _report_texts(report):
            AUDIT.text(origin, text)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        leaks = AUDIT.leaks()
        if leaks:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            lines = ["SECRET AUDIT: a bearer token appeared in visible output:", *leaks[:20]]
            for line in lines:
                if reporter is not None:
                    reporter.write_line(line, red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


_PLUGIN_NAME = "ona-pats-secret-audit"


def pytest_configure(config: pytest.Config) -> None:
    """Register the audit once per session (from a conftest or ``pytest_plugins``)."""
    if not config.pluginmanager.has_plugin(_PLUGIN_NAME):
        config.pluginmanager.register(_Plugin(), _PLUGIN_NAME)
    install()
    harvest_secrets()
