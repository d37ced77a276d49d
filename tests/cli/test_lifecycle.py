"""``ona-pats audit`` and ``ona-pats prune`` against the embedded server, seeded with expired,
unused, never-used and read-only tokens; prune also through a proxy that fails 20 % of deletes."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ona_pats.server import Server
from ona_pats.server._store import Row
from tests.reliability._faultproxy import Fault, FaultProxy

from . import _run

DAY_NS = 86_400 * 10**9
HOUR_NS = 3600 * 10**9
DELETE = "DeletePersonalAccessToken"


@dataclass(frozen=True)
class Estate:
    """A fresh server with two users' seeded tokens; the CLI runs with the admin token."""

    server: Server
    u: str
    v: str
    ids: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        assert self.server.admin_token is not None
        return _run.environment(self.server.base_url, self.server.admin_token)

    def remaining(self) -> set[str]:
        """The ids of every token in the store now."""
        return {pat.id for pat in self.server.store.list(None, None, 10_000)}


def _row(
    user_id: str,
    name: str,
    now: int,
    *,
    created: int,
    expires: int | None,
    used: int | None,
    read_only: bool = False,
) -> Row:
    return (
        str(uuid.uuid4()),
        user_id,
        name,
        user_id,
        1,  # PRINCIPAL_USER
        now + created,
        None if expires is None else now + expires,
        None if used is None else now + used,
        int(read_only),
        0,
        secrets.token_hex(8),
        secrets.token_bytes(32),  # no secret matches a random digest
    )


def _seed(server: Server, u: str, v: str) -> dict[str, str]:
    now = server.store.clock()
    rows = {
        "u_expired": _row(
            u, "u expired", now, created=-40 * DAY_NS, expires=-DAY_NS, used=-10 * DAY_NS
        ),
        "u_never": _row(
            u, "u never used", now, created=-5 * DAY_NS, expires=20 * DAY_NS, used=None
        ),
        "u_unused": _row(
            u, "u unused", now, created=-150 * DAY_NS, expires=30 * DAY_NS, used=-120 * DAY_NS
        ),
        "u_soon": _row(
            u, "u soon", now, created=-80 * DAY_NS, expires=3 * DAY_NS, used=-DAY_NS, read_only=True
        ),
        "u_ok": _row(
            u, "u ok", now, created=-10 * DAY_NS, expires=60 * DAY_NS, used=-HOUR_NS, read_only=True
        ),
        "v_expired": _row(
            v,
            "v expired",
            now,
            created=-100 * DAY_NS,
            expires=-30 * DAY_NS,
            used=None,
            read_only=True,
        ),
        "v_never_ro": _row(
            v,
            "v never ro",
            now,
            created=-2 * DAY_NS,
            expires=60 * DAY_NS,
            used=None,
            read_only=True,
        ),
    }
    server.store.insert_rows(list(rows.values()))
    return {name: row[0] for name, row in rows.items()}


@pytest.fixture
def estate() -> Iterator[Estate]:
    with Server(port=0) as srv:
        u, v = str(uuid.uuid4()), str(uuid.uuid4())
        yield Estate(srv, u, v, _seed(srv, u, v))


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# --- audit ------------------------------------------------------------------------------------


def test_audit_json_counts_per_user_and_orders_the_risks(estate: Estate) -> None:
    result = _run.run("audit", "--json", env=estate.env)
    assert result.code == 7, result.err
    report = json.loads(result.out)
    users = {user["userId"]: user for user in report["users"]}
    assert users[estate.u] == {
        "userId": estate.u,
        "tokens": 5,
        "active": 4,
        "expiringSoon": 1,
        "expired": 1,
        "neverUsed": 1,
        "unused": 1,
        "readWrite": 3,
        "readOnly": 2,
    }
    assert users[estate.v] == {
        "userId": estate.v,
        "tokens": 2,
        "active": 1,
        "expiringSoon": 0,
        "expired": 1,
        "neverUsed": 2,
        "unused": 0,
        "readWrite": 0,
        "readOnly": 2,
    }
    attention = [(item["reason"], item["id"]) for item in report["attention"]]
    ids = estate.ids
    assert attention == [
        ("expired", ids["v_expired"]),  # expired longest ago first
        ("expired", ids["u_expired"]),
        ("never_used_read_write", ids["u_never"]),
        ("unused", ids["u_unused"]),
        ("expiring_soon", ids["u_soon"]),
    ]
    assert report["expiringWithinSeconds"] == 7 * 86400
    assert report["unusedForSeconds"] == 90 * 86400
    first = report["attention"][0]
    assert first["expiresAt"].endswith("Z")
    assert first["lastUsed"] is None
    assert set(first) == {
        "reason", "id", "userId", "description", "createdAt", "expiresAt", "lastUsed", "readOnly"
    }  # fmt: skip


def test_audit_windows_change_what_needs_attention(estate: Estate) -> None:
    argv = ("audit", "--json", "--expiring-within", "1d", "--unused-for", "200d")
    report = json.loads(_run.run(*argv, env=estate.env).out)
    reasons = {item["id"]: item["reason"] for item in report["attention"]}
    assert estate.ids["u_soon"] not in reasons
    assert estate.ids["u_unused"] not in reasons
    assert reasons[estate.ids["u_never"]] == "never_used_read_write"


def test_audit_table_on_a_terminal(estate: Estate) -> None:
    result = _run.run_on_tty("audit", env=estate.env, on_tty=("stdout",))
    assert result.code == 7
    assert "Needs attention (5), riskiest first:" in result.tty
    assert "all users" in result.tty
    table = result.tty[result.tty.index("Needs attention") :].splitlines()[2:]
    assert [line.split()[0] for line in table if line.strip()] == [
        "expired",
        "expired",
        "never_used_read_write",
        "unused",
        "expiring_soon",
    ]


def test_audit_exits_0_when_nothing_needs_attention() -> None:
    with Server(port=0) as srv:
        assert srv.admin_token is not None
        env = _run.environment(srv.base_url, srv.admin_token)
        result = _run.run("audit", env=env)
    assert result.code == 0, result.err
    assert "Nothing needs attention." in result.out


# --- prune ------------------------------------------------------------------------------------


def test_prune_dry_run_lists_exactly_and_deletes_nothing(estate: Estate) -> None:
    before = estate.remaining()
    result = _run.run("prune", "--expired", "--dry-run", "--json", env=estate.env)
    assert result.code == 0, result.err
    lines = _lines(result.out)
    assert {line["id"] for line in lines} == {estate.ids["u_expired"], estate.ids["v_expired"]}
    assert {line["outcome"] for line in lines} == {"would_delete"}
    assert estate.remaining() == before


def test_prune_yes_deletes_exactly_the_matching_set(estate: Estate) -> None:
    before = estate.remaining()
    argv = ("prune", "--expired", "--never-used", "--unused-for", "90d", "--yes", "--json")
    result = _run.run(*argv, env=estate.env)
    assert result.code == 0, result.err
    ids = estate.ids
    expected = {
        ids[name] for name in ("u_expired", "v_expired", "u_never", "v_never_ro", "u_unused")
    }
    lines = _lines(result.out)
    assert {line["id"] for line in lines} == expected
    assert {line["outcome"] for line in lines} == {"deleted"}
    assert estate.remaining() == before - expected
    assert "Deleted 5 of 5 tokens." in result.err


def test_prune_user_id_rules_keep_the_callers_own_token(estate: Estate) -> None:
    server = estate.server
    spare = server.create_user_token(server.admin_user_id, description="spare admin token")
    result = _run.run("prune", "--user-id", server.admin_user_id, "--yes", env=estate.env)
    assert result.code == 0, result.err
    remaining = estate.remaining()
    assert spare.id not in remaining
    own = [pat for pat in server.store.list(None, None, 100) if pat.user_id == server.admin_user_id]
    assert len(own) == 1  # the caller's own token survives
    assert f"keeping {own[0].id}: in use" in result.err
    assert "the caller's own token is among these" in result.err


def test_prune_keep_protects_a_named_token(estate: Estate) -> None:
    keep = estate.ids["u_expired"]
    result = _run.run("prune", "--expired", "--keep", keep, "--yes", env=estate.env)
    assert result.code == 0, result.err
    assert keep in estate.remaining()
    assert estate.ids["v_expired"] not in estate.remaining()


def test_prune_without_a_terminal_refuses_unless_yes(estate: Estate) -> None:
    before = estate.remaining()
    result = _run.run("prune", "--expired", env=estate.env)
    assert result.code == 2
    assert "pass --yes" in result.err
    assert estate.remaining() == before


def test_prune_needs_a_rule(estate: Estate) -> None:
    result = _run.run("prune", "--yes", env=estate.env)
    assert result.code == 2
    assert "prune needs a rule" in result.err


@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_prune_on_a_terminal_shows_the_list_and_asks_once(
    estate: Estate, answer: str, code: int
) -> None:
    before = estate.remaining()
    result = _run.run_on_tty("prune", "--expired", env=estate.env, answer=answer)
    assert result.code == code, result.tty
    assert result.tty.count("[y/N]") == 1
    assert "u expired" in result.tty
    assert "v expired" in result.tty
    expired = {estate.ids["u_expired"], estate.ids["v_expired"]}
    assert estate.remaining() == (before if answer == "n" else before - expired)


def test_prune_through_failing_deletes_reports_each_token_honestly(estate: Estate) -> None:
    """20 % of deletes fail at the proxy: refused with a 503 (never forwarded), or the
    connection dropped after the server got the request (deleted, but no answer)."""
    server = estate.server
    server.store.insert_rows(
        [
            _row(
                estate.u, f"bulk {n}", server.store.clock(), created=-DAY_NS, expires=-1, used=None
            )
            for n in range(60)
        ]
    )
    with FaultProxy(server.base_url) as proxy:
        proxy.set_rate(0.2, (Fault.UNAVAILABLE_503, Fault.DROP_AFTER_FORWARD), rpcs={DELETE})
        assert server.admin_token is not None
        env = _run.environment(proxy.url, server.admin_token)
        result = _run.run("prune", "--expired", "--yes", "--json", "--concurrency", "8", env=env)
        faults = proxy.faults()
    assert result.code == 8, result.err
    lines = {line["id"]: line for line in _lines(result.out)}
    assert len(lines) == 62  # 60 bulk + the two seeded expired ones, each reported once
    remaining = estate.remaining()
    by_outcome: dict[str, set[str]] = {}
    for pat_id, line in lines.items():
        by_outcome.setdefault(line["outcome"], set()).add(pat_id)
        assert (line["error"] is None) is (line["outcome"] == "deleted")
    assert by_outcome["deleted"].isdisjoint(remaining)
    assert by_outcome["failed"] <= remaining  # refused by the proxy: still there
    assert by_outcome["unknown"].isdisjoint(remaining)  # the server did delete these
    assert len(by_outcome["failed"]) == faults[Fault.UNAVAILABLE_503]
    assert len(by_outcome["unknown"]) == faults[Fault.DROP_AFTER_FORWARD]
    assert faults[Fault.UNAVAILABLE_503]
    assert faults[Fault.DROP_AFTER_FORWARD]
    assert remaining & set(lines) == by_outcome["failed"]
    assert f"{len(by_outcome['failed'])} failed, {len(by_outcome['unknown'])} unknown" in result.err
