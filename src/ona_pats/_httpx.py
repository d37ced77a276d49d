"""The httpx flavour of the transport: send through a caller's ``httpx.Client`` / ``AsyncClient``.

connectrpc speaks to pyqwest transports; these implement pyqwest's ``SyncTransport`` /
``Transport`` protocols on top of httpx, so the caller's proxies, certificates, event hooks
and ``httpx.MockTransport`` apply. They only send and stream: redirects, the body limit and
typed failures are ``_transport.SyncTransport`` / ``AsyncTransport``'s, which wrap them, and
:class:`HTTPXReader` makes httpx's own URL parser a party to every redirect decision.
httpx decodes gzip bodies itself; it never follows redirects here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import TYPE_CHECKING

import pyqwest

from ._transport import DEFAULT_PORTS, Origin, RedirectRefused

if TYPE_CHECKING:
    import httpx

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


def _headers(response: httpx.Response) -> pyqwest.Headers:
    return pyqwest.Headers(
        [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED]
    )


def _timeout(headers: pyqwest.Headers) -> float | None:
    # The call's remaining budget, as connectrpc sends it:
    # https://connectrpc.com/docs/protocol/#unary-request
    value = headers.get("connect-timeout-ms")
    return int(value) / 1000 if value is not None and value.isdigit() else None


def _mapped(exc: Exception) -> Exception:
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


class _Mapped:
    """Around ``httpx.Client.send``: its exceptions as pyqwest's transport protocol says."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        import httpx

        exc = exc_info[1]

        if isinstance(exc, httpx.InvalidURL):
            raise _unreadable_location(exc) from exc
        if isinstance(exc, httpx.HTTPError):
            raise _mapped(exc) from exc


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


class HTTPXSyncTransport:
    """A pyqwest ``SyncTransport`` that sends through an ``httpx.Client``.

    Args:
        client: the caller's client; the caller closes it.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def execute_sync(self, request: pyqwest.SyncRequest) -> pyqwest.SyncResponse:
        """Send one request; the response streams its body.

        Raises:
            ConnectionError: no connection could be established.
            TimeoutError: httpx timed out.
            pyqwest.ReadError, pyqwest.WriteError, pyqwest.RemoteProtocolError: the other
                httpx transport errors.
        """
        import httpx

        content = request.content
        timeout = _timeout(request.headers)
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=content if isinstance(content, bytes) else b"".join(content),
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        with _Mapped():
            response = self._client.send(built, stream=True, follow_redirects=False)
        return pyqwest.SyncResponse(
            status=response.status_code, headers=_headers(response), content=_stream(response)
        )


def _stream(response: httpx.Response) -> Iterator[bytes]:
    import httpx

    try:
        yield from response.iter_bytes()
    except httpx.HTTPError as exc:
        raise _mapped(exc) from exc
    finally:
        response.close()


class HTTPXAsyncTransport:
    """A pyqwest ``Transport`` that sends through an ``httpx.AsyncClient``.

    Args:
        client: the caller's client; the caller closes it.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def execute(self, request: pyqwest.Request) -> pyqwest.Response:
        """Send one request, as :meth:`HTTPXSyncTransport.execute_sync` does."""
        import httpx

        content = request.content
        if not isinstance(content, bytes):
            content = b"".join([chunk async for chunk in content])
        timeout = _timeout(request.headers)
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=content,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        with _Mapped():
            response = await self._client.send(built, stream=True, follow_redirects=False)
        return pyqwest.Response(
            status=response.status_code, headers=_headers(response), content=_astream(response)
        )


async def _astream(response: httpx.Response) -> AsyncIterator[bytes]:
    import httpx

    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise _mapped(exc) from exc
    finally:
        await response.aclose()
