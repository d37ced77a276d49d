"""Helpers of the reliability tests: an audited fault proxy and process statistics."""

from __future__ import annotations

import os
from pathlib import Path

from ._audit import AUDIT
from ._faultproxy import FaultProxy
from ._settings import OVERSIZED_BYTES


def proxied(upstream: str, *, delay: float = 30.0) -> FaultProxy:
    """A fault proxy whose forwarded bearer tokens join the secret audit when it stops."""
    return _AuditedProxy(upstream, delay=delay, oversized_bytes=OVERSIZED_BYTES)


class _AuditedProxy(FaultProxy):
    def stop(self) -> None:
        super().stop()
        for exchange in self.exchanges:
            AUDIT.secret(exchange.headers.get("authorization"))


def open_fds() -> list[str]:
    """What each open file descriptor of this process points to (``socket:[...]``, paths)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed between listdir and readlink (the listdir fd itself)
            continue
    return found


def open_sockets() -> int:
    """How many sockets this process has open."""
    return sum(1 for target in open_fds() if target.startswith("socket:"))


def rss_bytes() -> int:
    """The resident set size of this process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


class Hidden:
    """A secret handed to a hypothesis test, whose falsifying-example report prints its repr."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Hidden(<secret>)"
