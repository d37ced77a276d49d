"""Secrets: the bearer token never shows, never travels in the clear, and is never stored.

The audit (``_audit.py``) collects every log record at DEBUG, every exception the reliability
scenarios catch (str, repr, traceback, cause chain), CLI output, and every test report's
captured output; ``test_no_bearer_token_in_logs_exceptions_or_cli_output`` runs its own
battery of failing scenarios and then asserts over everything collected so far, and the
plugin checks once more at the end of the session.
"""

from __future__ import annotations

import hmac
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT, SecretAudit
from ._faultproxy import Fault, FaultProxy, Response
from ._support import proxied

# A well-formed secret that the server never issued, so it is refused as unauthenticated.
_UNKNOWN = "onapat_0123456789abcdef" + "Z" * 43


def _scenarios(
    server: Server, proxy: FaultProxy, token: str, read_only: str
) -> Iterator[tuple[str, Callable[[], Any]]]:
    def client(secret: str = token, **options: Any) -> ona_pats.Client:
        options.setdefault("sleep", lambda _s: None)
        return ona_pats.Client(token=secret, base_url=proxy.url, timeout=1.0, **options)

    missing = str(uuid.uuid4())
    yield "not-found", lambda: client().users.pats.get(personal_access_token_id=missing)
    yield "unauthenticated", lambda: client(_UNKNOWN).users.pats.list().pages().__next__()
    yield (
        "read-only-delete",
        lambda: client(read_only).users.pats.delete(personal_access_token_id=missing),
    )
    yield "validation", lambda: client().users.pats.get(personal_access_token_id="nope")
    yield "insecure-url", lambda: ona_pats.Client(token=token, base_url="http://pats.example")
    yield (
        "closed-port",
        lambda: ona_pats.Client(
            token=token, base_url="http://127.0.0.1:9", timeout=1.0, max_retries=0
        ).users.pats.get(personal_access_token_id=missing),
    )
    for fault in (Fault.HTML_ERROR_PAGE, Fault.GARBAGE_PROTO, Fault.DELAY, Fault.DROP_MID_RESPONSE):

        def hostile(fault: Fault = fault) -> Any:
            proxy.inject(fault, times=10)
            try:
                return client().users.pats.get(personal_access_token_id=missing)
            finally:
                proxy.clear()

        yield f"hostile-{fault.value}", hostile

    def echoing() -> Any:
        """A server that echoes the token back in its error message must not get it shown."""
        body = f'{{"code": "invalid_argument", "message": "bad token Bearer {token}"}}'.encode()
        response = Response(400, (("content-type", "application/json"),), body)
        proxy.inject(Fault.CANNED, times=1, response=response)
        return client(max_retries=0).users.pats.get(personal_access_token_id=missing)

    yield "server-echoes-token", echoing


def _audit_client_repr(token: str, proxy: FaultProxy) -> None:
    with ona_pats.Client(token=token, base_url=proxy.url) as client:
        AUDIT.text("repr(Client)", repr(client))
        AUDIT.text("repr(Client.users)", repr(client.users))


def _run_cli(args: list[str], token: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(ONA_API_KEY=token, ONA_BASE_URL=base_url, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "ona_pats", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_bearer_token_in_logs_exceptions_or_cli_output(server: Server, admin_token: str) -> None:
    read_only = server.create_user_token(read_only=True)
    AUDIT.secret(read_only.token)
    AUDIT.secret(_UNKNOWN)
    records_before = AUDIT.records
    with proxied(server.base_url, delay=3.0) as proxy:
        _audit_client_repr(admin_token, proxy)
        for name, scenario in _scenarios(server, proxy, admin_token, read_only.token):
            try:
                scenario()
            except Exception as exc:
                AUDIT.exception(exc, origin=name)
            else:
                pytest.fail(f"scenario {name} did not fail")
        missing = str(uuid.uuid4())
        for args in (
            ["list", "--all"],
            ["--debug", "get", missing],
            ["--debug", "--timeout", "0.5", "list"],
        ):
            if "--timeout" in args:
                proxy.inject(Fault.DELAY, times=10)
            result = _run_cli(args, admin_token, proxy.url)
            proxy.clear()
            AUDIT.text(f"cli {args} stdout", result.stdout)
            AUDIT.text(f"cli {args} stderr", result.stderr)
        result = _run_cli(["--debug", "delete", "--yes", missing], read_only.token, proxy.url)
        assert result.returncode != 0
        AUDIT.text("cli delete stderr", result.stderr)
    assert AUDIT.records > records_before, "DEBUG logging reached the audit"
    assert AUDIT.exceptions >= 10
    assert AUDIT.leaks() == []


# -- where the token may travel ---------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["http://pats.example.com/api", "http://10.0.0.8:8080", "http://[2001:db8::1]/"]
)
def test_token_is_never_sent_over_plain_http_to_a_non_loopback_host(
    base_url: str, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    """Refused at construction, from the argument or the environment, before any I/O."""
    with pytest.raises(ona_pats.ConfigurationError) as caught:
        ona_pats.Client(token=admin_token, base_url=base_url)
    AUDIT.exception(caught.value)
    monkeypatch.setenv("ONA_BASE_URL", base_url)
    monkeypatch.setenv("ONA_API_KEY", admin_token)
    with pytest.raises(ona_pats.ConfigurationError):
        ona_pats.Client()


def test_token_over_plain_http_to_a_remote_host_never_reaches_the_wire(
    monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    """With every request routed through a recording HTTP proxy, nothing is ever sent."""
    with proxied("http://127.0.0.1:9") as recorder:
        monkeypatch.setenv("HTTP_PROXY", recorder.url)
        monkeypatch.setenv("http_proxy", recorder.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with pytest.raises(ona_pats.ConfigurationError):
            ona_pats.Client(token=admin_token, base_url="http://pats.example.com")
    assert recorder.connections_accepted == 0


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize(
    "target",
    [
        pytest.param("other-port", id="other-port"),
        pytest.param("other-host", id="other-host"),
        pytest.param("https-downgrade", id="scheme-change"),
    ],
)
def test_token_is_dropped_on_cross_origin_redirects(
    server: Server,
    admin_token: str,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    target: str,
) -> None:
    """A redirect to another origin is not followed with the token (or at all)."""
    ok = Response(200, (("content-type", "application/proto"),), b"")
    with proxied("http://127.0.0.1:9") as elsewhere, proxied(server.base_url) as origin:
        monkeypatch.setenv("HTTP_PROXY", elsewhere.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        location = {
            "other-port": f"{elsewhere.url}/gitpod.v1.UserService/ListPersonalAccessTokens",
            "other-host": "http://pats.example.com/gitpod.v1.UserService/ListPersonalAccessTokens",
            "https-downgrade": origin.url.replace("http://", "https://")
            + "/gitpod.v1.UserService/ListPersonalAccessTokens",
        }[target]
        origin.inject(
            Fault.CANNED, times=5, response=Response(status, (("location", location),), b"")
        )
        elsewhere.inject(Fault.CANNED, times=5, response=ok)
        with ona_pats.Client(token=admin_token, base_url=origin.url, max_retries=0) as client:
            try:
                client.users.pats.list().pages().__next__()
            except ona_pats.OnaPatsError as exc:
                AUDIT.exception(exc)
        assert origin.count("ListPersonalAccessTokens") >= 1
        for exchange in elsewhere.exchanges:
            assert "authorization" not in exchange.headers


def test_same_origin_redirect_keeps_the_token(server: Server, admin_token: str) -> None:
    """The control for the test above: a same-origin redirect is followed, with the token."""
    with proxied(server.base_url) as origin:
        location = f"{origin.url}/v2/gitpod.v1.UserService/ListPersonalAccessTokens"
        origin.inject(Fault.CANNED, times=1, response=Response(307, (("location", location),), b""))
        with ona_pats.Client(token=admin_token, base_url=origin.url, max_retries=0) as client:
            try:
                client.users.pats.list().pages().__next__()
            except ona_pats.OnaPatsError as exc:  # the server has no /v2 prefix: 404 is fine
                AUDIT.exception(exc)
        followed = [e for e in origin.exchanges if e.path.startswith("/v2/")]
        assert followed, "the same-origin redirect was followed"
        assert followed[0].headers.get("authorization") == f"Bearer {admin_token}"


# -- what the server keeps --------------------------------------------------------------------


def test_server_stores_only_hashes_of_secrets(tmp_path: Path) -> None:
    db = tmp_path / "pats.sqlite3"
    with Server(db) as srv:
        token = srv.admin_token
        assert token is not None
        with ona_pats.Client(token=token, base_url=srv.base_url) as client:
            created = [
                client.users.pats.create(user_id=srv.admin_user_id, description=f"h{i}")
                for i in range(5)
            ]
            client.users.pats.list().pages().__next__()  # last_used writes
        secrets = [token, *created]
        for secret in secrets:
            AUDIT.secret(secret)
        files = [p for p in tmp_path.iterdir() if p.name.startswith("pats.sqlite3")]
        stored = b"".join(p.read_bytes() for p in files)
    stored += db.read_bytes()
    for secret in secrets:
        key_half = secret[-43:]
        assert secret.encode() not in stored
        assert key_half.encode() not in stored


def test_server_compares_secrets_in_constant_time(
    server: Server, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    """Every check of a well-formed secret, right, wrong or unknown, goes through
    ``hmac.compare_digest``; timing cannot tell a near miss from a far one."""
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    wrong_key = admin_token[:-1] + ("A" if admin_token[-1] != "A" else "B")
    for secret, ok in ((admin_token, True), (wrong_key, False), (_UNKNOWN, False)):
        before = len(calls)
        with ona_pats.Client(token=secret, base_url=server.base_url, max_retries=0) as client:
            try:
                client.users.pats.list().pages().__next__()
                assert ok
            except ona_pats.UnauthenticatedError as exc:
                assert not ok
                AUDIT.exception(exc)
        assert len(calls) > before, f"no constant-time comparison for {'ok' if ok else 'bad'}"
        assert all(a == b for a, b in calls[before:]), "digests of equal length"


def test_server_creates_its_sqlite_file_with_mode_0600(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask must not widen it
    try:
        with Server(tmp_path / "db.sqlite3") as srv:
            token = srv.admin_token
            assert token is not None
            AUDIT.secret(token)
            with ona_pats.Client(token=token, base_url=srv.base_url) as client:
                client.users.pats.create(user_id=srv.admin_user_id)
            modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    finally:
        os.umask(old)
    assert modes["db.sqlite3"] == 0o600
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


# -- the audit itself -------------------------------------------------------------------------


def test_audit_learns_every_minted_and_used_secret(server: Server) -> None:
    """Secrets are learnt where they are born, so tests elsewhere need not register them."""
    issued = server.create_user_token()
    assert issued.token in AUDIT.secrets
    given = "Z" * 20 + "given-to-a-client"
    ona_pats.Client(token=given, base_url="http://127.0.0.1:9").close()
    assert given in AUDIT.secrets


def test_audit_finds_a_secret_in_a_log_record_or_an_exception_cause() -> None:
    """The audit is not vacuous: a planted secret is found, in whatever text it hides."""
    audit = SecretAudit()
    secret = "onapat_feedfacecafebeef" + "Q" * 43
    audit.secret(f"Bearer {secret}")
    logger = logging.getLogger("tests.reliability.planted")
    logger.addHandler(audit)
    try:
        logger.debug("sending %s", {"authorization": f"Bearer {secret}"})
    finally:
        logger.removeHandler(audit)
    try:
        try:
            raise ValueError(f"server said: bad token {secret[-30:]}")
        except ValueError as inner:
            raise ona_pats.InvalidResponseError("redacted") from inner
    except ona_pats.OnaPatsError as exc:
        audit.exception(exc)
    origins = [leak.split(":", 1)[0] for leak in audit.leaks()]
    assert any(o.startswith("log tests.reliability.planted") for o in origins), origins
    assert any("str(ValueError)" in leak for leak in audit.leaks())
    assert all(secret not in leak for leak in audit.leaks()), "reports never repeat the secret"
