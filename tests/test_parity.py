"""Point 8, the async client has the same API: ``inspect.signature`` of every public pair."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import ona_pats

PAIRS = [
    (ona_pats.Client, ona_pats.AsyncClient),
    (ona_pats.Users, ona_pats.AsyncUsers),
    (ona_pats.Pats, ona_pats.AsyncPats),
    (ona_pats.PatsWithRawResponse, ona_pats.AsyncPatsWithRawResponse),
    (ona_pats.Pager, ona_pats.AsyncPager),
]
# Names that differ by design, as in httpx: close/aclose, __enter__/__aenter__, ...
RENAMED = {
    "close": "aclose",
    "__enter__": "__aenter__",
    "__exit__": "__aexit__",
    "__iter__": "__aiter__",
}


def _public(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    return names | {n for n in RENAMED.values() | RENAMED.keys() if n in vars(cls)}


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=lambda c: c.__name__)
def test_same_public_names(sync: type, async_: type) -> None:
    renamed = {RENAMED.get(n, n) for n in _public(sync)}
    assert renamed == _public(async_)


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=lambda c: c.__name__)
def test_same_signatures(sync: type, async_: type) -> None:
    for name in _public(sync):
        sync_member = getattr(sync, name)
        async_member = getattr(async_, RENAMED.get(name, name))
        if isinstance(sync_member, property | type) or not callable(sync_member):
            continue
        if name in RENAMED:
            continue
        assert _shape(sync_member) == _shape(async_member), name


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=lambda c: c.__name__)
def test_same_constructor(sync: type, async_: type) -> None:
    assert _shape(vars(sync)["__init__"]) == _shape(vars(async_)["__init__"])


@pytest.mark.parametrize("name", ["list", "get", "create", "delete", "rotate"])
def test_async_methods_are_coroutines_and_sync_are_not(name: str) -> None:
    sync_member = getattr(ona_pats.Pats, name)
    async_member = getattr(ona_pats.AsyncPats, name)
    assert not inspect.iscoroutinefunction(sync_member)
    assert inspect.iscoroutinefunction(async_member) == (name != "list")
