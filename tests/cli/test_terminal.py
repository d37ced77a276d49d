"""Behaviour that depends on a terminal: the delete confirmation and the progress indicator."""

from __future__ import annotations

import json

from ona_pats.server import IssuedToken, Server

from . import _run


def test_delete_asks_on_a_terminal_and_deletes_on_yes(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id, description="laptop")
    env = _run.environment(server.base_url, user.token)
    result = _run.run_on_tty("delete", victim.id, env=env, answer="y")
    assert result.code == 0, result.tty
    assert f'Delete personal access token "laptop" {victim.id}' in result.tty
    assert "[y/N]" in result.tty
    assert f"Deleted personal access token {victim.id}." in result.tty
    assert _run.run("get", victim.id, env=env).code == 4


def test_delete_keeps_the_token_unless_confirmed(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id, description="laptop")
    env = _run.environment(server.base_url, user.token)
    result = _run.run_on_tty("delete", victim.id, env=env, answer="")
    assert result.code == 1
    assert "nothing was deleted" in result.tty
    assert _run.run("get", victim.id, env=env).code == 0


def test_ctrl_c_at_the_prompt_deletes_nothing(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id, description="laptop")
    env = _run.environment(server.base_url, user.token)
    result = _run.run_on_tty("delete", victim.id, env=env, answer=_run.CTRL_C)
    assert result.code == 130
    assert "interrupted" in result.tty
    assert "Traceback" not in result.tty
    assert _run.run("get", victim.id, env=env).code == 0


def test_delete_yes_skips_the_prompt_on_a_terminal(server: Server, user: IssuedToken) -> None:
    victim = server.create_user_token(user.user_id)
    env = _run.environment(server.base_url, user.token)
    result = _run.run_on_tty("delete", "--yes", victim.id, env=env)
    assert result.code == 0, result.tty
    assert "[y/N]" not in result.tty


def test_list_all_shows_progress_only_on_a_terminal(server: Server, user: IssuedToken) -> None:
    for n in range(4):
        server.create_user_token(user.user_id, description=f"t{n}")
    env = _run.environment(server.base_url, user.token)
    args = ("list", "--all", "--json", "--page-size", "2")
    on_tty = _run.run_on_tty(*args, env=env, on_tty=("stderr",))
    assert on_tty.code == 0, on_tty.tty
    assert "listing tokens: 3 pages, 5 tokens" in on_tty.tty
    assert on_tty.tty.endswith("\r\x1b[K")  # the line is erased once done
    assert len(on_tty.out.splitlines()) == 5  # stdout, a file, has only the JSON lines
    piped = _run.run(*args, env=env)
    assert piped.err == ""
    assert _ids(piped.out) == _ids(on_tty.out)


def _ids(json_lines: str) -> list[str]:
    return [json.loads(line)["id"] for line in json_lines.splitlines()]
