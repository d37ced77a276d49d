"""The httpx flavour of the transport: what its two adapters share, and httpx's URL reading.

connectrpc speaks to pyqwest transports; the adapters (``HTTPXAsyncTransport`` in
``_async/_httpx.py``, ``HTTPXSyncTransport`` generated from it) implement pyqwest's
``Transport`` / ``SyncTransport`` protocols on top of a caller's ``httpx`` client, so the
caller's proxies, certificates, event hooks and ``httpx.MockTransport`` apply. They only send
and stream: redirects, the body limit and typed failures are those of ``AsyncTransport`` /
``SyncTransport`` (``_async/_transport.py``), which wrap them, and :class:`HTTPXReader` makes
httpx's own URL parser a party to every redirect decision.
httpx decodes gzip bodies itself; it never follows redirects here.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, TypeAlias

import pyqwest

from ._transport import DEFAULT_PORTS, Origin, RedirectRefused

if TYPE_CHECKING:
    import httpx

    #: httpx's response type, for annotations (httpx is imported only when a client is given).
    HTTPXResponse: TypeAlias = httpx.Response

# Headers that describe the encoded body, which httpx has already decoded.
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class HTTPXReader:
    """httpx's reading of a URL's origin."""

    def origin(self, url: str) -> Origin:
        """The origin httpx connects to for ``url``.

        Raises:
            ValueError: httpx cannot parse the URL.
        """
        import httpx

        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"httpx cannot parse it ({exc})") from None
        port = parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
        return Origin(parsed.scheme, parsed.host, port)


def headers_of(response: httpx.Response) -> pyqwest.Headers:
    """The response's headers, less those of the encoding httpx has already undone."""
    return pyqwest.Headers(
        [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED]
    )


def timeout_of(headers: pyqwest.Headers) -> float | None:
    """The call's remaining budget in seconds, from its ``connect-timeout-ms`` header."""
    # The call's remaining budget, as connectrpc sends it:
    # https://connectrpc.com/docs/protocol/#unary-request
    value = headers.get("connect-timeout-ms")
    return int(value) / 1000 if value is not None and value.isdigit() else None


def mapped(exc: Exception) -> Exception:
    """httpx's exception as the pyqwest transport protocol documents it, by type."""
    text = str(exc) or type(exc).__name__
    for httpx_type, pyqwest_type in _by_type():
        if isinstance(exc, httpx_type):
            return pyqwest_type(text)
    return pyqwest.RemoteProtocolError(text)


def _unreadable_location(exc: Exception) -> RedirectRefused:
    # httpx parses a redirect's Location while it receives the response, even when it does
    # not follow it; the request's own URL was parsed before it was sent.
    return RedirectRefused(f"redirect not followed: httpx cannot read its Location ({exc})")


class Mapped:
    """Around ``httpx.Client.send``: its exceptions as pyqwest's transport protocol says."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        import httpx

        exc = exc_info[1]

        if isinstance(exc, httpx.InvalidURL):
            raise _unreadable_location(exc) from exc
        if isinstance(exc, httpx.HTTPError):
            raise mapped(exc) from exc


@cache
def _by_type() -> tuple[tuple[type[Exception], type[Exception]], ...]:
    import httpx

    return (
        # "Failed to establish a connection": SyncTransport/AsyncTransport make it NotConnected.
        (httpx.ConnectError, ConnectionError),
        (httpx.TimeoutException, TimeoutError),
        (httpx.ReadError, pyqwest.ReadError),
        (httpx.WriteError, pyqwest.WriteError),
    )
