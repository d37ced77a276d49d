"""``ona-pats demo``: a guided tour of the API against a throwaway embedded server.

It starts :mod:`ona_pats.server` on a free loopback port with a fresh SQLite file in a
temporary directory, creates tokens for two users, lists them page by page over binary
protobuf and over JSON, gets one, shows a read-only token refused a delete, deletes one and
stops the server. Nothing outside the temporary directory is touched; no network beyond
loopback is used.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from ona_pats import Client
from ona_pats._aliases import WireProtocol
from ona_pats._exceptions import NotFoundError, PermissionDeniedError
from ona_pats._json import to_json
from ona_pats._schema import user_pb2

from . import _format as fmt

_PAGE_SIZE = 3
_LOOPBACK = "127.0.0.1,localhost,::1"


@dataclass(frozen=True)
class _User:
    name: str
    id: str
    token: str
    first_id: str


class _Tour:
    """The demo's steps, printing as they go; one method per step."""

    def __init__(self, base_url: str, admin_token: str, out: IO[str]) -> None:
        self.base_url = base_url
        self.admin_token = admin_token
        self.out = out
        self.now = datetime.now(UTC)
        self.names: dict[str, str] = {}
        self.secrets: dict[tuple[str, str], str] = {}

    # -- printing ---------------------------------------------------------------------------

    def say(self, text: str = "", indent: int = 0) -> None:
        """Print ``text``, every line indented by ``indent`` spaces."""
        for line in text.splitlines() or [""]:
            print(" " * indent + line if line else "", file=self.out)
        self.out.flush()

    def step(self, number: int, title: str) -> None:
        """Print a step heading."""
        self.say()
        self.say(f"{number}. {title}")

    def client(self, token: str, protocol: WireProtocol = "proto") -> Client:
        """A client of the demo server with ``token``, over ``protocol``."""
        return Client(base_url=self.base_url, token=token, protocol=protocol)

    def label(self, pat: user_pb2.PersonalAccessToken) -> str:
        """A one-line summary of a token for the demo's output."""
        owner = self.names.get(pat.user_id, pat.user_id[:8])
        expires = fmt.to_datetime(pat, "expires_at")
        flags = ", read-only" if pat.read_only else ""
        life = f"expires {fmt.relative(expires, self.now)}" if expires else "never expires"
        return f"{pat.id[:8]}…  {owner:<5}  {pat.description:<22} {life}{flags}"

    # -- the steps --------------------------------------------------------------------------

    def create_users(self) -> tuple[_User, _User]:
        """Step 1: the admin issues a first token to two users, who then make their own."""
        self.step(1, "Create tokens for two users")
        with self.client(self.admin_token) as admin:
            alice, bob = (self._first_token(admin, name) for name in ("alice", "bob"))
        plans = {
            alice: [("ci", 30, False), ("deploy", 60, False), ("metrics dashboard", 90, True)],
            bob: [("release", 30, False), ("audit (read-only)", 7, True)],
        }
        for user, tokens in plans.items():
            with self.client(user.token) as client:
                for description, days, read_only in tokens:
                    self.secrets[user.name, description] = client.users.pats.create(
                        user_id=user.id,
                        description=description,
                        valid_for=timedelta(days=days),
                        read_only=read_only,
                    )
            made = ", ".join(f'"{description}"' for description, _, _ in tokens)
            self.say(f"{user.name}, signed in with that token, created {made}", 3)
        self.say("Each secret is returned once, by Create; the server keeps only a keyed hash.", 3)
        return alice, bob

    def _first_token(self, admin: Client, name: str) -> _User:
        user_id = str(uuid.uuid4())
        self.names[user_id] = name
        secret = admin.users.pats.create(
            user_id=user_id, description=f"{name}'s laptop", valid_for=timedelta(days=30)
        )
        self.say(f'{name:<5} (user {user_id}): the admin token created "{name}\'s laptop"', 3)
        self.say(f"secret {secret[:14]}… (shown once; shortened here)", 11)
        with self.client(secret) as client:
            (first,) = client.users.pats.list()
        return _User(name, user_id, secret, first.id)

    def list_pages(self, users: tuple[_User, ...], protocol: WireProtocol, title: str) -> list[str]:
        """Steps 2 and 3: list both users' tokens page by page; return the ids in order."""
        self.say(f"The admin token lists filter.user_ids = [alice, bob], {_PAGE_SIZE} per page:", 3)
        with self.client(self.admin_token, protocol) as admin:
            pager = admin.users.pats.list(
                filter={"user_ids": [user.id for user in users]}, page_size=_PAGE_SIZE
            )
            ids: list[str] = []
            for number, page in enumerate(pager.pages(), start=1):
                more = f"next token {page.next_token[:10]}…" if page.next_token else "last page"
                self.say(f"page {number} ({_plural(len(page.items), 'token')}, {more})", 3)
                for pat in page.items:
                    self.say(self.label(pat), 5)
                    ids.append(pat.id)
        self.say(f"{_plural(len(ids), 'token')} in {_plural(number, 'page')} {title}", 3)
        return ids

    def get_one(self, user: _User, other: _User) -> None:
        """Step 4: a user gets one of their tokens, then fails to see another user's."""
        with self.client(user.token) as client:
            owned = [pat for pat in client.users.pats.list() if pat.description == "ci"]
            pat = client.users.pats.get(personal_access_token_id=owned[0].id)
            self.say(f'{user.name} gets her "ci" token:', 3)
            self.say(fmt.render_details(pat, datetime.now(UTC)), 5)
            self.say("the same token as JSON, in the shape of Ona's API reference:", 3)
            self.say(to_json(pat, indent=2), 5)
            try:
                client.users.pats.get(personal_access_token_id=other.first_id)
            except NotFoundError as exc:
                self.say(f"{user.name} asks for one of {other.name}'s tokens: {exc.code.value}", 3)

    def read_only_refused(self, bob: _User) -> str:
        """Step 5: bob's read-only token may list but not delete; returns the target's id."""
        with self.client(bob.token) as client:
            pats = {pat.description: pat for pat in client.users.pats.list()}
        read_only = self.secrets["bob", "audit (read-only)"]
        target = pats["release"]
        with self.client(read_only) as client:
            seen = len(list(client.users.pats.list()))
            self.say(f"bob's read-only token lists his {seen} tokens: allowed", 3)
            try:
                client.users.pats.delete(personal_access_token_id=target.id)
            except PermissionDeniedError as exc:
                self.say(
                    f'deleting "release" with it: refused ({exc.code.value}: {exc.message})', 3
                )
            else:
                raise AssertionError("a read-only token was allowed to delete")
        return target.id

    def delete_one(self, bob: _User, pat_id: str) -> None:
        """Step 6: bob deletes the token with a read-write token; it is gone afterwards."""
        with self.client(bob.token) as client:
            client.users.pats.delete(personal_access_token_id=pat_id)
            self.say(f'bob deleted "release" ({pat_id})', 3)
            try:
                client.users.pats.get(personal_access_token_id=pat_id)
            except NotFoundError as exc:
                self.say(f"getting it again: {exc.code.value}", 3)
            left = len(list(client.users.pats.list()))
        self.say(f"bob has {left} tokens left", 3)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@contextmanager
def _no_proxy_for_loopback() -> Iterator[None]:
    """Keep the demo's loopback calls away from any HTTP(S)_PROXY set in the environment."""
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name, value in saved.items():
        os.environ[name] = f"{value},{_LOOPBACK}" if value else _LOOPBACK
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _server(out: IO[str]) -> Iterator[tuple[str, str]]:
    """Run the embedded server on a free loopback port with a fresh SQLite file."""
    from ona_pats.server import Server

    with tempfile.TemporaryDirectory(prefix="ona-pats-demo-") as tmp:
        db = Path(tmp) / "demo.sqlite3"
        print(f"Starting the embedded UserService server on a fresh SQLite file, {db}", file=out)
        with Server(db, port=0) as server:
            assert server.admin_token is not None  # a fresh database has a new admin token
            print(f"   listening on {server.base_url} (loopback only)", file=out)
            yield server.base_url, server.admin_token
            print("\nStopping the server...", file=out)
        print("Stopped cleanly; the temporary database is removed.", file=out)


def run_demo(out: IO[str] | None = None) -> int:
    """Run the demo, printing to ``out`` (default stdout).

    Returns:
        0 on success; any failure raises.
    """
    stream = sys.stdout if out is None else out
    print("ona-pats demo: Ona's personal access token API against a local server\n", file=stream)
    with _no_proxy_for_loopback(), _server(stream) as (base_url, admin_token):
        tour = _Tour(base_url, admin_token, stream)
        alice, bob = tour.create_users()
        tour.step(
            2, "List both users' tokens page by page over binary protobuf (application/proto)"
        )
        ids = tour.list_pages((alice, bob), "proto", "over protobuf")
        tour.step(3, "The same listing over JSON (application/json)")
        same = tour.list_pages((alice, bob), "json", "over JSON")
        tour.say("Same tokens, same order, with either codec." if same == ids else "DIFFERENT!", 3)
        tour.step(4, "Get one token")
        tour.get_one(alice, bob)
        tour.step(5, "A read-only token is refused a delete")
        target = tour.read_only_refused(bob)
        tour.step(6, "Delete a token")
        tour.delete_one(bob, target)
    print("Done.", file=stream)
    return 0
