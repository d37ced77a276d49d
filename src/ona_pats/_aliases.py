"""Type aliases used in the public signatures of ona_pats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeAlias, TypedDict

#: The wire encoding: binary protobuf (``application/proto``) or JSON (``application/json``).
WireProtocol: TypeAlias = Literal["proto", "json"]

#: A blocking sleep, ``time.sleep`` by default; tests inject one that does not wait.
SyncSleep: TypeAlias = Callable[[float], None]

#: An awaitable sleep, ``asyncio.sleep`` by default.
AsyncSleep: TypeAlias = Callable[[float], Awaitable[None]]


class PatListFilter(TypedDict, total=False):
    """The ``filter`` argument of ``pats.list``: only the tokens of these users (as many as
    the schema's rule on ``Filter.user_ids`` allows)."""

    user_ids: Sequence[str]
