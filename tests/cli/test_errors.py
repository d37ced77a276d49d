"""Exit codes and error rendering: one line on stderr, a traceback only with --debug, no token."""

from __future__ import annotations

import socket
import uuid

import pytest

from ona_pats._cli._errors import ExitCode, describe, exit_code_for
from ona_pats._exceptions import NotFoundError
from ona_pats.server import IssuedToken, Server

from . import _run

MISSING = str(uuid.UUID(int=1))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ona-pats")
    return lines[0]


def test_help_documents_every_exit_code() -> None:
    result = _run.run("--help", env=_run.environment(None, None))
    assert result.code == 0
    for line in ("0    success", "2    usage error", "3    authentication error", "4    not found"):
        assert line in result.out
    assert "ONA_API_KEY" in result.out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("list", "--page-size", "500"), id="page-size-out-of-range"),
        pytest.param(("create", "--valid-for", "30 days", "--user-id", MISSING), id="bad-duration"),
        pytest.param(("frobnicate",), id="unknown-command"),
        pytest.param(("get",), id="missing-id"),
        pytest.param(("--protocol", "xml", "list"), id="bad-protocol"),
    ],
)
def test_usage_error_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    result = _run.run(*args, env=_run.environment(None, "unused-token"))
    assert result.code == 2
    assert "error:" in _one_line(result.err)


def test_invalid_id_is_a_usage_error(env: dict[str, str]) -> None:
    result = _run.run("get", "not-a-uuid", env=env)
    assert result.code == 2
    assert "personal_access_token_id" in _one_line(result.err)


def test_missing_token_is_an_authentication_error_naming_the_variables(server: Server) -> None:
    result = _run.run("list", env=_run.environment(server.base_url, None))
    assert result.code == 3
    line = _one_line(result.err)
    assert "ONA_API_KEY" in line
    assert "GITPOD_API_KEY" in line
    assert "token=" not in line  # the CLI takes no token argument


def test_missing_token_with_gitpod_token_set_says_how_to_pass_it_on(server: Server) -> None:
    env = _run.environment(server.base_url, None, GITPOD_TOKEN="not-read")
    result = _run.run("list", env=env)
    assert result.code == 3
    line = _one_line(result.err)
    assert 'ONA_API_KEY="$GITPOD_TOKEN"' in line
    assert "Client(" not in line
    assert "not-read" not in line


def test_token_over_plain_http_to_a_remote_host_is_a_usage_error(user: IssuedToken) -> None:
    env = _run.environment("http://ona.invalid/api", user.token)
    result = _run.run("get", user.id, env=env)
    assert result.code == 2
    assert user.token not in _one_line(result.err)


def test_unknown_token_exits_3_without_showing_it(server: Server) -> None:
    forged = "onapat_0123456789abcdef" + "x" * 43
    result = _run.run("list", env=_run.environment(server.base_url, forged))
    assert result.code == 3
    line = _one_line(result.err)
    assert "unauthenticated" in line
    assert forged not in result.err + result.out


def test_debug_shows_a_traceback_but_not_the_token(server: Server) -> None:
    forged = "onapat_0123456789abcdef" + "y" * 43
    result = _run.run("--debug", "list", env=_run.environment(server.base_url, forged))
    assert result.code == 3
    assert "Traceback (most recent call last)" in result.err
    assert result.err.splitlines()[-1].startswith("ona-pats: error: unauthenticated")
    assert forged not in result.err


def test_not_found_exits_4(env: dict[str, str]) -> None:
    result = _run.run("get", MISSING, env=env)
    assert result.code == 4
    assert "not_found" in _one_line(result.err)


def test_permission_denied_exits_5(server: Server, user: IssuedToken) -> None:
    reader = server.create_user_token(user.user_id, read_only=True)
    env = _run.environment(server.base_url, reader.token)
    result = _run.run("delete", "--yes", user.id, env=env)
    assert result.code == 5
    assert "permission_denied" in _one_line(result.err)


def test_unreachable_server_exits_1(user: IssuedToken) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}"
    env = _run.environment(base_url, user.token)
    result = _run.run("--timeout", "5", "get", user.id, env=env)
    assert result.code == 1
    _one_line(result.err)
    assert user.token not in result.err


def test_global_options_also_follow_the_command(env: dict[str, str], user: IssuedToken) -> None:
    result = _run.run("get", user.id, "--protocol", "json", "--timeout", "10", env=env)
    assert result.code == 0, result.err
    assert user.id in result.out


def test_error_lines_redact_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONA_API_KEY", "my-ona-secret")
    shaped = "onapat_0123456789abcdef" + "z" * 43
    line = describe(ValueError(f"bad token my-ona-secret or {shaped}\nsecond line"))
    assert line == "ValueError: bad token *** or *** second line"


def test_error_lines_name_the_request_id() -> None:
    exc = NotFoundError("no such token", headers={"x-request-id": "req-42"})
    assert describe(exc) == "not_found: no such token [request id req-42]"
    assert exit_code_for(exc) == ExitCode.NOT_FOUND
