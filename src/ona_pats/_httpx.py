"""Adapters that let connectrpc send through a caller's ``httpx.Client`` / ``httpx.AsyncClient``.

connectrpc speaks to pyqwest transports; these implement pyqwest's ``SyncTransport`` /
``Transport`` protocols on top of httpx, so the caller's proxies, certificates, event hooks
and ``httpx.MockTransport`` apply. httpx decodes gzip bodies; redirects are never followed
here (the client follows 307/308 itself, within one origin); the body is read up to a limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqwest
from pyqwest._pyqwest import get_sync_timeout

from ._exceptions import NotConnectedError, ResponseTooLarge

if TYPE_CHECKING:
    import httpx

# Headers that describe the encoded body, which httpx has already decoded.
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _headers(response: httpx.Response) -> pyqwest.Headers:
    return pyqwest.Headers(
        [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED]
    )


def _request_body(content: bytes | object) -> bytes:
    if isinstance(content, bytes):
        return content
    return b"".join(content)  # type: ignore[arg-type]


class _Limit:
    __slots__ = ("buf", "limit", "status")

    def __init__(self, limit: int | None) -> None:
        self.buf = bytearray()
        self.limit = limit
        self.status = 0

    def feed(self, chunk: bytes) -> None:
        self.buf.extend(chunk)
        if self.limit is not None and len(self.buf) > self.limit:
            raise ResponseTooLarge(self.limit, self.status)


def _map_httpx_error(exc: Exception) -> Exception:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(str(exc) or "timed out")
    if isinstance(exc, httpx.ConnectError):
        return NotConnectedError(str(exc) or "could not connect")
    return ConnectionError(str(exc) or type(exc).__name__)


class HTTPXSyncTransport:
    """A pyqwest ``SyncTransport`` that sends through an ``httpx.Client``.

    Args:
        client: the caller's client; the caller closes it.
        read_max_bytes: the largest response body read (``None``: no limit).
    """

    def __init__(self, client: httpx.Client, read_max_bytes: int | None = None) -> None:
        self._client = client
        self._read_max_bytes = read_max_bytes

    def execute_sync(self, request: pyqwest.SyncRequest) -> pyqwest.SyncResponse:
        """Send one request and return the buffered response.

        Raises:
            TimeoutError: httpx timed out.
            ConnectionError: any other httpx transport error.
            ResponseTooLarge: the body exceeded the read limit.
        """
        import httpx

        timeout = get_sync_timeout()
        built = self._client.build_request(
            request.method,
            request.url,
            headers=list(request.headers.items()),
            content=_request_body(request.content),
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout.total_seconds(),
        )
        limit = _Limit(self._read_max_bytes)
        try:
            response = self._client.send(built, stream=True, follow_redirects=False)
            limit.status = response.status_code
            try:
                for chunk in response.iter_bytes():
                    limit.feed(chunk)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise _map_httpx_error(exc) from exc
        return pyqwest.SyncResponse(
            status=response.status_code, headers=_headers(response), content=bytes(limit.buf)
        )


class HTTPXAsyncTransport:
    """A pyqwest ``Transport`` that sends through an ``httpx.AsyncClient``.

    Args:
        client: the caller's client; the caller closes it.
        read_max_bytes: the largest response body read (``None``: no limit).
    """

    def __init__(self, client: httpx.AsyncClient, read_max_bytes: int | None = None) -> None:
        self._client = client
        self._read_max_bytes = read_max_bytes

    async def execute(self, request: pyqwest.Request) -> pyqwest.Response:
        """Send one request and return the buffered response.

        Raises:
            TimeoutError: httpx timed out.
            ConnectionError: any other httpx transport error.
            ResponseTooLarge: the body exceeded the read limit.
        """
        import httpx

        content = request.content
        if not isinstance(content, bytes):
            content = b"".join([chunk async for chunk in content])
        built = self._client.build_request(
            request.method, request.url, headers=list(request.headers.items()), content=content
        )
        limit = _Limit(self._read_max_bytes)
        try:
            response = await self._client.send(built, stream=True, follow_redirects=False)
            limit.status = response.status_code
            try:
                async for chunk in response.aiter_bytes():
                    limit.feed(chunk)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _map_httpx_error(exc) from exc
        return pyqwest.Response(
            status=response.status_code, headers=_headers(response), content=bytes(limit.buf)
        )
