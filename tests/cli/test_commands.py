"""Each command end to end as a subprocess against the embedded server on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ona_pats.server import IssuedToken, Server

from . import _run
from ._proxy import failing_proxy

# The keys of a PersonalAccessToken in the seed documents' JSON examples.
SEED_KEYS = {"id", "userId", "description", "creator", "createdAt", "expiresAt", "readOnly"}


def _create(env: dict[str, str], user: IssuedToken, *extra: str) -> str:
    result = _run.run("create", "--user-id", user.user_id, *extra, env=env)
    assert result.code == 0, result.err
    assert "shown only once" in result.err
    (secret,) = result.out.splitlines()
    return secret


def _json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_create_prints_the_secret_once_and_it_works(server: Server, user: IssuedToken) -> None:
    env = _run.environment(server.base_url, user.token)
    secret = _create(env, user, "--description", "ci", "--valid-for", "30d", "--read-only")
    as_new = _run.run("list", "--json", env=_run.environment(server.base_url, secret))
    assert as_new.code == 0, as_new.err
    created = [pat for pat in _json_lines(as_new.out) if pat["description"] == "ci"]
    assert len(created) == 1
    assert created[0]["readOnly"] is True
    assert secret not in as_new.out


def test_create_json_prints_the_response_shape(env: dict[str, str], user: IssuedToken) -> None:
    result = _run.run("create", "--user-id", user.user_id, "--json", env=env)
    assert result.code == 0, result.err
    assert list(json.loads(result.out)) == ["token"]


def test_list_prints_a_table(env: dict[str, str], user: IssuedToken) -> None:
    _create(env, user, "--description", "deploy bot")
    result = _run.run("list", env=env)
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split() == ["ID", "USER", "DESCRIPTION", "EXPIRES", "LAST", "USED", "READ-ONLY"]
    assert any("deploy bot" in row and user.user_id in row for row in rows)
    assert len(rows) == 2


@pytest.mark.parametrize("protocol", ["proto", "json"])
def test_list_json_lines_in_the_seed_shape(
    env: dict[str, str], user: IssuedToken, protocol: str
) -> None:
    _create(env, user, "--description", "ci")
    result = _run.run("--protocol", protocol, "list", "--json", env=env)
    assert result.code == 0, result.err
    pats = _json_lines(result.out)
    assert len(pats) == 2
    for pat in pats:
        assert set(pat) >= SEED_KEYS
        assert pat["userId"] == user.user_id
        assert str(pat["createdAt"]).endswith("Z")


def test_list_one_page_says_how_to_continue(server: Server, user: IssuedToken) -> None:
    for n in range(4):
        server.create_user_token(user.user_id, description=f"t{n}")
    env = _run.environment(server.base_url, user.token)
    first = _run.run("list", "--json", "--page-size", "2", env=env)
    assert first.code == 0, first.err
    assert len(first.out.splitlines()) == 2
    assert "--page-token" in first.err
    next_token = first.err.split("--page-token ")[1].split()[0]
    second = _run.run("list", "--json", "--page-size", "2", "--page-token", next_token, env=env)
    assert second.code == 0, second.err
    ids = {pat["id"] for pat in _json_lines(first.out) + _json_lines(second.out)}
    assert len(ids) == 4


@pytest.mark.parametrize("protocol", ["proto", "json"])
def test_list_all_follows_every_page(server: Server, user: IssuedToken, protocol: str) -> None:
    for n in range(6):
        server.create_user_token(user.user_id, description=f"t{n}")
    env = _run.environment(server.base_url, user.token)
    result = _run.run(
        "--protocol", protocol, "list", "--all", "--json", "--page-size", "2", env=env
    )
    assert result.code == 0, result.err
    ids = [pat["id"] for pat in _json_lines(result.out)]
    assert len(ids) == len(set(ids)) == 7
    assert result.err == ""  # no progress when stderr is not a terminal


def test_list_user_id_filter(server: Server, user: IssuedToken) -> None:
    other = server.create_user_token()
    admin = _run.environment(server.base_url, server.admin_token)
    result = _run.run("list", "--all", "--json", "--user-id", other.user_id, env=admin)
    assert result.code == 0, result.err
    assert {pat["userId"] for pat in _json_lines(result.out)} == {other.user_id}
    denied = _run.run(
        "list", "--user-id", other.user_id, env=_run.environment(server.base_url, user.token)
    )
    assert denied.code == 5


def test_list_expiring_within(server: Server, user: IssuedToken) -> None:
    soon = server.create_user_token(user.user_id, description="soon", valid_for=timedelta(days=3))
    server.create_user_token(user.user_id, description="later", valid_for=timedelta(days=60))
    gone = datetime.now(UTC) - timedelta(days=1)
    server.create_user_token(user.user_id, description="expired", expires_at=gone)
    env = _run.environment(server.base_url, user.token)
    result = _run.run("list", "--json", "--expiring-within", "7d", "--page-size", "1", env=env)
    assert result.code == 0, result.err
    assert [pat["id"] for pat in _json_lines(result.out)] == [soon.id]
    table = _run.run("list", "--expiring-within", "7d", env=env)
    assert "soon" in table.out
    assert "later" not in table.out
    assert "expired" not in table.out


def test_get_shows_details_and_json(env: dict[str, str], user: IssuedToken) -> None:
    details = _run.run("get", user.id, env=env)
    assert details.code == 0, details.err
    assert f"id:          {user.id}" in details.out
    assert "cli test user" in details.out
    as_json = _run.run("get", user.id, "--json", env=env)
    assert as_json.code == 0, as_json.err
    (pat,) = _json_lines(as_json.out)
    assert pat["id"] == user.id
    assert set(pat) >= SEED_KEYS


def test_delete_with_yes(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id, description="old")
    env = _run.environment(server.base_url, user.token)
    result = _run.run("delete", "--yes", victim.id, env=env)
    assert result.code == 0, result.err
    assert victim.id in result.out
    assert _run.run("get", victim.id, env=env).code == 4


def test_delete_without_terminal_or_yes_refuses(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id, description="keep")
    env = _run.environment(server.base_url, user.token)
    result = _run.run("delete", victim.id, env=env)
    assert result.code == 2
    assert "--yes" in result.err
    assert _run.run("get", victim.id, env=env).code == 0


def test_rotate_replaces_the_token(server: Server, user: IssuedToken) -> None:
    old = server.create_user_token(user.user_id, description="ci", read_only=True)
    env = _run.environment(server.base_url, user.token)
    result = _run.run("rotate", old.id, env=env)
    assert result.code == 0, result.err
    (secret,) = result.out.splitlines()
    assert _run.run("get", old.id, env=env).code == 4
    listed = _json_lines(
        _run.run("list", "--json", env=_run.environment(server.base_url, secret)).out
    )
    successor = [pat for pat in listed if pat["description"] == "ci"]
    assert len(successor) == 1
    assert successor[0]["readOnly"] is True
    assert successor[0]["userId"] == user.user_id


def test_rotate_fails_plainly_when_the_old_token_survives(
    server: Server, user: IssuedToken
) -> None:
    """The delete after the create fails: the new secret is printed, exit 6, no success claim."""
    old = server.create_user_token(user.user_id, description="ci")
    with failing_proxy(server.base_url, "DeletePersonalAccessToken") as proxy:
        result = _run.run("rotate", old.id, env=_run.environment(proxy, user.token))
    assert result.code == 6
    (secret,) = result.out.splitlines()  # the successor's secret is not lost
    (line,) = result.err.splitlines()
    assert "rotate incomplete" in line
    assert "STILL VALID" in line
    assert f"ona-pats delete {old.id}" in line
    assert "replaced" not in line
    direct = _run.environment(server.base_url, user.token)
    assert _run.run("get", old.id, env=direct).code == 0
    assert _run.run("list", env=_run.environment(server.base_url, secret)).code == 0
