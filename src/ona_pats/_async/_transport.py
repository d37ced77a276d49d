"""The transport every call goes through: redirects, the body limit, typed failures.

A pyqwest transport over another one (pyqwest's own, or the httpx adapter). What it decides
is ``_transport``'s (sans-I/O): the redirect target, the body limit, the error body check, the
cold start; this only sends and reads.
"""

from __future__ import annotations

import pyqwest

from ona_pats._transport import (
    DEFAULT_MAX_REDIRECTS,
    NO_TRAILERS,
    REDIRECT_STATUSES,
    AsyncEvent,
    Budget,
    ColdStart,
    NotConnected,
    Policy,
    URLReader,
    await_turn,
    record,
)


class AsyncTransport:
    """A pyqwest transport over another one: redirects, body limit, typed failures.

    Args:
        inner: the transport that sends (pyqwest's, or the httpx adapter).
        read_max_bytes: the largest body read (``None``: no limit).
        reader: a second URL reading that must agree on redirect origins (httpx's), if any.
    """

    __slots__ = ("_cold", "_inner", "_policy")

    def __init__(
        self,
        inner: pyqwest.Transport,
        read_max_bytes: int | None,
        reader: URLReader | None = None,
    ) -> None:
        self._inner = inner
        self._policy = Policy(read_max_bytes, reader, DEFAULT_MAX_REDIRECTS)
        self._cold = ColdStart(AsyncEvent)

    async def execute(self, request: pyqwest.Request) -> pyqwest.Response:
        """Send ``request`` (pyqwest's transport protocol); see :meth:`fetch`."""
        content = request.content
        if not isinstance(content, bytes):
            content = b"".join([chunk async for chunk in content])
        full = await self.fetch(request.method, request.url, request.headers, content)
        return pyqwest.Response(status=full.status, headers=full.headers, content=full.content)

    async def fetch(
        self, method: str, url: str, headers: pyqwest.Headers | None, content: bytes | None
    ) -> pyqwest.FullResponse:
        """Send a request, following same-origin 307/308 redirects; read the body, bounded.

        Raises:
            NotConnected: no connection could be established.
            RedirectRefused: a redirect that is not followed.
            ResponseTooLarge: the body is over the limit.
            UnknownErrorCode: an error body with a code this version does not know.
        """
        hops = 0
        while True:
            response = await self._send(pyqwest.Request(method, url, headers, content))
            if response.status not in REDIRECT_STATUSES:
                info = record(response.status, response.headers)
                full = await self._read(response)
                if info is not None:
                    info.body_read = True
                return full
            await response.aclose()
            url = self._policy.redirect_target(url, response.status, response.headers, hops)
            hops += 1

    async def _send(self, request: pyqwest.Request) -> pyqwest.Response:
        wait, lead = self._cold.enter()
        if wait is not None:
            await await_turn(wait)
        try:
            response = await self._inner.execute(request)
        except ConnectionError as exc:  # pyqwest: "If the connection fails"
            raise NotConnected(f"could not connect: {exc}") from exc
        finally:
            self._cold.leave(lead)
        self._cold.answered()
        return response

    async def _read(self, response: pyqwest.Response) -> pyqwest.FullResponse:
        status, headers = response.status, response.headers
        budget = Budget(self._policy.limit, status, headers)
        try:
            length = self._policy.declared(headers, status)
            chunks = response.content
            if length is None:
                async for chunk in chunks:
                    budget.take(chunk)
            else:
                # Stop at the declared length instead of waiting for the end of the stream:
                # every step here crosses into the transport's runtime and back.
                got = 0
                while got < length:
                    try:
                        chunk = await anext(chunks)
                    except StopAsyncIteration:  # a cut body must not decode as a shorter one
                        raise pyqwest.ReadError(
                            f"the response body ended after {got} of its {length} bytes"
                        ) from None
                    budget.take(chunk)
                    got += len(chunk)
        except BaseException:
            await response.aclose()
            raise
        return pyqwest.FullResponse(status, headers, budget.body(), NO_TRAILERS)
